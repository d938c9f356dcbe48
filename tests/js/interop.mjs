#!/usr/bin/env node
// Interoperability check: the official automerge-repo JS client (@automerge/automerge-repo and
// @automerge/automerge-repo-network-websocket, versions pinned in package.json) against a
// Kooperacja server, over TLS.
//
//   node interop.mjs --url wss://127.0.0.1:PORT/sync --scenario NAME [options]
//
// Options (each also readable from the environment, shown in brackets):
//   --url URL            the server's /sync endpoint, without a token            [INTEROP_URL]
//   --token T            device token for every repo                              [INTEROP_TOKEN]
//   --token-a/-b/-c T    device tokens for repo A, B and the verifying repo C     [INTEROP_TOKEN_A/B/C]
//                        (fall back to --token). Tokens are secrets: prefer the environment.
//   --scenario NAME      one of the scenarios below                               [INTEROP_SCENARIO]
//   --doc URL            automerge:... document to read (js-reads)                [INTEROP_DOC]
//   --content JSON       initial content of the document to write (js-writes)    [INTEROP_CONTENT]
//   --timeout-ms N       budget of each wait (default 20000)                      [INTEROP_TIMEOUT_MS]
//   --retry-ms N         the adapters' reconnect interval (default 5000, the library's)  [INTEROP_RETRY_MS]
//   --allow-server-close the server may close our sockets (e.g. it is restarted during the run);
//                        otherwise any close by the server fails the scenario
//   --reference          ignore --url and tokens; run against an in-process JS reference sync
//                        server (NodeWSServerAdapter, plain ws on 127.0.0.1) to compare behaviour
//
// The token is passed as `?token=...` in the URL because a browser WebSocket cannot set an
// Authorization header, and BrowserWebSocketClientAdapter only takes a URL.
//
// TLS: nothing here weakens certificate checks. To trust a self-signed development certificate,
// start Node with NODE_EXTRA_CA_CERTS=/path/to/dev-cert.pem (read once at start-up, so it must
// be set in the environment, not from inside this script).
//
// Output: exactly one JSON line on stdout, {"ok":true,"scenario":...,...} on success or
// {"ok":false,"scenario":...,"error":"..."} on failure (then the exit code is 1, and the error is
// also printed on stderr). Progress goes to stderr; DEBUG=automerge-repo:* adds the library's logs.
//
// Scenarios (each uses its own Repos, each with its own peer id and its own WebSocket adapter):
//   create-find        A creates a document, B finds it by URL and sees the same content
//   concurrent         A and B edit the same text, the same map key and the same list at once;
//                      both converge to the same heads and keep both sides' edits
//   offline-reconnect  A goes offline (its adapter disconnects), both edit, A reconnects; converge
//   socket-drop        A's socket is terminated (no close handshake), both edit, A's adapter
//                      reconnects by itself; converge
//   ephemeral          A broadcasts on a handle, B receives the payload intact
//   late-arrival       B finds A's document before it reached the server (unavailable), then A
//                      uploads it: B's handle must become ready (as with the reference server)
//   unknown-doc        B finds a random automerge URL: it becomes unavailable (server said so)
//   big-doc            A writes a 1 MiB string, B receives it intact
//   js-reads           finds --doc and prints its content as JSON ("content"); with
//                      --ready-file PATH it writes PATH once it holds the document, with
//                      --until-contains TEXT it then waits until the content's JSON contains TEXT
//   js-ephemeral       finds --doc, writes --ready-file, waits for one ephemeral message (from
//                      the Rust SDK) and broadcasts {echo: message, from: "js"} back
//   js-presence        finds --doc, starts automerge-repo's Presence as member ewa-js (focus
//                      agenda), waits to see the Rust SDK's member anna with focus minutes,
//                      moves its focus to decisions (editing), waits to see anna follow it
//                      there, then stops (goodbye) and prints what it saw
//   js-appends         finds --doc, appends --append TEXT to its "notes" text, waits until the
//                      server acknowledged it
//   js-appends-many    finds --doc, appends --count pieces "<--prefix><i>; " to "notes" (one
//                      change each), announces, waits until the server acknowledged them
//   js-writes          creates a document from --content, waits until the server has it (the
//                      server acknowledged its heads and a fresh repo C finds it), prints "url"

import { createHash, randomBytes } from "node:crypto"
/** Tells the caller (a Rust test reading stdout) that this repo holds the document. */
function announceReady(details) {
  console.log(JSON.stringify({ event: "ready", ...details }))
}
import { isDeepStrictEqual } from "node:util"
import {
  Repo,
  generateAutomergeUrl,
  isValidAutomergeUrl,
  parseAutomergeUrl,
  encodeHeads,
  splice,
  getConflicts,
  cbor,
  Presence,
} from "@automerge/automerge-repo"
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

