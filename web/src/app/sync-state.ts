// The sync state the worker always sees: saved on this device, sending, everything sent, or
// offline since a time. "Everything sent" means the server's heads (what it told this device
// it holds, per document) are this device's heads for every document open here.

import type { DocHandle, PeerId, Repo, StorageId } from "@automerge/automerge-repo/slim"

import type { SyncState } from "./context"

/** When the server was last heard from (survives restarts; not personal data). */
const LAST_CONTACT = "kooperacja.lastContact"

const sameHeads = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && [...a].sort().join() === [...b].sort().join()

export class SyncStateTracker {
  #state: SyncState = { kind: "saved-locally" }
  #listeners = new Set<(state: SyncState) => void>()
  #server: StorageId | undefined
  #watched = new WeakSet<DocHandle<unknown>>()
  /** The documents whose heads the server has not confirmed (kept per document: a keystroke
   * looks at its own document, not at every case on the device). */
  #pending = new Set<DocHandle<unknown>>()

  constructor(private readonly repo: Repo) {
    const since = localStorage.getItem(LAST_CONTACT)
    if (!navigator.onLine) this.#set({ kind: "offline", since: since ? new Date(since) : new Date() })
  }

  /** Follows a document of the repo (each is watched once). */
  watch(handle: DocHandle<unknown>): void {
    if (this.#watched.has(handle)) return
    this.#watched.add(handle)
    const update = () => this.#update(handle)
    handle.on("heads-changed", update)
    handle.on("remote-heads", update)
    update()
  }

  /** The connection to the server came up (`peer` is the server) or went away. */
  connected(peer: PeerId | null): void {
    if (peer) {
      this.#server = this.repo.peerMetadataByPeerId[peer]?.storageId
      localStorage.setItem(LAST_CONTACT, new Date().toISOString())
      this.#update(null)
    } else if (this.#state.kind !== "offline") {
      this.#server = undefined
      const since = localStorage.getItem(LAST_CONTACT)
      this.#set({ kind: "offline", since: since ? new Date(since) : new Date() })
    }
  }

  get state(): SyncState {
    return this.#state
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    this.#listeners.add(listener)
    listener(this.#state)
    return () => this.#listeners.delete(listener)
  }

  /** Looks again at `handle`, or at every document for null (a new connection). */
  #update(handle: DocHandle<unknown> | null): void {
    const server = this.#server
    if (!server) return
    localStorage.setItem(LAST_CONTACT, new Date().toISOString())
    const check = (h: DocHandle<unknown>) => {
      if (h.isReady() && !sameHeads(h.getSyncInfo(server)?.lastHeads, h.heads())) this.#pending.add(h)
      else this.#pending.delete(h)
    }
    if (handle) check(handle)
    else Object.values(this.repo.handles).forEach(check)
    this.#set({ kind: this.#pending.size > 0 ? "sending" : "synced" })
  }

  #set(state: SyncState): void {
    const same = state.kind === this.#state.kind && state.kind !== "offline"
    this.#state = state
    if (!same) this.#listeners.forEach(listener => listener(state))
  }
}

/** The sync state in Polish, as the header shows it. */
export function describeSyncState(state: SyncState): string {
  switch (state.kind) {
    case "saved-locally":
      return "Zapisano na tym urządzeniu"
    case "sending":
      return "Wysyłanie zmian…"
    case "synced":
      return "Wszystko wysłane"
    case "offline": {
      const when = state.since.toLocaleString("pl-PL", { timeZone: "Europe/Warsaw", dateStyle: "short", timeStyle: "short" })
      return `Offline od ${when} — zmiany są zapisane na tym urządzeniu`
    }
  }
}
