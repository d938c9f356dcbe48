// The upload queue: every file attached on this device goes to the server of its case, one at a
// time, whenever there is a network. The queue lives in the vault (`uploads` records), so a
// closed browser, a lock or a dropped connection only pause it: each upload first asks the
// server how much it holds (`…/status`) and sends the rest, in ranges of 1 MiB, each confirmed
// by the server before the next (the progress shown is what the server confirmed).
//
// A failure to reach the server, a 5xx, a busy upload (409) and a case the server does not know
// yet (404: created offline, its document is still on its way) are retried with exponential
// backoff and jitter (1 s to 30 s), and at once when the network comes back or the case has
// synced; a refusal (type, size, hash, read-only) stops that upload with the catalogue's text.

import type { AccessTokens } from "../../api"
import { PIECE, type BlobStore, type UploadRecord } from "../../storage/blobs"
import { uploadRefusalCode } from "./refusal"
import { TransferFailed, remoteStatus, sendRange } from "./transfer"

/** Bytes sent in one request. */
const RANGE = 4 * PIECE
const FIRST_RETRY_MS = 1_000
const LAST_RETRY_MS = 30_000

/** Called with an upload's progress (percent the server confirmed), `null` once it ended. */
export type Progress = (upload: UploadRecord, percent: number | null) => void

export class UploadQueue {
  #running = false
  #again = false
  #failures = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly store: BlobStore,
    private readonly tokens: AccessTokens,
    private readonly progress: Progress,
  ) {}

  start(): void {
    addEventListener("online", () => this.kick())
    this.kick()
  }

  /** Adds a file to send to a case (again from the start, if it was refused before). */
  async add(document: string, sha256: string, size: number): Promise<void> {
    const known = await this.store.upload(document, sha256)
    if (!known || known.state === "refused") {
      await this.store.putUpload({ document, sha256, size, state: "waiting", sent: 0 })
    }
    this.kick()
  }

  /** Runs the queue now (or once more after the run under way). */
  kick(): void {
    clearTimeout(this.#timer)
    this.#failures = 0
    if (this.#running) {
      this.#again = true
      return
    }
    void this.#run()
  }

  async #run(): Promise<void> {
    this.#running = true
    let retry = false
    try {
      do {
        this.#again = false
        const waiting = (await this.store.uploads()).filter(u => u.state === "waiting")
        for (const upload of waiting) {
          if (!(await this.#send(upload))) retry = true
        }
      } while (this.#again)
    } catch (error) {
      console.warn("the upload queue stopped:", error)
      retry = true
    } finally {
      this.#running = false
    }
    if (retry) this.#retryLater()
    else this.#failures = 0
  }

  #retryLater(): void {
    const base = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failures)
    this.#failures += 1
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#run(), base / 2 + Math.random() * (base / 2))
  }

  /** Sends what the server lacks of one file; false when it must be tried again later. */
  async #send(upload: UploadRecord): Promise<boolean> {
    let current = upload
    const save = async (change: Partial<UploadRecord>) => {
      current = { ...current, ...change }
      await this.store.putUpload(current)
    }
    try {
      let status = await remoteStatus(this.tokens, upload.document, upload.sha256)
      while (!status.complete) {
        const from = status.received
        this.progress(current, Math.floor((from * 100) / upload.size))
        const bytes = await this.#range(upload.sha256, from, Math.min(from + RANGE, upload.size))
        status = await sendRange(this.tokens, upload.document, upload.sha256, from, bytes, upload.size)
        if (!status.complete && status.received <= from) throw new TransferFailed(409, "nothing was taken")
        await save({ sent: status.received })
      }
      await save({ state: "sent", sent: upload.size })
      this.progress(current, null)
      return true
    } catch (error) {
      const code = error instanceof TransferFailed ? uploadRefusalCode(error.status) : null
      if (code) await save({ state: "refused", refusal: code })
      else console.warn(`upload of ${upload.sha256.slice(0, 12)} paused:`, error)
      this.progress(current, null)
      return code !== null
    }
  }

  /** Bytes `from` to `to` (exclusive) of a stored file, read piece by piece. */
  async #range(sha256: string, from: number, to: number): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(to - from)
    let at = from
    while (at < to) {
      const index = Math.floor(at / PIECE)
      const piece = await this.store.piece(sha256, index)
      const part = piece.subarray(at - index * PIECE, Math.min(piece.length, to - index * PIECE))
      out.set(part, at - from)
      at += part.length
      if (part.length === 0) throw new Error(`część ${index} pliku jest krótsza, niż powinna`)
    }
    return out
  }
}
