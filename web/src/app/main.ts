// The case app's entry (`/app/`): sign in with a one-time code, then the screens.
// (Minimal first version: the PIN, the encrypted store and the service worker follow.)

import wasmUrl from "@automerge/automerge/automerge.wasm?url"
import { Repo, initializeWasm } from "@automerge/automerge-repo/slim"

import { AccessTokens, ApiError, deviceToken, enroll, forgetDevice, me, myDocuments } from "../api"
import { KooperacjaAdapter } from "../network"
import { showError } from "../ui"
import type { AppContext, SyncState } from "./context"
import { mountCaseApp } from "./screens"
import "../style.css"

function show(id: string): void {
  const view = document.getElementById(id)
  if (view) view.hidden = false
}

function signInView(): void {
  show("signin-view")
  const form = document.getElementById("signin-form") as HTMLFormElement
  form.addEventListener("submit", async event => {
    event.preventDefault()
    const code = (document.getElementById("code") as HTMLInputElement).value
    try {
      await enroll(code)
      location.reload()
    } catch (error) {
      showError(`Logowanie nie powiodło się. ${(error as Error).message}`)
    }
  })
}

async function main(): Promise<void> {
  const device = deviceToken()
  if (!device) return signInView()
  const tokens = new AccessTokens(device)
  try {
    await tokens.refresh()
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetDevice()
      return signInView()
    }
    throw error
  }
  const user = await me(tokens)
  await initializeWasm(wasmUrl)
  let state: SyncState = { kind: "saved-locally" }
  const listeners = new Set<(state: SyncState) => void>()
  const adapter = new KooperacjaAdapter(tokens, {
    online: connected => {
      state = connected ? { kind: "synced" } : { kind: "offline", since: new Date() }
      listeners.forEach(l => l(state))
    },
    refused: reason => showError(`Serwer odrzucił zmianę lub połączenie: ${reason}`),
  })
  const repo = new Repo({ network: [adapter] })
  const context: AppContext = {
    repo,
    me: user,
    tokens,
    documents: () => myDocuments(tokens),
    onSyncState(listener) {
      listeners.add(listener)
      listener(state)
      return () => listeners.delete(listener)
    },
  }
  const root = document.getElementById("screens") as HTMLElement
  root.hidden = false
  await mountCaseApp(root, context)
}

main().catch(error => showError((error as Error)?.message ?? String(error)))
