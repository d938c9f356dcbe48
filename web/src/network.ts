// The official WebSocket adapter, told to use a fresh access token on every (re)connect and to
// report what the server says when it refuses something or closes the connection.

import { cbor, type PeerId, type PeerMetadata } from "@automerge/automerge-repo/slim"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

import type { AccessTokens } from "./api"

/** What the page hears about the connection. */
export interface ConnectionEvents {
  /** The server answered the handshake (true) or the connection went away (false). */
  online(connected: boolean): void
  /** The server refused something (an `error` message, or a close with a reason). */
  refused(reason: string): void
  /**
   * The server closed the connection because this device was revoked (close code 4001, reason
   * `[server.device-revoked] …`): the caller wipes the device at once, without waiting for the
   * next token renewal.
   */
  revoked(): void
}

/** The close code of a revoked device's connections (sync-core `close_code::REVOKED`). */
export const CLOSE_REVOKED = 4001

/** `wss://host/sync?token=…` for the page's own origin. */
function syncUrl(token: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:"
  return `${scheme}//${location.host}/sync?token=${encodeURIComponent(token)}`
}

/**
 * [WebSocketClientAdapter] whose URL carries the current access token: each connect attempt
 * takes the newest token, and a stale one is renewed in the background so the next retry
 * (every `retryMs`) finds it.
 *
 * When the browser says it went offline, the connection is dropped at once rather than left
 * to time out (a WebSocket over a dead link can look open for minutes); edits stay in the
 * device's store and are sent when the browser is back online and the adapter has reconnected.
 *
 * Retries back off: each failed attempt doubles the wait (up to `MAX_RETRY_MS`, with jitter so
 * that a region's tablets do not all come back at once); a connection that opens, or the
 * browser coming back online, starts again from `retryMs`.
 */
/** The longest wait between two connection attempts. */
export const MAX_RETRY_MS = 60_000

export class KooperacjaAdapter extends WebSocketClientAdapter {
  #paused = false
  readonly #baseRetryMs: number

  constructor(
    private readonly tokens: AccessTokens,
    private readonly events: ConnectionEvents,
    retryMs = 2000,
  ) {
    super(syncUrl(tokens.current ?? "pending"), retryMs)
    this.#baseRetryMs = retryMs
    const closed = this.onClose
    this.onClose = (event?: CloseEvent) => {
      this.events.online(false)
      if (event?.code === CLOSE_REVOKED) {
        // No retry (connect() does nothing while paused): the device is about to be wiped.
        this.#paused = true
        closed()
        this.events.revoked()
        return
      }
      // The base class schedules the next attempt after `retryInterval`, read at each close.
      const doubled = Math.min(MAX_RETRY_MS, this.retryInterval * 2)
      this.#retryAfter(Math.round(doubled * (0.8 + Math.random() * 0.4)))
      // 1000/1001/1006 are ordinary ends (or a lost network); others carry the server's reason.
      if (event && event.code !== 1000 && event.code !== 1001 && event.code !== 1006 && event.reason) {
        this.events.refused(event.reason)
      }
      closed()
    }
    this.on("peer-candidate", () => {
      this.#retryAfter(this.#baseRetryMs)
      this.events.online(true)
    })
    this.on("peer-disconnected", () => this.events.online(false))
    addEventListener("offline", () => this.#pause())
    addEventListener("online", () => this.#resume())
  }

  #retryAfter(ms: number): void {
    // Declared readonly, but read afresh at each close of this adapter version.
    ;(this as { retryInterval: number }).retryInterval = ms
  }

  #pause(): void {
    this.#paused = true
    if (this.socket) this.disconnect()
    this.events.online(false)
  }

  #resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#retryAfter(this.#baseRetryMs)
    if (this.peerId) this.connect(this.peerId, this.peerMetadata)
  }

  override connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    // A retry scheduled before the browser went offline waits for the `online` event.
    if (this.#paused) return
    const token = this.tokens.current
    if (token) {
      // `url` is declared readonly but is read afresh by every connect of this adapter version.
      ;(this as { url: string }).url = syncUrl(token)
    } else {
      // Expired or never fetched: this attempt fails, the next retry has a new token.
      void this.tokens.refresh().catch(() => undefined)
    }
    super.connect(peerId, peerMetadata)
  }

  override receiveMessage(messageBytes: Uint8Array): void {
    try {
      const message = cbor.decode(new Uint8Array(messageBytes)) as { type?: string; message?: string }
      if (message?.type === "error" && typeof message.message === "string") {
        this.events.refused(message.message)
      }
    } catch {
      // The adapter itself reports undecodable frames.
    }
    super.receiveMessage(messageBytes)
  }
}
