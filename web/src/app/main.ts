// The case app (`/app/`): the shell around the screens. It registers the service worker (the
// app opens with no network after its first load), signs the worker in or unlocks the device
// with the PIN, starts the session on the encrypted store, shows the sync state, locks itself
// when idle and wipes the device at sign-out or when the server revoked it; then it mounts the
// screens with an AppContext.

import { showError } from "../ui"
import { Attachments, setAttachments } from "./attachments/service"
import type { AppContext } from "./context"
import { askPersistentStorage, openDevice } from "./gate"
import { showActions, showSyncState, showWho } from "./header"
import { startIdleLock } from "./idle-lock"
import { mountCaseApp } from "./screens"
import { startSession, type Session } from "./session"
import { registerServiceWorker } from "./service-worker"
import { showWipeNotice, wipeDevice } from "./wipe"
import "../style.css"

const HOME = "/app/"

const SIGN_OUT_QUESTION =
  "Wylogowanie usunie z tego urządzenia wszystkie dane spraw. Zmiany, których jeszcze nie " +
  "wysłano na serwer, przepadną. Wylogować?"

async function main(): Promise<void> {
  showWipeNotice()
  void registerServiceWorker()
  const unlocked = await openDevice(document.getElementById("gate") as HTMLElement)
  let session: Session | undefined
  const wipe = (reason: "wylogowano" | "odwolane") =>
    wipeDevice(HOME, reason, () => {
      session?.disconnect()
      unlocked.vault.close()
    })
  session = await startSession(unlocked, () => void wipe("odwolane"))
  const { repo, me, tokens, sync } = session
  // Attachments' files: kept in the same vault, sent whenever online (and once a case synced).
  const files = new Attachments(unlocked.vault.blobs(), tokens)
  setAttachments(files)
  files.start()
  sync.subscribe(state => {
    if (state.kind === "synced") files.kick()
  })
  void askPersistentStorage()

  const lock = async () => {
    await repo.flush().catch(() => undefined)
    location.reload()
  }
  showWho(me)
  sync.subscribe(showSyncState)
  showActions({
    lock: () => void lock(),
    signOut: () => {
      if (confirm(SIGN_OUT_QUESTION)) void wipe("wylogowano")
    },
  })
  startIdleLock(() => void lock())

  const context: AppContext = {
    repo,
    me,
    tokens,
    documents: session.documents,
    onSyncState: listener => sync.subscribe(listener),
    caseloadIndex: { load: () => unlocked.vault.get("caseload"), save: rows => unlocked.vault.put("caseload", rows) },
  }
  const root = document.getElementById("screens") as HTMLElement
  root.hidden = false
  await mountCaseApp(root, context)
}

main().catch(error => showError((error as Error)?.message ?? String(error)))
