// One unlocked session, shared by the case app and the PZK meeting page: access tokens from
// the device token, the worker's profile, and a Repo whose documents live in the device's
// encrypted store and sync with the server over /sync whenever there is a network.

import wasmUrl from "@automerge/automerge/automerge.wasm?url"
import { Repo, initializeWasm, type AutomergeUrl, type DocHandle, type DocumentId } from "@automerge/automerge-repo/slim"

import { AccessTokens, ApiError, me, myDocuments, type DocumentEntry, type Me } from "../api"
import { KooperacjaAdapter } from "../network"
import { refusalMessage } from "../model/catalogue"
import { showError } from "../ui"
import type { Unlocked } from "./gate"
import { SyncStateTracker } from "./sync-state"
import type { EncryptedStorageAdapter } from "../storage/adapter"

export interface Session {
  repo: Repo
  me: Me
  tokens: AccessTokens
  sync: SyncStateTracker
  /** The server's document list when it answers (kept in the vault), else the kept one. */
  documents(): Promise<DocumentEntry[]>
  /** Writes every open document to the device's store. */
  flush(): Promise<void>
  /** Drops the connection (before a wipe or a lock). */
  disconnect(): void
}

/** Whether an API failure means "no answer" (offline, or the server is down), not a refusal. */
const unreachable = (error: unknown) => error instanceof ApiError && (error.status === 0 || error.status >= 500)

/**
 * Starts a session on an unlocked device. `revoked` is called (once) when the server refuses
 * the device token: the caller wipes the device. `online` hears the connection come and go.
 */
export async function startSession(
  unlocked: Unlocked,
  revoked: () => void,
  online: (connected: boolean) => void = () => undefined,
): Promise<Session> {
  const { vault, deviceToken } = unlocked
  let refused = false
  const revokedOnce = () => {
    if (refused) return
    refused = true
    revoked()
  }
  const tokens = new AccessTokens(deviceToken, revokedOnce)
  // A refusal of anything else may mean the device was revoked: the token endpoint says.
  const confirm = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) void tokens.refresh().catch(() => undefined)
    throw error
  }

  let user: Me | undefined
  try {
    await tokens.refresh()
    user = await me(tokens)
    await vault.put("me", user)
  } catch (error) {
    if (!unreachable(error)) throw error
    user = await vault.get<Me>("me")
    if (!user) throw new Error("Brak połączenia z serwerem, a na tym urządzeniu nie ma jeszcze danych konta.")
  }

  await initializeWasm(wasmUrl)
  const adapter = new KooperacjaAdapter(tokens, {
    online,
    refused: reason => {
      console.warn("refused by the server:", reason)
      showError(refusalMessage(reason))
    },
    // Revoked while online: the server closed the live connection with its code.
    revoked: revokedOnce,
  })
  const storage = vault.storage()
  const repo = new Repo({ storage, network: [adapter] })
  const sync = new SyncStateTracker(repo)
  const saved = savedOnDevice(repo)
  // The repo announces no new documents: each is watched when it first touches the store.
  const watched = new WeakSet<DocHandle<unknown>>()
  let known = 0
  storage.onUse = () => {
    // Called at every load and save: only a new handle means anything to look at.
    const handles = Object.values(repo.handles)
    if (handles.length === known) return
    known = handles.length
    for (const handle of handles) {
      if (watched.has(handle)) continue
      watched.add(handle)
      sync.watch(handle)
      saved(handle)
    }
  }
  repo.networkSubsystem.on("peer", ({ peerId }) => sync.connected(peerId))
  repo.networkSubsystem.on("peer-disconnected", () => sync.connected(null))
  addEventListener("offline", () => sync.connected(null))
  // Coming back online is the next contact: the server may have revoked the device meanwhile.
  addEventListener("online", () => void tokens.refresh().catch(() => undefined))

  const session: Session = {
    repo,
    me: user,
    tokens,
    sync,
    async documents() {
      try {
        const list = await myDocuments(tokens).catch(confirm)
        const before = (await vault.get<DocumentEntry[]>("documents")) ?? []
        await vault.put("documents", list)
        await forgetUnlisted(repo, storage, before, list)
        return list
      } catch (error) {
        if (!unreachable(error)) throw error
        return (await vault.get<DocumentEntry[]>("documents")) ?? []
      }
    },
    flush: () => flushReady(repo),
    disconnect: () => {
      if (adapter.socket) adapter.disconnect()
    },
  }
  // Offline, there is nothing to fetch: the documents are loaded when a screen reads them, and
  // fetched when the network comes back.
  if (navigator.onLine) void keepOnDevice(session)
  addEventListener("online", () => void keepOnDevice(session))
  return session
}

/**
 * Writes every loaded document to the device's store. `repo.flush()` alone throws ("DocHandle
 * is not ready") while any document is still being fetched, as during the first sync, and then
 * writes only part of what it started: documents not yet loaded have nothing to write.
 */
function flushReady(repo: Repo): Promise<void> {
  const ready = Object.values(repo.handles).filter(handle => handle.isReady())
  return repo.flush(ready.map(handle => handle.documentId))
}

/**
 * Removes from the device what the server listed before and lists no more: a case no longer
 * shared with this user (or erased) leaves the device's store, as the Rust tablet's duties do.
 * Cases created here and not yet listed were never in the earlier list, so they stay.
 */
async function forgetUnlisted(
  repo: Repo,
  storage: EncryptedStorageAdapter,
  before: DocumentEntry[],
  now: DocumentEntry[],
): Promise<void> {
  const listed = new Set(now.map(d => d.document_id))
  for (const id of listed) storage.remember(id)
  for (const gone of before.filter(d => !listed.has(d.document_id))) {
    try {
      repo.delete(gone.document_id as DocumentId)
    } catch {
      // Never opened on this device in this session: nothing of it is in memory.
    }
    // Its chunks leave the store now, and what the repo still had on its way is not written.
    await storage.forget(gone.document_id)
  }
}

/**
 * Keeps `<html data-saved-on-device>` true exactly when every change made in this page is in
 * the device's store: false at each change, true once every write started since has finished.
 * (The repo also writes on its own, 100 ms after a change.)
 */
function savedOnDevice(repo: Repo): (handle: DocHandle<unknown>) => void {
  // Each change writes its own document (writing all of them at every keystroke cost a
  // caseload of 200 cases 10 ms per keystroke); the flag is true when no write is under way.
  let writing = 0
  const failed = new Set<string>()
  const mark = (saved: boolean) => {
    document.documentElement.dataset.savedOnDevice = String(saved)
  }
  const changed = async (handle: DocHandle<unknown>) => {
    // A document still being fetched holds nothing made here ("not ready" to write, too).
    if (!handle.isReady()) return
    writing++
    mark(false)
    try {
      await repo.flush([handle.documentId])
      failed.delete(handle.documentId)
    } catch {
      // Not written: the flag stays false (the store may have been wiped or closed).
      failed.add(handle.documentId)
    } finally {
      writing--
      if (writing === 0 && failed.size === 0) mark(true)
    }
  }
  mark(true)
  return handle => handle.on("heads-changed", () => void changed(handle))
}

/**
 * Fetches every document the worker may hold into the device's store, so that it is there
 * offline (the repo writes each one to storage as it arrives).
 */
async function keepOnDevice(session: Session): Promise<void> {
  const entries = await session.documents().catch(() => [])
  await Promise.all(entries.map(entry => session.repo.find(entry.url as AutomergeUrl).catch(() => undefined)))
}
