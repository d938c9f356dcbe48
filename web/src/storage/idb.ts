// The device's one IndexedDB database, as promises: `meta` (the wrapped store key and small
// sealed values) and `chunks` (the documents' sealed chunks, keyed by automerge-repo's
// storage key itself, an array of strings, so a prefix is a key range); since version 2 the
// attachments' files (`blobs.ts`): `blobs` (one sealed record per file, by SHA-256),
// `blob-pieces` (the sealed bytes in pieces, by [SHA-256, index]) and `uploads` (the upload
// queue, by [document, SHA-256]).

const NAME = "kooperacja"
const VERSION = 2

export type StoreName = "meta" | "chunks" | "blobs" | "blob-pieces" | "uploads"

const STORES: StoreName[] = ["meta", "chunks", "blobs", "blob-pieces", "uploads"]

/** A request's result as a promise. */
export function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** Opens (creating on first use) the device's database. */
export function openDatabase(): Promise<IDBDatabase> {
  const request = indexedDB.open(NAME, VERSION)
  request.onupgradeneeded = () => {
    const db = request.result
    for (const name of STORES) {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name)
    }
  }
  return done(request).then(db => {
    // Another tab deleting the database (sign-out, revocation) closes this connection.
    db.onversionchange = () => db.close()
    return db
  })
}

/** Runs `body` in one transaction on `store` and resolves once it has committed. */
export function transact<T>(
  db: IDBDatabase,
  store: StoreName,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => Promise<T> | T,
): Promise<T> {
  const tx = db.transaction(store, mode, { durability: "strict" })
  const committed = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error ?? new Error("transakcja IndexedDB przerwana"))
  })
  const result = Promise.resolve(body(tx.objectStore(store)))
  return Promise.all([result, committed]).then(([value]) => value)
}

/** The key range of every key that starts with `prefix` (an array sorts after every string). */
export function prefixRange(prefix: string[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []])
}

/** Deletes the whole database (every document and key on this device). */
export function deleteDatabase(): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(NAME)
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error)
    // Open connections elsewhere are asked to close (onversionchange); deletion then proceeds.
    request.onblocked = () => undefined
  })
}
