// The device vault: the encrypted store of one signed-in worker on this browser. It is created
// with a PIN at first sign-in, opened with the PIN each session, and wiped at sign-out or when
// the server says the device was revoked. Besides the documents' chunks (`adapter.ts`) it keeps
// a few small sealed values: the device token, the worker's profile, the last document list;
// and the attachments' files (`blobs.ts`).

import { newStoreKey, seal, unseal, unwrapStoreKey, type Sealed, type WrappedStoreKey } from "./crypto"
import { EncryptedStorageAdapter, type VaultState } from "./adapter"
import { BlobStore } from "./blobs"
import { deleteDatabase, done, openDatabase, transact } from "./idb"

const KEY = "store-key"
/** The count of wrong PINs since the last right one (a plain number beside the wrapped key). */
const FAILED = "failed-unlocks"

/**
 * Wrong PINs in a row after which the vault wipes itself: a found or stolen tablet cannot be
 * opened by trying PINs in the app. (It does not stop guessing against a copied profile, where
 * only the PIN's key derivation stands: see docs/security.md.)
 */
export const MAX_FAILED_UNLOCKS = 10

/** What an unlock attempt gives: the open vault, or how many attempts are left (0: wiped). */
export type UnlockResult = { vault: Vault } | { vault: null; attemptsLeft: number }

/** The small values the vault keeps, by name. */
export type VaultValue = "device-token" | "me" | "documents" | "caseload"

const label = (name: VaultValue) => `value:${name}`

/** localStorage entries of this app (no secrets: settings and the time of last contact). */
const LOCAL_PREFIX = "kooperacja."

export class Vault {
  readonly #state: VaultState = { closed: false }

  private constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
  ) {}

  /** Whether this browser holds a vault (a worker set a PIN here). */
  static async exists(): Promise<boolean> {
    const db = await openDatabase()
    try {
      return (await transact(db, "meta", "readonly", store => done(store.count(KEY)))) > 0
    } finally {
      db.close()
    }
  }

  /** A new, empty vault under `pin` (whatever this browser held before is wiped first). */
  static async create(pin: string): Promise<Vault> {
    await Vault.wipe()
    const db = await openDatabase()
    const { key, wrapped } = await newStoreKey(pin)
    await transact(db, "meta", "readwrite", store => done(store.put(wrapped, KEY)))
    return new Vault(db, key)
  }

  /**
   * The vault opened with `pin`; with a wrong PIN nothing is readable and the attempt is
   * counted: at the `MAX_FAILED_UNLOCKS`th wrong PIN in a row the vault is wiped.
   */
  static async unlock(pin: string): Promise<UnlockResult> {
    const db = await openDatabase()
    const wrapped = await transact(db, "meta", "readonly", store =>
      done<WrappedStoreKey | undefined>(store.get(KEY)),
    )
    const key = wrapped ? await unwrapStoreKey(pin, wrapped) : null
    if (key) {
      await transact(db, "meta", "readwrite", store => done(store.delete(FAILED)))
      return { vault: new Vault(db, key) }
    }
    const failed =
      (await transact(db, "meta", "readonly", store => done<number | undefined>(store.get(FAILED)))) ?? 0
    const now = failed + 1
    await transact(db, "meta", "readwrite", store => done(store.put(now, FAILED)))
    db.close()
    if (now < MAX_FAILED_UNLOCKS) return { vault: null, attemptsLeft: MAX_FAILED_UNLOCKS - now }
    await Vault.wipe()
    return { vault: null, attemptsLeft: 0 }
  }

  /** Deletes every document and key on this device, and the app's local settings. */
  static async wipe(): Promise<void> {
    await deleteDatabase()
    for (const name of Object.keys(localStorage)) {
      if (name.startsWith(LOCAL_PREFIX)) localStorage.removeItem(name)
    }
  }

  /** automerge-repo's storage over this vault. */
  storage(): EncryptedStorageAdapter {
    return new EncryptedStorageAdapter(this.db, this.key, this.#state)
  }

  /** The attachments' files on this device, sealed with the same store key. */
  blobs(): BlobStore {
    return new BlobStore(this.db, this.key, this.#state)
  }

  async get<T>(name: VaultValue): Promise<T | undefined> {
    const sealed = await transact(this.db, "meta", "readonly", store => done<Sealed | undefined>(store.get(name)))
    if (!sealed) return undefined
    const plain = await unseal(this.key, sealed, label(name))
    return JSON.parse(new TextDecoder().decode(plain)) as T
  }

  async put(name: VaultValue, value: unknown): Promise<void> {
    const sealed = await seal(this.key, new TextEncoder().encode(JSON.stringify(value)), label(name))
    await transact(this.db, "meta", "readwrite", store => done(store.put(sealed, name)))
  }

  /**
   * Closes the database; the vault's key goes with this object. Whatever the repo still
   * writes afterwards is dropped: the vault is closed only to be wiped.
   */
  close(): void {
    this.#state.closed = true
    this.db.close()
  }
}