// ------------------------------------------------------------------ arguments
const argv = process.argv.slice(2)
function opt(name, envName, dflt) {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) {
    if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
    return argv[i + 1]
  }
  if (envName && process.env[envName] !== undefined && process.env[envName] !== "") {
    return process.env[envName]
  }
  return dflt
}
class UsageError extends Error {}

const T0 = Date.now()
const log = (...a) => console.error(`[interop ${String(Date.now() - T0).padStart(5)} ms]`, ...a)

let scenarioName = "?"
let finished = false
const repos = []

function emit(result) {
  if (finished) return
  finished = true
  process.stdout.write(JSON.stringify(result) + "\n")
}

async function fail(error) {
  const message = error instanceof Error ? error.message : String(error)
  console.error(`interop: scenario ${scenarioName} FAILED: ${message}`)
  if (error instanceof Error && error.stack && !(error instanceof UsageError)) {
    console.error(error.stack)
  }
  for (const r of repos) console.error(`interop: ${r.label}: ${JSON.stringify(r.report())}`)
  emit({ ok: false, scenario: scenarioName, error: message })
  process.exit(1)
}

// The websocket adapter throws from its socket error handler for anything but ECONNREFUSED
// (a TLS failure, a 401 during the upgrade...): it surfaces here, and becomes a clear failure.
process.on("uncaughtException", e => {
  const hint = /certificate|self[- ]signed|CERT|TLS/i.test(String(e?.message ?? e) + String(e?.code ?? ""))
    ? " (TLS: is NODE_EXTRA_CA_CERTS set to the server's certificate PEM?)"
    : /401|Unexpected server response/.test(String(e?.message ?? e))
      ? " (the server refused the upgrade: is the device token valid?)"
      : ""
  void fail(new Error(`uncaught ${e?.code ? e.code + " " : ""}${e?.message ?? e}${hint}`))
})
process.on("unhandledRejection", e => {
  void fail(new Error(`unhandled rejection: ${e?.message ?? e}`))
})

let TIMEOUT_MS = 20000
// The adapter's reconnect interval (its default is 5000 ms).
let RETRY_MS = 5000
// Whether the server may close our sockets (a test that restarts the server says so).
let ALLOW_SERVER_CLOSE = false
let baseUrl

// ------------------------------------------------------------------ waiting helpers
const tick = ms => new Promise(r => setTimeout(r, ms))

/** Polls `pred` (sync or async) until it is truthy; throws after `timeoutMs`. */
async function waitUntil(pred, what, timeoutMs = TIMEOUT_MS) {
  const end = Date.now() + timeoutMs
  let lastError
  for (;;) {
    try {
      const v = await pred()
      if (v) return v
    } catch (e) {
      lastError = e
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError ? ` (last error: ${lastError.message})` : ""),
      )
    }
    await tick(20)
  }
}

