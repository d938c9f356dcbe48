// The attachments' files on the device, sealed with the vault's store key (AES-GCM, each value
// bound to its key) like the documents' chunks, in pieces of 256 KiB so that no value is a
// whole file and a download or an eviction works piece by piece:
//
// - `blobs`: one record per file, by SHA-256 (type, size, how much of it is here, when it was
//   last opened);
// - `blob-pieces`: the bytes, by [SHA-256, piece index], and an image's preview by
//   [SHA-256, "thumbnail"];
// - `uploads`: the upload queue, by [document, SHA-256] (the server keeps a file per case).
//
// The keys (content hashes, document ids) stay readable, as the chunks' keys do: they say
// nothing about a family. Everything is deleted with the database at a wipe.

import { sha256 as sha256Hasher } from "@noble/hashes/sha2.js"
import { bytesToHex } from "@noble/hashes/utils.js"

import type { VaultState } from "./adapter"
import { seal, unseal, type Sealed } from "./crypto"
import { done, transact } from "./idb"

/** Bytes per stored piece (the server's piece size too). */
export const PIECE = 256 * 1024

/** A file as this device knows it. */
export interface BlobRecord {
  sha256: string
  mime: string
  size: number
  /** Bytes held here, from the start (the file is here when `held === size`). */
  held: number
  /** When it was stored or last opened here (ms since the epoch); eviction looks at it. */
  opened: number
  /** Whether a preview image is kept (it stays when the bytes are evicted). */
  thumbnail: boolean
}

/** Where one upload stands: waiting to be (fully) sent, sent, or refused by the server. */
export type UploadState = "waiting" | "sent" | "refused"

/** One file to send to one case. */
export interface UploadRecord {
  document: string
  sha256: string
  size: number
  state: UploadState
  /** Bytes the server confirmed so far. */
  sent: number
  /** The catalogue code of the refusal (when `state` is "refused"). */
  refusal?: string
}

const THUMBNAIL = "thumbnail"

/** One slice of a file (a piece's worth: a slice is all that is in memory at once). */
async function slice(file: Blob, index: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await file.slice(index * PIECE, (index + 1) * PIECE).arrayBuffer())
}

/**
 * The hex SHA-256 of a file, read a slice at a time and hashed incrementally (SubtleCrypto only
 * digests a whole buffer, which would hold a 25 MiB scan in memory at once).
 */
export async function sha256OfFile(file: Blob): Promise<string> {
  const hash = sha256Hasher.create()
  for (let index = 0; index * PIECE < file.size; index++) hash.update(await slice(file, index))
  return bytesToHex(hash.digest())
}

