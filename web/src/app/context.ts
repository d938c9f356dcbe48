// The contract between the case app's shell and its screens.
//
// The shell (sign-in with a one-time code, the PIN that unlocks the encrypted device store, the
// idle lock, the service worker, the connection to /sync and the sync state) builds one
// AppContext once the worker is signed in and the store is unlocked, and hands it to the
// screens (caseload, today, the case card and its parts), which never touch tokens, storage
// or the network themselves.

import type { Repo } from "@automerge/automerge-repo/slim"

import type { AccessTokens, DocumentEntry, Me } from "../api"

/** What the worker sees of the sync state, always on screen. */
export type SyncState =
  /** Edits are saved on this device; nothing is being sent (no server yet, or nothing to send). */
  | { kind: "saved-locally" }
  /** Connected, and changes are on their way. */
  | { kind: "sending" }
  /** Connected, and the server holds every change made on this device. */
  | { kind: "synced" }
  /** No connection since `since`; edits are kept on the device and sent later. */
  | { kind: "offline"; since: Date }

export interface AppContext {
  /** The documents on this device (kept in its encrypted store, synced when online). */
  repo: Repo
  /** The signed-in user. */
  me: Me
  /** Access tokens for the HTTP API (sharing a case, and so on). */
  tokens: AccessTokens
  /** The documents this user may hold: the server's list when it answers, else the device's last copy. */
  documents(): Promise<DocumentEntry[]>
  /**
   * The caseload's rows as last drawn, sealed in the device's store like everything else: the
   * list shows from them at once while the case documents load (app/screens/caseload-index.ts).
   */
  caseloadIndex: { load(): Promise<unknown>; save(rows: unknown): Promise<void> }
  /** Calls `listener` now and at every change of the sync state; returns the unsubscribe function. */
  onSyncState(listener: (state: SyncState) => void): () => void
}

/** The screens mount into `root` once the shell has a signed-in, unlocked context. */
export type MountScreens = (root: HTMLElement, context: AppContext) => void | Promise<void>
