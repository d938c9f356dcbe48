// automerge-repo's storage adapter over the device's IndexedDB, every value sealed with the
// store key (AES-GCM, bound to its storage key). The keys themselves (document ids, "snapshot"
// or "incremental", content hashes) stay readable: they hold nothing about a family, and a
// prefix must stay a key range.

import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo/slim"

import { seal, unseal, type Sealed } from "./crypto"
import { done, prefixRange, transact } from "./idb"

const label = (key: StorageKey) => `chunk:${JSON.stringify(key)}`

/** Whether the vault was closed (it is being wiped): the store then neither reads nor writes. */
export interface VaultState {
  closed: boolean
}

/** The documents' chunks, sealed, in the `chunks` store. */
export class EncryptedStorageAdapter implements StorageAdapterInterface {
  constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
    private readonly vault: VaultState,
  ) {}

  /**
   * Called at every load and save (the repo's handles then exist: a found document is loaded
   * from here first, a new one is saved here at its first change).
   */
  onUse: () => void = () => undefined

  /** Documents that left this device: nothing more of theirs is written (see `forget`). */
  readonly #forgotten = new Set<string>()

  /**
   * Removes every chunk of a document that left the device (no longer shared, or erased) and
   * refuses later writes of it: the repo may still save its sync state or a change that was on
   * its way when the document was deleted, which would leave a chunk behind.
   */
  async forget(documentId: string): Promise<void> {
    this.#forgotten.add(documentId)
    await this.removeRange([documentId])
  }

  /** A document the server lists again (shared anew) may be written again. */
  remember(documentId: string): void {
    this.#forgotten.delete(documentId)
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    this.onUse()
    if (this.vault.closed) return undefined
    const sealed = await transact(this.db, "chunks", "readonly", store => done<Sealed | undefined>(store.get(key)))
    return sealed ? unseal(this.key, sealed, label(key)) : undefined
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.onUse()
    // Sealed before the transaction opens: an IndexedDB transaction ends when it waits on anything else.
    if (this.#forgotten.has(key[0])) return
    const sealed = await seal(this.key, new Uint8Array(data), label(key))
    if (this.vault.closed || this.#forgotten.has(key[0])) return
    await transact(this.db, "chunks", "readwrite", store => done(store.put(sealed, key)))
  }

  async remove(key: StorageKey): Promise<void> {
    if (this.vault.closed) return
    await transact(this.db, "chunks", "readwrite", store => done(store.delete(key)))
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    this.onUse()
    if (this.vault.closed) return []
    const range = prefixRange(prefix)
    const [keys, values] = await transact(this.db, "chunks", "readonly", store =>
      Promise.all([done(store.getAllKeys(range)), done<Sealed[]>(store.getAll(range))]),
    )
    return Promise.all(
      keys.map(async (k, i) => {
        const key = k as StorageKey
        return { key, data: await unseal(this.key, values[i], label(key)) }
      }),
    )
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    if (this.vault.closed) return
    await transact(this.db, "chunks", "readwrite", store => done(store.delete(prefixRange(prefix))))
  }
}
