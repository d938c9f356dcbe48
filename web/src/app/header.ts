// The case app's header: who is signed in, the sync state (always visible), the idle-lock
// setting, the lock button and sign-out.

import type { Me } from "../api"
import { el } from "../ui"
import type { SyncState } from "./context"
import { IDLE_CHOICES_MINUTES, idleSeconds, setIdleSeconds } from "./idle-lock"
import { describeSyncState } from "./sync-state"

export interface HeaderActions {
  lock(): void
  signOut(): void
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

export function showWho(user: Me): void {
  byId("who").textContent = `${user.name} (${user.institution_name ?? user.institution ?? "bez instytucji"})`
}

export function showSyncState(state: SyncState): void {
  const box = byId("sync-state")
  box.dataset.state = state.kind
  box.textContent = describeSyncState(state)
}

export function showActions(actions: HeaderActions): void {
  const lock = byId<HTMLButtonElement>("lock")
  lock.hidden = false
  lock.addEventListener("click", () => actions.lock())
  const signOut = byId<HTMLButtonElement>("logout")
  signOut.hidden = false
  signOut.addEventListener("click", () => actions.signOut())

  const select = el("select", { id: "idle-lock", "data-testid": "idle-lock" }) as HTMLSelectElement
  const current = idleSeconds()
  const choices = IDLE_CHOICES_MINUTES.map(m => m * 60)
  if (!choices.includes(current)) choices.unshift(current)
  for (const seconds of choices) {
    const text = seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`
    const option = el("option", { value: String(seconds) }, text) as HTMLOptionElement
    option.selected = seconds === current
    select.append(option)
  }
  select.addEventListener("change", () => setIdleSeconds(Number(select.value)))
  byId("idle-setting").replaceChildren(el("label", {}, "Blokada po bezczynności: ", select))
  byId("idle-setting").hidden = false
}