export class BlobStore {
  constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
    private readonly vault: VaultState,
  ) {}

  private async sealJson(value: unknown, label: string): Promise<Sealed> {
    return seal(this.key, new TextEncoder().encode(JSON.stringify(value)), label)
  }

  private async getJson<T>(store: "blobs" | "uploads", key: IDBValidKey, label: string): Promise<T | undefined> {
    if (this.vault.closed) return undefined
    const sealed = await transact(this.db, store, "readonly", s => done<Sealed | undefined>(s.get(key)))
    if (!sealed) return undefined
    return JSON.parse(new TextDecoder().decode(await unseal(this.key, sealed, label))) as T
  }

  private async putSealed(store: "blobs" | "blob-pieces" | "uploads", key: IDBValidKey, sealed: Sealed): Promise<void> {
    if (this.vault.closed) return
    await transact(this.db, store, "readwrite", s => done(s.put(sealed, key)))
  }

  /**
   * Stores a file (read a slice at a time: hashed first, then sealed piece by piece, then its
   * record); returns its record. A file that changed between the two readings is refused.
   */
  async store(file: Blob, mime: string, now: number): Promise<BlobRecord> {
    const sha256 = await sha256OfFile(file)
    const known = await this.record(sha256)
    if (known && known.held === known.size) {
      await this.touch(sha256, now)
      return { ...known, opened: now }
    }
    const again = sha256Hasher.create()
    for (let index = 0; index * PIECE < file.size; index++) {
      const bytes = await slice(file, index)
      again.update(bytes)
      await this.putPiece(sha256, index, bytes)
    }
    if (bytesToHex(again.digest()) !== sha256) {
      await this.evict(sha256)
      throw new Error("plik zmienił się w trakcie zapisywania")
    }
    const record: BlobRecord = { sha256, mime, size: file.size, held: file.size, opened: now, thumbnail: false }
    await this.putRecord(record)
    return record
  }

  async record(sha256: string): Promise<BlobRecord | undefined> {
    return this.getJson<BlobRecord>("blobs", sha256, `blob:${sha256}`)
  }

  async putRecord(record: BlobRecord): Promise<void> {
    await this.putSealed("blobs", record.sha256, await this.sealJson(record, `blob:${record.sha256}`))
  }

  /** Every file's record. */
  async records(): Promise<BlobRecord[]> {
    if (this.vault.closed) return []
    const keys = await transact(this.db, "blobs", "readonly", s => done(s.getAllKeys()))
    const found = await Promise.all(keys.map(k => this.record(String(k))))
    return found.filter((r): r is BlobRecord => r !== undefined)
  }

  /** Piece `index` of a file (sealed before the transaction opens, which would end waiting). */
  async putPiece(sha256: string, index: number, bytes: Uint8Array): Promise<void> {
    const sealed = await seal(this.key, new Uint8Array(bytes), `blob:${sha256}:${index}`)
    await this.putSealed("blob-pieces", [sha256, index], sealed)
  }

  async piece(sha256: string, index: number): Promise<Uint8Array<ArrayBuffer>> {
    const sealed = await transact(this.db, "blob-pieces", "readonly", s =>
      done<Sealed | undefined>(s.get([sha256, index])),
    )
    if (!sealed) throw new Error(`brak części ${index} pliku ${sha256.slice(0, 12)} na urządzeniu`)
    return unseal(this.key, sealed, `blob:${sha256}:${index}`)
  }

  /** The whole file, if it is here (and marks it opened now). */
  async file(sha256: string, now: number): Promise<Blob | undefined> {
    const record = await this.record(sha256)
    if (!record || record.held < record.size) return undefined
    const parts: Uint8Array<ArrayBuffer>[] = []
    for (let index = 0; index * PIECE < record.size; index++) parts.push(await this.piece(sha256, index))
    await this.putRecord({ ...record, opened: now })
    return new Blob(parts, { type: record.mime })
  }

  async touch(sha256: string, now: number): Promise<void> {
    const record = await this.record(sha256)
    if (record) await this.putRecord({ ...record, opened: now })
  }

  async putThumbnail(sha256: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const sealed = await seal(this.key, bytes, `blob:${sha256}:${THUMBNAIL}`)
    await this.putSealed("blob-pieces", [sha256, THUMBNAIL], sealed)
    const record = await this.record(sha256)
    if (record) await this.putRecord({ ...record, thumbnail: true })
  }

  async thumbnail(sha256: string): Promise<Blob | undefined> {
    if (this.vault.closed) return undefined
    const sealed = await transact(this.db, "blob-pieces", "readonly", s =>
      done<Sealed | undefined>(s.get([sha256, THUMBNAIL])),
    )
    if (!sealed) return undefined
    return new Blob([await unseal(this.key, sealed, `blob:${sha256}:${THUMBNAIL}`)], { type: "image/jpeg" })
  }

  /** Drops a file's bytes from the device (its record and preview stay: it can be downloaded again). */
  async evict(sha256: string): Promise<void> {
    if (this.vault.closed) return
    // Numbers sort before strings: the range holds every numbered piece and not the preview.
    const pieces = IDBKeyRange.bound([sha256, 0], [sha256, Number.MAX_SAFE_INTEGER])
    await transact(this.db, "blob-pieces", "readwrite", s => done(s.delete(pieces)))
    const record = await this.record(sha256)
    if (record) await this.putRecord({ ...record, held: 0 })
  }

  async upload(document: string, sha256: string): Promise<UploadRecord | undefined> {
    return this.getJson<UploadRecord>("uploads", [document, sha256], `upload:${document}:${sha256}`)
  }

  async putUpload(upload: UploadRecord): Promise<void> {
    const label = `upload:${upload.document}:${upload.sha256}`
    await this.putSealed("uploads", [upload.document, upload.sha256], await this.sealJson(upload, label))
  }

  /** Every upload this device knows of (waiting, sent and refused). */
  async uploads(): Promise<UploadRecord[]> {
    if (this.vault.closed) return []
    const keys = await transact(this.db, "uploads", "readonly", s => done(s.getAllKeys()))
    const found = await Promise.all(
      keys.map(k => {
        const [document, sha256] = k as [string, string]
        return this.upload(document, sha256)
      }),
    )
    return found.filter((u): u is UploadRecord => u !== undefined)
  }
}