/** Races a promise against a deadline. */
async function within(promise, what, timeoutMs = TIMEOUT_MS) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ------------------------------------------------------------------ in-memory storage
/** Minimal StorageAdapterInterface: gives a repo a storageId (a non-ephemeral peer). */
class MemoryStorageAdapter {
  #data = new Map()
  #k = key => key.join("\u0000")
  async load(key) {
    return this.#data.get(this.#k(key))
  }
  async save(key, data) {
    this.#data.set(this.#k(key), data)
  }
  async remove(key) {
    this.#data.delete(this.#k(key))
  }
  async loadRange(prefix) {
    const p = this.#k(prefix)
    const out = []
    for (const [k, data] of this.#data) if (k.startsWith(p)) out.push({ key: k.split("\u0000"), data })
    return out
  }
  async removeRange(prefix) {
    const p = this.#k(prefix)
    for (const k of [...this.#data.keys()]) if (k.startsWith(p)) this.#data.delete(k)
  }
}

// ------------------------------------------------------------------ peers
function withToken(url, token) {
  const u = new URL(url)
  u.searchParams.set("token", token)
  return u.toString()
}

/**
 * A Repo with its own adapter and peer id. Records what the server says about each document:
 * the heads it acknowledged (from the sync state) and the message types received.
 */
class Peer {
  constructor(label, token, { storage = true, retryMs = RETRY_MS } = {}) {
    this.label = label
    this.retryMs = retryMs
    this.frames = { in: {}, out: {} }
    this.closes = []
    this.problems = []
    this.serverMetadata = undefined
    this.closing = false
    this.token = token
    this.url = withToken(baseUrl, token)
    this.peerId = `js-interop-${label}-${randomBytes(4).toString("hex")}`
    this.adapter = this.#newAdapter()
    this.repo = new Repo({
      network: [this.adapter],
      storage: storage ? new MemoryStorageAdapter() : undefined,
      peerId: this.peerId,
    })
    /** documentId -> peerId -> encoded heads the peer told us it has */
    this.theirHeads = new Map()
    /** received message log: {type, documentId, senderId} */
    this.received = []
    this.repo.synchronizer.on("sync-state", ({ peerId, documentId, syncState }) => {
      if (!syncState.theirHeads) return
      if (!this.theirHeads.has(documentId)) this.theirHeads.set(documentId, new Map())
      this.theirHeads.get(documentId).set(peerId, encodeHeads(syncState.theirHeads))
    })
    repos.push(this)
  }

  #newAdapter() {
    const adapter = new BrowserWebSocketClientAdapter(this.url, this.retryMs)
    adapter.on("message", m =>
      this.received.push({ type: m.type, documentId: m.documentId, senderId: m.senderId }),
    )
    // Every frame both ways, decoded, and every close of the socket: the server must never send
    // an `error` frame or close the socket in these scenarios.
    const receive = adapter.receiveMessage.bind(adapter)
    adapter.receiveMessage = bytes => {
      this.#record("in", bytes)
      return receive(bytes)
    }
    const send = adapter.send.bind(adapter)
    adapter.send = message => {
      this.frames.out[message.type] = (this.frames.out[message.type] ?? 0) + 1
      return send(message)
    }
    const onClose = adapter.onClose
    adapter.onClose = event => {
      this.closes.push({ code: event?.code, reason: String(event?.reason ?? ""), byUs: this.closing })
      return onClose(event)
    }
    return adapter
  }

  #record(direction, bytes) {
    let message
    try {
      message = cbor.decode(new Uint8Array(bytes))
    } catch (e) {
      this.problems.push(`undecodable ${direction} frame of ${bytes.byteLength} bytes: ${e.message}`)
      return
    }
    this.frames[direction][message.type] = (this.frames[direction][message.type] ?? 0) + 1
    if (message.type === "error") this.problems.push(`server sent error frame: ${message.message}`)
    if (message.type === "peer") this.serverMetadata = message.peerMetadata ?? null
  }

  /** Frame counts, closes and problems, for the result line. */
  report() {
    return {
      peerId: this.peerId,
      frames: this.frames,
      closes: this.closes,
      problems: this.problems,
      serverMetadata: this.serverMetadata,
    }
  }

  /** The server's peer id once the handshake is done. */
  get serverPeer() {
    return this.repo.peers[0]
  }

  async connected() {
    await waitUntil(() => this.repo.peers.length > 0, `${this.label}: handshake with the server`)
    log(`${this.label} (${this.peerId}) connected to ${this.serverPeer}`)
    return this.serverPeer
  }

  /** Whether the server told us it holds exactly `handle`'s current heads. */
  serverHas(handle) {
    const server = this.serverPeer
    if (!server) return false
    const theirs = this.theirHeads.get(handle.documentId)?.get(server)
    return !!theirs && sameHeads(theirs, handle.heads())
  }

  async waitServerHas(handle, what = "the server to acknowledge the document") {
    await waitUntil(() => this.serverHas(handle), `${this.label}: ${what}`)
  }

  async find(url, what) {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS)
    try {
      return await this.repo.find(url, { signal: controller.signal })
    } catch (e) {
      if (controller.signal.aborted) {
        throw new Error(`${this.label}: timed out after ${TIMEOUT_MS} ms finding ${what ?? url}`)
      }
      throw new Error(`${this.label}: finding ${what ?? url} failed: ${e.message}`)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Takes this repo offline: the adapter closes its socket and stops retrying. */
  goOffline() {
    this.closing = true
    this.repo.networkSubsystem.removeNetworkAdapter(this.adapter)
  }

  /** Back online with a fresh adapter (same peer id, same storage). */
  async goOnline() {
    this.closing = false
    this.adapter = this.#newAdapter()
    this.repo.networkSubsystem.addNetworkAdapter(this.adapter)
    await this.connected()
  }

  async shutdown() {
    this.closing = true
    try {
      await within(this.repo.shutdown(), `${this.label}: shutdown`, 5000)
    } catch (e) {
      log(`${this.label}: ${e.message}`)
    }
  }
}

const sameHeads = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join()
const plain = doc => JSON.parse(JSON.stringify(doc))
const sha256 = s => createHash("sha256").update(s).digest("hex")

function token(which) {
  const t =
    opt(`token-${which}`, `INTEROP_TOKEN_${which.toUpperCase()}`) ?? opt("token", "INTEROP_TOKEN")
  if (!t) {
    throw new UsageError(
      `no device token for repo ${which.toUpperCase()}: give --token-${which}, --token, ` +
        `INTEROP_TOKEN_${which.toUpperCase()} or INTEROP_TOKEN`,
    )
  }
  return t
}

async function twoPeers() {
  const a = new Peer("a", token("a"))
  const b = new Peer("b", token("b"))
  await Promise.all([a.connected(), b.connected()])
  return [a, b]
}

/** Waits until both handles have identical, non-empty heads; returns them. */
async function converge(ha, hb, what) {
  await waitUntil(
    () => ha.heads().length > 0 && sameHeads(ha.heads(), hb.heads()),
    `${what}: both sides to reach the same heads`,
  )
  return ha.heads()
}

// ------------------------------------------------------------------ scenarios
const scenarios = {
  async "create-find"() {
    const [a, b] = await twoPeers()
    const content = {
      title: "Sprawa 17/2025",
      notes: "Zgłoszenie ze szkoły: zażółć gęślą jaźń.",
      family: { adults: 2, children: ["Ola", "Kuba"] },
      open: true,
    }
    const ha = a.repo.create(content)
    log(`A created ${ha.url}`)
    await a.waitServerHas(ha)
    const hb = await b.find(ha.url, "A's document")
    const seen = plain(hb.doc())
    if (!isDeepStrictEqual(seen, content)) {
      throw new Error(`B sees ${JSON.stringify(seen)}, A wrote ${JSON.stringify(content)}`)
    }
    const heads = await converge(ha, hb, "create-find")
    return { url: ha.url, content: seen, heads }
  },

  async concurrent() {
    const [a, b] = await twoPeers()
    const ha = a.repo.create({ notes: "Notatka. ", status: "nowa", visits: ["pierwsza"] })
    await a.waitServerHas(ha)
    const hb = await b.find(ha.url, "A's document")
    await converge(ha, hb, "initial sync")
    // Same event-loop turn, no IO in between: neither side can have seen the other's change.
    ha.change(d => {
      splice(d, ["notes"], 0, 0, "[A] ")
      splice(d, ["notes"], d.notes.length, 0, " koniec A")
      d.status = "w toku (A)"
      d.visits.push("A1", "A2")
      d.visits.insertAt(0, "A0")
    })
    hb.change(d => {
      splice(d, ["notes"], 0, 0, "[B] ")
      splice(d, ["notes"], d.notes.length, 0, " koniec B")
      d.status = "zamknięta (B)"
      d.visits.push("B1")
      d.visits.insertAt(0, "B0")
    })
    const heads = await converge(ha, hb, "concurrent edits")
    if (heads.length !== 1) {
      // Two concurrent changes merged by nobody: the heads are both changes.
      log(`converged on ${heads.length} heads (both concurrent changes are heads)`)
    }
    const da = plain(ha.doc())
    const db = plain(hb.doc())
    if (!isDeepStrictEqual(da, db)) {
      throw new Error(`same heads but different content: A ${JSON.stringify(da)} B ${JSON.stringify(db)}`)
    }
    for (const piece of ["[A] ", "[B] ", " koniec A", " koniec B", "Notatka."]) {
      if (!da.notes.includes(piece)) throw new Error(`notes lost ${JSON.stringify(piece)}: ${da.notes}`)
    }
    for (const item of ["pierwsza", "A0", "A1", "A2", "B0", "B1"]) {
      if (!da.visits.includes(item)) throw new Error(`visits lost ${item}: ${JSON.stringify(da.visits)}`)
    }
    if (da.visits.indexOf("A1") + 1 !== da.visits.indexOf("A2")) {
      throw new Error(`A's consecutive inserts were interleaved: ${JSON.stringify(da.visits)}`)
    }
    const conflictsA = Object.values(getConflicts(ha.doc(), "status") ?? {}).map(String).sort()
    const conflictsB = Object.values(getConflicts(hb.doc(), "status") ?? {}).map(String).sort()
    const expected = ["w toku (A)", "zamknięta (B)"]
    if (!isDeepStrictEqual(conflictsA, expected) || !isDeepStrictEqual(conflictsB, expected)) {
      throw new Error(
        `both values of the conflicting key must be kept: A ${JSON.stringify(conflictsA)}, B ${JSON.stringify(conflictsB)}`,
      )
    }
    return { url: ha.url, heads, content: da, conflicts: conflictsA }
  },

  async "offline-reconnect"() {
    const [a, b] = await twoPeers()
    const ha = a.repo.create({ notes: "Start.", entries: [] })
    await a.waitServerHas(ha)
    const hb = await b.find(ha.url, "A's document")
    await converge(ha, hb, "initial sync")

    a.goOffline()
    await waitUntil(() => a.repo.peers.length === 0, "A to be offline")
    log("A is offline")
    ha.change(d => {
      splice(d, ["notes"], d.notes.length, 0, " Offline A.")
      d.entries.push("A offline 1")
    })
    ha.change(d => {
      d.entries.push("A offline 2")
      d.offlineA = true
    })
    hb.change(d => {
      splice(d, ["notes"], 0, 0, "Online B. ")
      d.entries.push("B online")
      d.onlineB = true
    })
    await b.waitServerHas(hb, "the server to acknowledge B's edit while A is offline")
    if (plain(ha.doc()).onlineB) throw new Error("A received B's edit while offline")

    await a.goOnline()
    log("A is back online")
    const heads = await converge(ha, hb, "after reconnecting")
    const da = plain(ha.doc())
    const db = plain(hb.doc())
    if (!isDeepStrictEqual(da, db)) {
      throw new Error(`same heads but different content: A ${JSON.stringify(da)} B ${JSON.stringify(db)}`)
    }
    for (const k of ["offlineA", "onlineB"]) if (da[k] !== true) throw new Error(`lost ${k}: ${JSON.stringify(da)}`)
    for (const e of ["A offline 1", "A offline 2", "B online"]) {
      if (!da.entries.includes(e)) throw new Error(`lost entry ${e}: ${JSON.stringify(da.entries)}`)
    }
    if (!da.notes.includes("Offline A.") || !da.notes.includes("Online B.")) {
      throw new Error(`lost text: ${da.notes}`)
    }
    await a.waitServerHas(ha, "the server to acknowledge the merged heads")
    return { url: ha.url, heads, content: da }
  },

  async "socket-drop"() {
    // A's socket dies without a close handshake (as when a laptop loses its network); the
    // adapter notices, both sides edit, and the adapter reconnects on its own.
    const a = new Peer("a", token("a"), { retryMs: 300 })
    const b = new Peer("b", token("b"))
    await Promise.all([a.connected(), b.connected()])
    const ha = a.repo.create({ notes: "Start.", entries: [] })
    await a.waitServerHas(ha)
    const hb = await b.find(ha.url, "A's document")
    await converge(ha, hb, "initial sync")

    a.closing = true
    a.adapter.socket.terminate()
    await waitUntil(() => a.repo.peers.length === 0, "A to notice its dropped socket")
    ha.change(d => {
      splice(d, ["notes"], d.notes.length, 0, " Po zerwaniu A.")
      d.entries.push("A after drop")
    })
    hb.change(d => {
      splice(d, ["notes"], 0, 0, "B w tym czasie. ")
      d.entries.push("B meanwhile")
    })
    await waitUntil(() => a.repo.peers.length > 0, "A's adapter to reconnect by itself")
    a.closing = false
    log("A reconnected by itself")
    const heads = await converge(ha, hb, "after the reconnect")
    const da = plain(ha.doc())
    if (!isDeepStrictEqual(da, plain(hb.doc()))) throw new Error("same heads, different content")
    for (const e of ["A after drop", "B meanwhile"]) {
      if (!da.entries.includes(e)) throw new Error(`lost entry ${e}: ${JSON.stringify(da.entries)}`)
    }
    await a.waitServerHas(ha, "the server to acknowledge the merged heads")
    return { url: ha.url, heads, content: da }
  },

  async ephemeral() {
    const [a, b] = await twoPeers()
    const ha = a.repo.create({ notes: "Obecność." })
    await a.waitServerHas(ha)
    const hb = await b.find(ha.url, "A's document")
    await converge(ha, hb, "initial sync")
    const payload = {
      kind: "presence",
      user: "anna",
      cursor: 42,
      text: "zażółć gęślą jaźń",
      nested: { list: [1, 2.5, "trzy", null, true] },
      bytes: new Uint8Array([0, 1, 2, 254, 255]),
    }
    const received = new Promise(resolve => {
      hb.on("ephemeral-message", ({ senderId, message }) => resolve({ senderId, message }))
    })
    ha.broadcast(payload)
    log("A broadcast")
    const got = await within(received, "B to receive A's ephemeral message", Math.min(TIMEOUT_MS, 10000))
    if (got.senderId !== a.peerId) {
      throw new Error(`ephemeral message claims sender ${got.senderId}, A is ${a.peerId}`)
    }
    const { bytes, ...rest } = got.message ?? {}
    const { bytes: sentBytes, ...sentRest } = payload
    if (!isDeepStrictEqual(rest, sentRest) || !(bytes instanceof Uint8Array) ||
        Buffer.compare(Buffer.from(bytes), Buffer.from(sentBytes)) !== 0) {
      throw new Error(`payload changed on the way: sent ${JSON.stringify(sentRest)} + ${sentBytes}, got ${JSON.stringify(rest)} + ${bytes}`)
    }
    return { url: ha.url, senderId: got.senderId, payload: { ...rest, bytes: [...bytes] } }
  },

  async "late-arrival"() {
    // B asks for a document before it reaches the server (A made it offline). B is told it is
    // unavailable; once A comes online and uploads it, B's handle must become ready: the JS
    // reference server does that (it syncs the document to every peer that asked for it).
    const [a, b] = await twoPeers()
    a.goOffline()
    await waitUntil(() => a.repo.peers.length === 0, "A to be offline")
    const ha = a.repo.create({ notes: "Utworzona offline." })
    let early
    try {
      await b.find(ha.url, "A's document before it reached the server")
      early = "ready"
    } catch (e) {
      early = e.message
    }
    if (early === "ready") throw new Error("B found a document the server cannot have had yet")
    if (!/unavailable/.test(early)) throw new Error(early)
    log("B was told the document is unavailable; A goes online")
    await a.goOnline()
    await a.waitServerHas(ha)
    const hb = b.repo.handles[ha.documentId]
    await waitUntil(
      () => hb.isReady(),
      "B's unavailable handle to become ready once the document reached the server " +
        `(B's handle is ${hb.state}; frames B received: ${JSON.stringify(b.frames.in)})`,
      Math.min(TIMEOUT_MS, 10000),
    )
    await converge(ha, hb, "late arrival")
    return { url: ha.url, early, content: plain(hb.doc()) }
  },

  async "unknown-doc"() {
    const [, b] = await twoPeers()
    const url = generateAutomergeUrl()
    const { documentId } = parseAutomergeUrl(url)
    const started = Date.now()
    let outcome
    try {
      const handle = await b.find(url, "a random document")
      outcome = { found: true, content: plain(handle.doc()) }
    } catch (e) {
      outcome = { found: false, error: e.message }
    }
    const elapsedMs = Date.now() - started
    if (outcome.found) {
      throw new Error(`a random document was found: ${JSON.stringify(outcome.content)}`)
    }
    if (!/unavailable/.test(outcome.error)) throw new Error(outcome.error)
    const fromServer = b.received.filter(m => m.type === "doc-unavailable" && m.documentId === documentId)
    if (fromServer.length === 0) {
      throw new Error(
        `B marked the document unavailable, but the server never sent doc-unavailable for it ` +
          `(received: ${JSON.stringify(b.received)})`,
      )
    }
    return { url, unavailable: true, elapsedMs, error: outcome.error, serverSaid: fromServer[0] }
  },

  async "big-doc"() {
    const [a, b] = await twoPeers()
    const size = 1024 * 1024
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ."
    let big = ""
    const chunk = Array.from({ length: 4096 }, (_, i) => alphabet[(i * 7) % alphabet.length]).join("")
    while (big.length < size) big += chunk
    big = big.slice(0, size - 8) + "KONIEC!!"
    const ha = a.repo.create({ title: "Duża sprawa", big })
    log(`A created ${ha.url} with ${size} characters`)
    await a.waitServerHas(ha, "the server to acknowledge the 1 MiB document")
    const hb = await b.find(ha.url, "A's 1 MiB document")
    await converge(ha, hb, "1 MiB document")
    const got = hb.doc().big
    if (typeof got !== "string" || got.length !== size || got !== big) {
      throw new Error(
        `B's copy differs: length ${got?.length}, sha256 ${got ? sha256(got) : "-"} vs ${sha256(big)}`,
      )
    }
    return { url: ha.url, length: got.length, sha256: sha256(got), heads: hb.heads() }
  },

  async "js-reads"() {
    const url = opt("doc", "INTEROP_DOC")
    if (!url || !isValidAutomergeUrl(url)) throw new UsageError(`js-reads needs --doc automerge:..., got ${url}`)
    const b = new Peer("b", token("b"))
    await b.connected()
    const handle = await b.find(url, "the given document")
    const readyFile = opt("ready-file", "INTEROP_READY_FILE")
    const until = opt("until-contains", "INTEROP_UNTIL_CONTAINS")
    if (readyFile) {
      // Tells the caller (a Rust test) that this repo holds the document and is listening.
      announceReady({ url, heads: handle.heads() })
    }
    if (until) {
      await waitUntil(
        () => JSON.stringify(plain(handle.doc())).includes(until),
        `the document to contain ${JSON.stringify(until)} (it is ${JSON.stringify(plain(handle.doc()))})`,
      )
    }
    return { url, content: plain(handle.doc()), heads: handle.heads() }
  },

  async "js-ephemeral"() {
    // With a Rust SDK peer: waits for one ephemeral message on --doc (written as CBOR by the
    // SDK), then broadcasts {echo: <what it got>, from: "js"} back on the same document.
    const url = opt("doc", "INTEROP_DOC")
    if (!url || !isValidAutomergeUrl(url)) throw new UsageError(`js-ephemeral needs --doc automerge:..., got ${url}`)
    const readyFile = opt("ready-file", "INTEROP_READY_FILE")
    if (!readyFile) throw new UsageError("js-ephemeral needs --ready-file PATH")
    const b = new Peer("b", token("b"))
    await b.connected()
    const handle = await b.find(url, "the given document")
    const received = new Promise(resolve => {
      handle.on("ephemeral-message", ({ senderId, message }) => resolve({ senderId, message }))
    })
    announceReady({ url, peerId: b.peerId })
    const got = await within(received, "an ephemeral message from the Rust SDK")
    log(`got ${JSON.stringify(got)} from ${got.senderId}`)
    handle.broadcast({ echo: got.message, from: "js" })
    // Sent once the socket has flushed it; the caller checks that it arrived.
    await waitUntil(() => b.adapter.socket?.bufferedAmount === 0, "the broadcast to leave the socket")
    return { url, senderId: got.senderId, message: got.message }
  },

  async "js-presence"() {
    const url = opt("doc", "INTEROP_DOC")
    if (!url || !isValidAutomergeUrl(url)) throw new UsageError(`js-presence needs --doc automerge:..., got ${url}`)
    const b = new Peer("b", token("b"))
    await b.connected()
    const handle = await b.find(url, "the given document")
    const presence = new Presence({ handle })
    // Resolves when some peer's state satisfies `pred`, re-checked on every presence event.
    const seen = (pred, what) =>
      within(
        new Promise(resolve => {
          const check = () => {
            const states = Object.values(presence.getPeerStates().value)
            const found = states.find(s => pred(s.value))
            if (found) {
              for (const e of ["update", "snapshot"]) presence.off(e, check)
              resolve(found)
            }
          }
          for (const e of ["update", "snapshot"]) presence.on(e, check)
          check()
        }),
        what,
      )
    const anna = s => s.member?.login === "anna"
    const annaInMinutes = seen(s => anna(s) && s.focus?.section === "minutes", "anna's presence in the minutes")
    presence.start({
      initialState: {
        member: { login: "ewa-js", name: "Ewa Nowak (JS)", institution: "szkola" },
        focus: { section: "agenda", editing: false },
      },
      heartbeatMs: 1000,
      peerTtlMs: 3000,
    })
    announceReady({ url, peerId: b.peerId })
    const first = await annaInMinutes
    presence.broadcast("focus", { section: "decisions", editing: true })
    const followed = await seen(s => anna(s) && s.focus?.section === "decisions", "anna to follow to the decisions")
    presence.stop()
    await waitUntil(() => b.adapter.socket?.bufferedAmount === 0, "the goodbye to leave the socket")
    return { url, peerId: b.peerId, annaPeer: first.peerId, first: first.value, followed: followed.value }
  },

  async "js-appends"() {
    const url = opt("doc", "INTEROP_DOC")
    if (!url || !isValidAutomergeUrl(url)) throw new UsageError(`js-appends needs --doc automerge:..., got ${url}`)
    const text = opt("append", "INTEROP_APPEND")
    if (!text) throw new UsageError("js-appends needs --append TEXT")
    const a = new Peer("a", token("a"))
    await a.connected()
    const handle = await a.find(url, "the given document")
    if (typeof handle.doc().notes !== "string") {
      throw new Error(`the document has no text field "notes": ${JSON.stringify(plain(handle.doc()))}`)
    }
    handle.change(d => splice(d, ["notes"], d.notes.length, 0, text))
    await a.waitServerHas(handle, "the server to acknowledge the appended text")
    return { url, content: plain(handle.doc()), heads: handle.heads() }
  },

  async "js-appends-many"() {
    // Through a bad network (a fault-injecting proxy): appends --count pieces "<prefix><i>; "
    // to "notes", one change each, announces that they are made, then waits until the server
    // acknowledged them (the test heals the network after the announcement).
    const url = opt("doc", "INTEROP_DOC")
    if (!url || !isValidAutomergeUrl(url)) throw new UsageError(`js-appends-many needs --doc automerge:..., got ${url}`)
    const count = Number(opt("count", "INTEROP_COUNT", "20"))
    const prefix = opt("prefix", "INTEROP_PREFIX", "j")
    const a = new Peer("a", token("a"), { retryMs: 300 })
    await a.connected()
    const handle = await a.find(url, "the given document")
    for (let i = 0; i < count; i++) {
      handle.change(d => splice(d, ["notes"], d.notes.length, 0, `${prefix}${i}; `))
      await tick(5)
    }
    announceReady({ url, made: count })
    await a.waitServerHas(handle, "the server to acknowledge every piece")
    return { url, content: plain(handle.doc()), heads: handle.heads() }
  },

  async "js-writes"() {
    const raw = opt("content", "INTEROP_CONTENT")
    if (!raw) throw new UsageError("js-writes needs --content JSON")
    let content
    try {
      content = JSON.parse(raw)
    } catch (e) {
      throw new UsageError(`--content is not JSON: ${e.message}`)
    }
    const a = new Peer("a", token("a"))
    await a.connected()
    const ha = a.repo.create(content)
    log(`A created ${ha.url}`)
    await a.waitServerHas(ha)
    // A fresh repo, that never saw A, can fetch it: the server really has it.
    const c = new Peer("c", token("c"), { storage: false })
    await c.connected()
    const hc = await c.find(ha.url, "the new document, from a fresh repo")
    await converge(ha, hc, "fresh repo")
    const seen = plain(hc.doc())
    if (!isDeepStrictEqual(seen, content)) {
      throw new Error(`the fresh repo sees ${JSON.stringify(seen)}, A wrote ${JSON.stringify(content)}`)
    }
    return { url: ha.url, heads: ha.heads(), content: seen }
  },
}

// ------------------------------------------------------------------ reference server
/**
 * `--reference`: runs the scenario against the JS reference sync server instead (a Repo behind
 * NodeWSServerAdapter on plain ws://127.0.0.1, sharePolicy () => false and storage, like
 * @automerge/automerge-repo-sync-server), to compare behaviours. Tokens are ignored there.
 */
async function startReferenceServer() {
  const { WebSocketServer } = await import("ws")
  const { NodeWSServerAdapter } = await import("@automerge/automerge-repo-network-websocket")
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  await within(new Promise(r => wss.once("listening", r)), "the reference server to listen")
  const repo = new Repo({
    network: [new NodeWSServerAdapter(wss)],
    storage: new MemoryStorageAdapter(),
    peerId: "js-reference-server",
    sharePolicy: async () => false,
  })
  return {
    url: `ws://127.0.0.1:${wss.address().port}/sync`,
    async stop() {
      await within(repo.shutdown(), "the reference server to stop", 5000).catch(() => {})
      wss.close()
    },
  }
}

// ------------------------------------------------------------------ main
async function main() {
  scenarioName = opt("scenario", "INTEROP_SCENARIO", "?")
  baseUrl = opt("url", "INTEROP_URL")
  const t = Number(opt("timeout-ms", "INTEROP_TIMEOUT_MS", "20000"))
  if (!Number.isFinite(t) || t <= 0) throw new UsageError(`bad --timeout-ms ${t}`)
  TIMEOUT_MS = t
  RETRY_MS = Number(opt("retry-ms", "INTEROP_RETRY_MS", "5000"))
  if (!Number.isFinite(RETRY_MS) || RETRY_MS <= 0) throw new UsageError(`bad --retry-ms ${RETRY_MS}`)
  ALLOW_SERVER_CLOSE = argv.includes("--allow-server-close")
  let reference
  if (argv.includes("--reference")) {
    reference = await startReferenceServer()
    baseUrl = reference.url
    for (const k of ["a", "b", "c"]) process.env[`INTEROP_TOKEN_${k.toUpperCase()}`] ??= "unused"
    log(`reference server at ${baseUrl}`)
  }
  if (!baseUrl) throw new UsageError("give --url wss://HOST:PORT/sync (or INTEROP_URL)")
  if (!/^wss?:\/\//.test(baseUrl)) throw new UsageError(`--url must be ws:// or wss://, got ${baseUrl}`)
  const run = scenarios[scenarioName]
  if (!run) {
    throw new UsageError(
      `unknown scenario ${JSON.stringify(scenarioName)}; one of: ${Object.keys(scenarios).join(", ")}`,
    )
  }
  log(`scenario ${scenarioName} against ${baseUrl}`)
  // An overall watchdog, in case something hangs outside the individual waits.
  const watchdog = setTimeout(
    () => void fail(new Error(`the scenario did not finish within ${5 * TIMEOUT_MS} ms`)),
    5 * TIMEOUT_MS,
  )
  const result = await run()
  clearTimeout(watchdog)
  const peers = Object.fromEntries(repos.map(r => [r.label, r.report()]))
  const problems = repos.flatMap(r => [
    ...r.problems.map(p => `${r.label}: ${p}`),
    ...r.closes
      .filter(c => !c.byUs && !ALLOW_SERVER_CLOSE)
      .map(c => `${r.label}: the server closed the socket (${c.code} ${c.reason})`),
  ])
  if (problems.length > 0) {
    throw new Error(`${problems.join("; ")} (peers: ${JSON.stringify(peers)})`)
  }
  emit({ ok: true, scenario: scenarioName, elapsedMs: Date.now() - T0, ...result, peers })
  await Promise.all(repos.map(r => r.shutdown()))
  await reference?.stop()
  process.exit(0)
}

main().catch(fail)
