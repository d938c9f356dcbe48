// The case app's attachments on this device: files taken in (sniffed, photos cleaned of their
// metadata), kept sealed in the vault (`storage/blobs.ts`), sent to the server by the upload
// queue (`uploads.ts`), fetched on demand with progress, and evicted when uploaded and not
// opened for a while. Every change of a file's state is announced (`change` events with the
// file's SHA-256) for the tiles that show it.

import type { AccessTokens } from "../../api"
import { PIECE, sha256OfFile, type BlobStore, type BlobRecord, type UploadRecord } from "../../storage/blobs"
import { thumbnailOf, withoutMetadata } from "./photo"
import { AttachmentRefused } from "./refusal"
import { sniff } from "./sniff"
import { TransferFailed, fetchRange } from "./transfer"
import { UploadQueue } from "./uploads"

/** What a tile shows of one file of one case. */
export type FileState =
  /** Stored here, waiting for the network to be sent. */
  | { kind: "local" }
  | { kind: "sending"; percent: number }
  /** Partly sent; the rest waits for the network (or for the server to take it). */
  | { kind: "paused"; percent: number }
  | { kind: "sent" }
  | { kind: "refused"; code: string }
  /** On the server only: downloaded when opened. */
  | { kind: "remote" }
  | { kind: "receiving"; percent: number }
  /** Downloaded to this device. */
  | { kind: "cached" }

/** A file taken in: what the case's entry says of it. */
export interface TakenIn {
  sha256: string
  mime: string
  size: number
}

/** Days a file stays on the device after it was last opened, once the server holds it. */
export const KEEP_DAYS_SETTING = "kooperacja.attachmentsKeepDays"
const DEFAULT_KEEP_DAYS = 30
const DAY_MS = 24 * 60 * 60 * 1000
/** Bytes asked for in one download request (four stored pieces). */
const DOWNLOAD_BLOCK = 4 * PIECE

export class Attachments extends EventTarget {
  readonly #progress = new Map<string, FileState>()
  readonly #downloads = new Map<string, Promise<Blob>>()
  readonly uploads: UploadQueue

  constructor(
    readonly store: BlobStore,
    private readonly tokens: AccessTokens,
  ) {
    super()
    this.uploads = new UploadQueue(store, tokens, (upload, percent) => this.#uploadProgress(upload, percent))
  }

  /** Starts the queue (what earlier sessions left unsent goes first) and evicts stale files. */
  start(): void {
    this.uploads.start()
    void this.evictStale(Date.now()).catch(error => console.warn("eviction failed:", error))
  }

  #announce(sha256: string): void {
    this.dispatchEvent(new CustomEvent("change", { detail: sha256 }))
  }

