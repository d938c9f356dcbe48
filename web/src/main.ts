// The remote PZK meeting page: log in with a one-time code (and choose a PIN) or unlock the
// device with the PIN, pick a meeting, meet. The PZK documents live in the device's encrypted
// store (shared with the case app), so edits made offline survive closing the tab.
//
// Routes (the server serves this page at each): `/` logs in or lists the meetings,
// `/meeting/{documentId}/{meetingId}` opens one meeting.

import type { AutomergeUrl, DocHandle, Repo } from "@automerge/automerge-repo/slim"

import { ApiError, type DocumentEntry } from "./api"
import { openDevice } from "./app/gate"
import { showWho } from "./app/header"
import { startSession, type Session } from "./app/session"
import { registerMeetingServiceWorker } from "./app/service-worker"
import { showWipeNotice, wipeDevice } from "./app/wipe"
import { MeetingView } from "./meeting"
import { MEETING_MODE, meetingIds, str, type PzkDoc } from "./pzk"
import { el, showConnection, showError } from "./ui"
import "./style.css"

function show(id: string): void {
  const view = document.getElementById(id)
  if (view) view.hidden = false
}

/** Turns a failure into words for the user. */
function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return `Serwer nie przyjął logowania: ${error.message}`
    return `Serwer odpowiedział: ${error.message}`
  }
  return (error as Error)?.message ?? String(error)
}

async function pzkDocuments(repo: Repo, list: DocumentEntry[]): Promise<Array<{ url: string; doc: PzkDoc }>> {
  const entries = list.filter(d => d.kind === "pzk")
  const found = await Promise.all(
    entries.map(async entry => {
      const handle = await repo.find<PzkDoc>(entry.url as AutomergeUrl)
      return { url: entry.url, doc: handle.doc() }
    }),
  )
  return found.filter((f): f is { url: string; doc: PzkDoc } => Boolean(f.doc))
}

async function pickView(session: Session): Promise<void> {
  show("pick-view")
  const list = document.getElementById("meetings") as HTMLUListElement
  const documents = await pzkDocuments(session.repo, await session.documents())
  const items = documents.flatMap(({ url, doc }) =>
    meetingIds(doc).map(id => {
      const meeting = doc.meetings[id]
      const documentId = url.replace(/^automerge:/, "")
      const when = meeting.date.toLocaleString("pl-PL", { timeZone: "Europe/Warsaw" })
      const href = `/meeting/${documentId}/${encodeURIComponent(id)}`
      const link = el("a", { href }, `${str(doc.name)} — ${when}`)
      // Opened in this page: a new page load would ask for the PIN again.
      link.addEventListener("click", event => {
        event.preventDefault()
        history.pushState(null, "", href)
        const pick = document.getElementById("pick-view")
        if (pick) pick.hidden = true
        meetingView(session, documentId, id).catch(error => showError(describe(error)))
      })
      return el("li", { "data-meeting": id }, link, ` (${MEETING_MODE[str(meeting.mode)] ?? str(meeting.mode)})`)
    }),
  )
  list.replaceChildren(...(items.length ? items : [el("li", {}, "Brak spotkań w Twoich zespołach PZK.")]))
}

async function meetingView(session: Session, documentId: string, meetingId: string) {
  const { repo, me: user } = session
  const entries = await session.documents()
  const entry = entries.find(d => d.document_id === documentId)
  if (!entry) throw new Error("Nie masz dostępu do tego dokumentu PZK albo on nie istnieje.")
  let handle: DocHandle<PzkDoc>
  try {
    handle = await repo.find<PzkDoc>(entry.url as AutomergeUrl)
  } catch {
    throw new Error("Serwer nie udostępnił dokumentu PZK.")
  }
  if (!handle.doc()?.meetings?.[meetingId]) throw new Error(`W dokumencie nie ma spotkania ${meetingId}.`)
  const canEdit = entry.access === "read-write"
  // Changes name the author's institution; a reader without one (a coordinator) writes nothing.
  if (canEdit && !user.institution) throw new Error("Twoje konto nie jest przypisane do instytucji.")
  new MeetingView({
    handle,
    meetingId,
    member: { login: user.login, name: user.name, institution: user.institution ?? "" },
    canEdit,
  })
}

const SIGN_OUT_QUESTION =
  "Wylogowanie usunie z tego urządzenia wszystkie dane (także spraw w aplikacji). Zmiany, których " +
  "jeszcze nie wysłano na serwer, przepadną. Wylogować?"

async function main(): Promise<void> {
  showWipeNotice()
  void registerMeetingServiceWorker()
  const unlocked = await openDevice(document.getElementById("gate") as HTMLElement)
  let session: Session | undefined
  const wipe = (reason: "wylogowano" | "odwolane") =>
    wipeDevice("/", reason, () => {
      session?.disconnect()
      unlocked.vault.close()
    })
  session = await startSession(unlocked, () => void wipe("odwolane"), showConnection)
  const logout = document.getElementById("logout") as HTMLButtonElement
  logout.hidden = false
  logout.addEventListener("click", () => {
    if (confirm(SIGN_OUT_QUESTION)) void wipe("wylogowano")
  })
  showWho(session.me)
  // Back from a meeting to the list: the page starts again (and asks for the PIN).
  addEventListener("popstate", () => location.reload())
  const route = location.pathname.match(/^\/meeting\/([^/]+)\/([^/]+)\/?$/)
  if (route) {
    await meetingView(session, route[1], decodeURIComponent(route[2]))
  } else {
    await pickView(session)
  }
}

main().catch(error => showError(describe(error)))