  #uploadProgress(upload: UploadRecord, percent: number | null): void {
    const key = `${upload.document}:${upload.sha256}`
    if (percent === null) this.#progress.delete(key)
    else this.#progress.set(key, { kind: "sending", percent })
    this.#announce(upload.sha256)
  }

  /**
   * Takes in a chosen or photographed file: its type told by its bytes (refused in Polish when
   * not allowed), a photo re-encoded without its metadata, then stored sealed with a preview.
   */
  async takeIn(file: Blob): Promise<TakenIn> {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer())
    const sniffed = sniff(head)
    if (!sniffed) throw new AttachmentRefused("app.attachment-type")
    // The file is read a slice at a time from here on (hashed, then sealed piece by piece); a
    // photo is first re-encoded without its metadata.
    let kept = file
    let mime = sniffed
    if (sniffed.startsWith("image/")) {
      ;({ file: kept, mime } = await withoutMetadata(file, sniffed))
    }
    let record: BlobRecord
    try {
      record = await this.store.store(kept, mime, Date.now())
      if (mime.startsWith("image/") && !record.thumbnail) {
        await this.store.putThumbnail(record.sha256, await thumbnailOf(kept))
      }
    } catch (error) {
      if (error instanceof AttachmentRefused) throw error
      console.warn("storing an attachment failed:", error)
      throw new AttachmentRefused("app.attachment-storage")
    }
    return { sha256: record.sha256, mime, size: record.size }
  }

  /** Queues the file for the case (after its entry is in the case document). */
  async send(document: string, file: TakenIn): Promise<void> {
    await this.uploads.add(document, file.sha256, file.size)
    this.#announce(file.sha256)
  }

  /** Tries the queue now (the network is back, or the case reached the server). */
  kick(): void {
    this.uploads.kick()
  }

  /** Where a file of a case stands on this device. */
  async state(document: string, sha256: string): Promise<FileState> {
    const shown = this.#progress.get(`${document}:${sha256}`) ?? this.#progress.get(sha256)
    if (shown) return shown
    const upload = await this.store.upload(document, sha256)
    if (upload?.state === "refused") return { kind: "refused", code: upload.refusal ?? "app.attachment-server" }
    if (upload?.state === "waiting" && upload.sent > 0) {
      return { kind: "paused", percent: Math.floor((upload.sent * 100) / upload.size) }
    }
    if (upload?.state === "waiting") return { kind: "local" }
    const record = await this.store.record(sha256)
    if (!record || record.held < record.size) return { kind: "remote" }
    return upload?.state === "sent" ? { kind: "sent" } : { kind: "cached" }
  }

  /** A preview image, if this device keeps one. */
  thumbnail(sha256: string): Promise<Blob | undefined> {
    return this.store.thumbnail(sha256)
  }

  /**
   * The file's bytes: from the device when they are here, else downloaded from the server (in
   * blocks, each stored as it arrives, so an interrupted download resumes), with progress.
   */
  async open(document: string, sha256: string, mime: string, size: number): Promise<Blob> {
    const here = await this.store.file(sha256, Date.now())
    if (here) return here
    const running = this.#downloads.get(sha256)
    if (running) return running
    const download = this.#download(document, sha256, mime, size).finally(() => {
      this.#downloads.delete(sha256)
      this.#progress.delete(sha256)
      this.#announce(sha256)
    })
    this.#downloads.set(sha256, download)
    return download
  }

  async #download(document: string, sha256: string, mime: string, size: number): Promise<Blob> {
    const known = await this.store.record(sha256)
    let record: BlobRecord = known ?? { sha256, mime, size, held: 0, opened: Date.now(), thumbnail: false }
    // Only whole pieces count: a piece cut short is fetched again.
    let held = Math.floor(record.held / PIECE) * PIECE
    while (held < size) {
      this.#progress.set(sha256, { kind: "receiving", percent: Math.floor((held * 100) / size) })
      this.#announce(sha256)
      const end = Math.min(held + DOWNLOAD_BLOCK, size) - 1
      let bytes: Uint8Array<ArrayBuffer>
      try {
        bytes = await fetchRange(this.tokens, document, sha256, held, end)
      } catch (error) {
        if (error instanceof TransferFailed && error.status === 0) throw new AttachmentRefused("app.attachment-offline")
        if (error instanceof TransferFailed && error.status === 404) throw new AttachmentRefused("app.attachment-unknown")
        throw error
      }
      for (let offset = 0; offset < bytes.length; offset += PIECE) {
        await this.store.putPiece(sha256, (held + offset) / PIECE, bytes.subarray(offset, offset + PIECE))
      }
      held += bytes.length
      if (bytes.length === 0) throw new AttachmentRefused("app.attachment-unknown")
      record = { ...record, held: Math.min(held, size) }
      await this.store.putRecord(record)
    }
    const file = await this.store.file(sha256, Date.now())
    if (!file) throw new AttachmentRefused("app.attachment-storage")
    if ((await sha256OfFile(file)) !== sha256) {
      await this.store.evict(sha256)
      throw new AttachmentRefused("app.attachment-hash")
    }
    if (mime.startsWith("image/") && !record.thumbnail) {
      await this.store.putThumbnail(sha256, await thumbnailOf(file)).catch(() => undefined)
    }
    return file
  }

  /**
   * Drops from the device the bytes of files the server holds (every upload of them sent, or
   * downloaded from it) that were not opened for the setting's days (30 by default).
   */
  async evictStale(now: number): Promise<string[]> {
    const days = Number(localStorage.getItem(KEEP_DAYS_SETTING) ?? DEFAULT_KEEP_DAYS)
    const keepMs = (Number.isFinite(days) && days >= 0 ? days : DEFAULT_KEEP_DAYS) * DAY_MS
    const unsent = new Set((await this.store.uploads()).filter(u => u.state !== "sent").map(u => u.sha256))
    const evicted: string[] = []
    for (const record of await this.store.records()) {
      if (record.held === 0 || unsent.has(record.sha256) || now - record.opened < keepMs) continue
      await this.store.evict(record.sha256)
      evicted.push(record.sha256)
      this.#announce(record.sha256)
    }
    return evicted
  }
}

let current: Attachments | null = null

/** The session's attachments (set once the device is unlocked). */
export function attachments(): Attachments | null {
  return current
}

export function setAttachments(service: Attachments): void {
  current = service
}
