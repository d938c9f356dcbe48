#!/usr/bin/env node
// Captures golden fixtures from the official automerge-repo JS packages (versions pinned in
// package.json / package-lock.json) for Kooperacja's Rust tests:
//
//   tests/fixtures/js/frames/NNN-<c2s|s2c>-<type>.cbor   raw websocket frames, as sent on the wire
//   tests/fixtures/js/frames/manifest.json                 decoded fields of every saved frame
//   tests/fixtures/js/capture-summary.json                 every frame seen (saved or not), pings,
//                                                          close codes, reconnect timing
//   tests/fixtures/js/document-ids.json                    ids/urls from generateAutomergeUrl() etc.
//   tests/fixtures/js/doc-created-by-js.automerge (+.json) Automerge.save() bytes and their heads
//
// Topology (everything on 127.0.0.1, random ports):
//
//   client A ─┐                      ┌─ WebSocketServer (ws) + NodeWSServerAdapter + Repo
//   client B ─┼─► recording relay ───┤   (in-memory storage, sharePolicy () => false like
//   client C ─┘   (records frames)   └─  @automerge/automerge-repo-sync-server)
//
// A and B have in-memory storage (non-ephemeral peers with a storageId), C has none (ephemeral).
// All repos have enableRemoteHeadsGossiping: true.
//
//   npm ci && node capture-fixtures.mjs [--out ../fixtures/js] [--verbose]

import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { WebSocketServer, WebSocket } from "ws"
import {
  Repo,
  Presence,
  generateAutomergeUrl,
  parseAutomergeUrl,
  stringifyAutomergeUrl,
  isValidAutomergeUrl,
  isValidDocumentId,
  encodeHeads,
  splice,
} from "@automerge/automerge-repo"
import {
  BrowserWebSocketClientAdapter,
  NodeWSServerAdapter,
} from "@automerge/automerge-repo-network-websocket"
import * as A from "@automerge/automerge"
import { decode as cborDecode } from "cbor-x"

const here = path.dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const argVal = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : dflt
}
const OUT = path.resolve(argVal("--out", path.join(here, "..", "fixtures", "js")))
const VERBOSE = argv.includes("--verbose")
const MAX_FILES = 40
const SYNC_FRAMES_PER_DIRECTION = 4 // keep only the first few "sync" frames each way

const T0 = Date.now()
const ms = () => Date.now() - T0
const log = (...a) => console.error(`[${String(ms()).padStart(5)} ms]`, ...a)
const sleep = t => new Promise(r => setTimeout(r, t))
async function waitUntil(pred, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    let v
    try { v = await pred() } catch { v = false }
    if (v) return v
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`)
    await sleep(10)
  }
}
const hex = u8 => Buffer.from(u8).toString("hex")

// ------------------------------------------------------------------ in-memory storage
/** Minimal StorageAdapterInterface: gives a repo a storageId (i.e. a non-ephemeral peer). */
class MemoryStorageAdapter {
  #data = new Map()
  #k = key => key.join("\u0000")
  async load(key) { return this.#data.get(this.#k(key)) }
  async save(key, data) { this.#data.set(this.#k(key), data) }
  async remove(key) { this.#data.delete(this.#k(key)) }
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

// ------------------------------------------------------------------ server
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
await new Promise(r => wss.once("listening", r))
const serverUrl = `ws://127.0.0.1:${wss.address().port}`
const SERVER_KEEPALIVE_MS = 5000 // NodeWSServerAdapter's default, passed explicitly for clarity
const serverRepo = new Repo({
  network: [new NodeWSServerAdapter(wss, SERVER_KEEPALIVE_MS)],
  storage: new MemoryStorageAdapter(),
  peerId: "js-sync-server",
  sharePolicy: async () => false, // like automerge-repo-sync-server: don't push docs nobody asked for
  enableRemoteHeadsGossiping: true,
})
const serverStorageId = await serverRepo.storageId()
log(`server ${serverUrl} storageId ${serverStorageId}`)

// ------------------------------------------------------------------ recording relay
const frames = [] // { seq, tMs, direction, conn, bytes, binary }
const events = [] // pings, closes, connects
let seq = 0
const conns = [] // { id, label, downstream, upstream, openedAt }
const relay = new WebSocketServer({ host: "127.0.0.1", port: 0 })
await new Promise(r => relay.once("listening", r))
const relayUrl = `ws://127.0.0.1:${relay.address().port}`

relay.on("connection", downstream => {
  const conn = { id: conns.length, label: null, downstream, openedAt: ms() }
  conns.push(conn)
  events.push({ tMs: ms(), event: "client-connected", conn: conn.id })
  const upstream = new WebSocket(serverUrl)
  conn.upstream = upstream
  const pending = []
  const record = (direction, data, binary) => {
    const bytes = new Uint8Array(data)
    const f = { seq: seq++, tMs: ms(), direction, conn: conn.id, bytes, binary }
    frames.push(f)
    if (direction === "c2s" && conn.label === null) {
      try { conn.label = cborDecode(bytes).senderId ?? null } catch { /* keep null */ }
    }
    if (VERBOSE) {
      let t = "?"
      try { t = cborDecode(bytes).type } catch { /* ignore */ }
      log(`frame #${f.seq} conn${conn.id} ${direction} ${t} ${bytes.length}B`)
    }
  }
  downstream.on("message", (data, isBinary) => {
    record("c2s", data, isBinary)
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary })
    else pending.push([data, isBinary])
  })
  upstream.on("open", () => {
    for (const [d, b] of pending.splice(0)) upstream.send(d, { binary: b })
  })
  upstream.on("message", (data, isBinary) => {
    record("s2c", data, isBinary)
    if (downstream.readyState === WebSocket.OPEN) downstream.send(data, { binary: isBinary })
  })
  // ws answers pings with pongs automatically; we only note them.
  upstream.on("ping", () => events.push({ tMs: ms(), event: "server-ping", conn: conn.id }))
  downstream.on("ping", () => events.push({ tMs: ms(), event: "client-ping", conn: conn.id }))
  downstream.on("pong", () => events.push({ tMs: ms(), event: "client-pong", conn: conn.id }))
  downstream.on("close", (code, reason) => {
    events.push({ tMs: ms(), event: "client-closed", conn: conn.id, code, reason: String(reason) })
    upstream.close()
  })
  upstream.on("close", (code, reason) => {
    events.push({ tMs: ms(), event: "server-closed", conn: conn.id, code, reason: String(reason) })
    if (downstream.readyState === WebSocket.OPEN) downstream.close()
  })
  upstream.on("error", e => events.push({ tMs: ms(), event: "upstream-error", conn: conn.id, message: e.message }))
  downstream.on("error", e => events.push({ tMs: ms(), event: "downstream-error", conn: conn.id, message: e.message }))
})
log(`relay ${relayUrl}`)

// ------------------------------------------------------------------ clients
// BrowserWebSocketClientAdapter is an alias of WebSocketClientAdapter; in Node it uses `ws`
// through isomorphic-ws. retryInterval is left at its default (5000 ms).
function makeClient({ peerId, storage }) {
  const adapter = new BrowserWebSocketClientAdapter(relayUrl)
  const repo = new Repo({
    network: [adapter],
    storage: storage ? new MemoryStorageAdapter() : undefined,
    ...(peerId ? { peerId } : {}),
    enableRemoteHeadsGossiping: true,
  })
  return { repo, adapter }
}

const a = makeClient({ peerId: "js-client-a", storage: true })
await waitUntil(() => a.repo.peers.includes("js-sync-server"), "client A peer")
log("client A connected")
const b = makeClient({ storage: true }) // default random peerId: "peer-" + Math.random().toString(36).slice(4)
await waitUntil(() => b.repo.peers.includes("js-sync-server"), "client B peer")
log(`client B connected as ${b.repo.peerId}`)
const aStorageId = await a.repo.storageId()
const bStorageId = await b.repo.storageId()

// B wants to hear about A's heads as the server sees them -> remote-subscription-change (c2s)
b.repo.subscribeToRemotes([aStorageId])
await sleep(100)

// A creates a document and edits it
const handleA = a.repo.create({ title: "Sprawa", notes: "Notatki do sprawy." })
const docUrl = handleA.url
const docId = handleA.documentId
handleA.change(d => { splice(d, ["notes"], 0, 0, "Uwaga: ") })
handleA.change(d => { d.status = "otwarta" })
log(`A created ${docUrl}`)
const serverHasHeads = heads => {
  const h = serverRepo.handles[docId]
  if (!h || !h.isReady()) return false
  const s = new Set(A.getHeads(h.doc()))
  return heads.every(x => s.has(x))
}
await waitUntil(() => serverHasHeads(A.getHeads(handleA.doc())), "server to have A's doc")

// B finds it by URL and edits it
const handleB = await b.repo.find(docUrl)
log("B found the doc", JSON.stringify(handleB.doc()))
handleB.change(d => { d.title = "Sprawa (B)" })
handleB.change(d => { splice(d, ["notes"], d.notes.length, 0, " Dopisek B.") })
await waitUntil(() => handleA.doc().title === "Sprawa (B)" && handleA.doc().notes.endsWith("Dopisek B."), "A to see B's edits")
log("A sees B's edits")
// One more edit by A so that the server's view of A's heads changes while B is subscribed
handleA.change(d => { d.count = 1 })
await waitUntil(() => handleB.doc().count === 1, "B to see A's 2nd edit")

// An unknown document -> doc-unavailable
const unknownUrl = generateAutomergeUrl()
let unavailableError = null
try {
  await b.repo.find(unknownUrl)
} catch (e) { unavailableError = e.message }
log(`find(unknown) -> ${unavailableError}`)

// Ephemeral broadcast A -> server -> B
const gotEphemeral = []
handleB.on("ephemeral-message", e => gotEphemeral.push({ tMs: ms(), senderId: e.senderId, message: e.message }))
handleA.broadcast({ kind: "cursor", user: "A", position: 3, ratio: 0.5, tags: ["a", "b"], raw: new Uint8Array([1, 2, 3]) })
await waitUntil(() => gotEphemeral.length >= 1, "B to receive the ephemeral message")

// Presence (automerge-repo 2.5.x) on the same handle: snapshot, update, heartbeat, goodbye
const presence = new Presence({ handle: handleA })
presence.start({ initialState: { name: "Anna" }, heartbeatMs: 300 })
await sleep(50)
presence.broadcast("cursor", { line: 2, col: 7 })
await sleep(450) // at least one heartbeat
presence.stop() // sends goodbye
await waitUntil(() => gotEphemeral.some(e => e.message?.__presence?.type === "goodbye"), "B to receive presence goodbye")
log(`B received ${gotEphemeral.length} ephemeral messages`)

// An ephemeral client (no storage -> peerMetadata.storageId undefined) fetches the doc and leaves
const c = makeClient({ peerId: "js-client-ephemeral", storage: false })
await waitUntil(() => c.repo.peers.includes("js-sync-server"), "client C peer")
const handleC = await c.repo.find(docUrl)
log("C found the doc", JSON.stringify(handleC.doc()))
await sleep(200)
await c.repo.shutdown() // does it send a "leave"? (it does not: it just closes the socket)
await sleep(200)

// Reconnect probe: the relay drops B's connection; how long until B reconnects and re-joins?
const bConn = conns.find(x => x.label === b.repo.peerId && x.downstream.readyState === WebSocket.OPEN)
const dropAt = ms()
bConn.downstream.close(1001, "relay drops the connection")
const reconnect = await waitUntil(() => {
  const j = frames.find(f => f.tMs >= dropAt && f.direction === "c2s" && f.conn !== bConn.id)
  return j ? { droppedAtMs: dropAt, newConnectionAtMs: conns.find(x => x.id === j.conn).openedAt, firstFrameAtMs: j.tMs } : false
}, "B to reconnect", 15000)
await waitUntil(() => b.repo.peers.includes("js-sync-server"), "B peer again")
handleB.change(d => { d.count = 2 })
await waitUntil(() => handleA.doc().count === 2, "A to see B's edit after reconnect")
log(`B reconnected ${reconnect.newConnectionAtMs - dropAt} ms after the drop`)

// Linger to see at least one keep-alive ping from the server
await waitUntil(() => events.some(e => e.event === "server-ping"), "a server keep-alive ping", 8000)

// Shut down clients (closes sockets; no leave is sent)
// (shutdown() disconnects the adapters, then flushes storage; B's flush rejects because of the
// unavailable handle, which is harmless here)
for (const r of [a.repo, b.repo]) {
  try { await r.shutdown() } catch (e) { log(`shutdown of ${r.peerId}: ${e.message}`) }
}
await sleep(300)

// ------------------------------------------------------------------ write frames
const framesDir = path.join(OUT, "frames")
fs.mkdirSync(framesDir, { recursive: true })
for (const f of fs.readdirSync(framesDir)) {
  if (f.endsWith(".cbor") || f === "manifest.json") fs.rmSync(path.join(framesDir, f))
}

/** JSON-safe rendering of a decoded CBOR value (bytes and undefined made explicit). */
function jsonable(v) {
  if (v === undefined) return { $undefined: true }
  if (v instanceof Uint8Array) return { $bytes: hex(v) }
  if (Array.isArray(v)) return v.map(jsonable)
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]))
  return v
}

const decoded = frames.map(f => {
  let msg = null, error = null
  try { msg = cborDecode(f.bytes) } catch (e) { error = e.message }
  return { ...f, msg, type: msg?.type ?? "undecodable", error }
})

// choose which frames to save: every non-sync frame, the first few sync frames each way
const syncKept = { c2s: 0, s2c: 0 }
const typeSeen = new Map()
const chosen = []
for (const f of decoded) {
  let keep
  if (f.type === "sync" && f.msg.documentId !== docId) {
    // the server's sync reply for the unknown document (sent just before doc-unavailable)
    keep = !typeSeen.has("sync-unknown-doc")
    typeSeen.set("sync-unknown-doc", true)
  } else if (f.type === "sync") keep = syncKept[f.direction]++ < SYNC_FRAMES_PER_DIRECTION
  else if (f.type === "ephemeral") {
    // plain broadcast: each hop (A->server, server->B, B's echo back to the server);
    // presence: one of each kind in each direction
    const inner = (() => { try { return cborDecode(f.msg.data) } catch { return null } })()
    const k = inner?.__presence
      ? `${f.direction}:presence-${inner.__presence.type}`
      : `${f.direction}:${f.conn}:plain`
    keep = !typeSeen.has(k)
    typeSeen.set(k, true)
  } else {
    const k = `${f.direction}:${f.type}`
    const n = typeSeen.get(k) ?? 0
    typeSeen.set(k, n + 1)
    keep = n < 3
  }
  if (keep) chosen.push(f)
}
if (chosen.length > MAX_FILES) throw new Error(`too many frames chosen (${chosen.length})`)

const pad = n => String(n).padStart(3, "0")
const reconnectConnId = frames.find(f => f.seq >= 0 && f.tMs >= reconnect.droppedAtMs && f.direction === "c2s" && f.conn !== bConn.id)?.conn
const manifest = []
for (const f of chosen) {
  const file = `${pad(f.seq)}-${f.direction}-${f.type}.cbor`
  fs.writeFileSync(path.join(framesDir, file), f.bytes)
  const m = f.msg
  const entry = {
    file,
    seq: f.seq,
    direction: f.direction,
    type: f.type,
    senderId: m.senderId,
    targetId: m.targetId ?? null,
    connection: f.conn,
    connectionPeerId: conns[f.conn]?.label ?? null, // the client whose websocket carried the frame
    length: f.bytes.length,
    keys: Object.keys(m), // in wire order
  }
  if ("documentId" in m) entry.documentId = m.documentId
  if (f.type === "ephemeral") {
    entry.count = m.count
    entry.sessionId = m.sessionId
    entry.dataDecoded = jsonable(cborDecode(m.data))
  }
  if ("data" in m && m.data instanceof Uint8Array) {
    entry.dataLength = m.data.length
    if (f.type === "sync" || f.type === "request") {
      const s = A.decodeSyncMessage(m.data)
      entry.syncMessage = { heads: s.heads, need: s.need, haveCount: s.have.length, changeCount: s.changes.length }
    }
  }
  const notes = []
  if (f.conn === reconnectConnId) notes.push("after B's reconnect (new websocket, same peerId)")
  if (f.type === "ephemeral" && f.direction === "s2c")
    notes.push("relayed by the server: same bytes as the sender's frame except targetId (senderId, sessionId, count unchanged)")
  if (f.type === "ephemeral" && f.direction === "c2s" && m.senderId !== conns[f.conn]?.label)
    notes.push("echo: the receiving client forwards the relayed message back to the server (senderId/sessionId/count of the original sender); the JS server drops it as already seen")
  if (f.type === "sync" && m.documentId !== docId)
    notes.push("server's sync reply to a request for a document it does not have; doc-unavailable follows")
  if (f.type === "remote-subscription-change" && m.remove === undefined)
    notes.push("'remove' key present with CBOR undefined (0xf7)")
  if (f.type === "join" && m.peerMetadata && "storageId" in m.peerMetadata && m.peerMetadata.storageId === undefined)
    notes.push("peer without storage: peerMetadata.storageId present with CBOR undefined (0xf7)")
  if (notes.length) entry.notes = notes
  entry.decoded = jsonable(m)
  manifest.push(entry)
}
fs.writeFileSync(path.join(framesDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n")

// summary of everything seen
const connLabel = id => conns[id]?.label ?? null
const summary = {
  generatedBy: "tests/js/capture-fixtures.mjs",
  versions: {
    node: process.version,
    "@automerge/automerge": JSON.parse(fs.readFileSync(path.join(here, "node_modules/@automerge/automerge/package.json"), "utf8")).version,
    "@automerge/automerge-repo": JSON.parse(fs.readFileSync(path.join(here, "node_modules/@automerge/automerge-repo/package.json"), "utf8")).version,
    "@automerge/automerge-repo-network-websocket": JSON.parse(fs.readFileSync(path.join(here, "node_modules/@automerge/automerge-repo-network-websocket/package.json"), "utf8")).version,
    "cbor-x": JSON.parse(fs.readFileSync(path.join(here, "node_modules/cbor-x/package.json"), "utf8")).version,
  },
  setup: {
    server: { peerId: "js-sync-server", storageId: serverStorageId, sharePolicy: "() => false", enableRemoteHeadsGossiping: true, keepAliveIntervalMs: SERVER_KEEPALIVE_MS },
    clientA: { peerId: a.repo.peerId, storageId: aStorageId, retryIntervalMs: a.adapter.retryInterval },
    clientB: { peerId: b.repo.peerId, storageId: bStorageId, retryIntervalMs: b.adapter.retryInterval, subscribedToRemotes: [aStorageId] },
    clientC: { peerId: "js-client-ephemeral", storageId: null, note: "no storage -> isEphemeral: true" },
    documentUrl: docUrl,
    documentId: docId,
    unknownDocumentUrl: unknownUrl,
    unknownDocumentError: unavailableError,
  },
  connections: conns.map(x => ({ id: x.id, peerId: x.label, openedAtMs: x.openedAt })),
  frames: decoded.map(f => ({
    seq: f.seq, tMs: f.tMs, conn: f.conn, peer: connLabel(f.conn), direction: f.direction, binary: f.binary,
    type: f.type, length: f.bytes.length,
    file: chosen.includes(f) ? `${pad(f.seq)}-${f.direction}-${f.type}.cbor` : null,
  })),
  events,
  reconnect: { ...reconnect, delayMs: reconnect.newConnectionAtMs - reconnect.droppedAtMs },
  ephemeralReceivedByB: gotEphemeral.map(e => ({ ...e, message: jsonable(e.message) })),
}
fs.writeFileSync(path.join(OUT, "capture-summary.json"), JSON.stringify(summary, null, 2) + "\n")

// ------------------------------------------------------------------ the document
const finalDoc = handleA.doc()
const saved = A.save(finalDoc)
fs.writeFileSync(path.join(OUT, "doc-created-by-js.automerge"), saved)
fs.writeFileSync(path.join(OUT, "doc-created-by-js.json"), JSON.stringify({
  description: "Automerge.save() of the document created by client A and edited by A and B during the frame capture (automerge 3.5.0)",
  file: "doc-created-by-js.automerge",
  url: docUrl,
  documentId: docId,
  heads: A.getHeads(finalDoc).sort(),
  headsBase58check: encodeHeads(A.getHeads(finalDoc).sort()),
  changeCount: A.getAllChanges(finalDoc).length,
  actors: [...new Set(A.getAllChanges(finalDoc).map(ch => A.decodeChange(ch).actor))].sort(),
  byteLength: saved.length,
  content: finalDoc,
}, null, 2) + "\n")

// ------------------------------------------------------------------ document ids
const ids = []
for (let i = 0; i < 20; i++) {
  const url = generateAutomergeUrl()
  const p = parseAutomergeUrl(url)
  ids.push({ url, documentId: p.documentId, bytesHex: hex(p.binaryDocumentId) })
}
// urls with heads: bs58check(hash) joined by "|"
let d1 = A.from({ n: 0 })
const d2 = A.change(A.clone(d1), x => { x.n = 1 })
const d3 = A.change(A.clone(d1), x => { x.m = 2 })
const dm = A.merge(A.clone(d2), d3)
const headsCases = [
  { note: "one head", hexHeads: A.getHeads(d2) },
  { note: "two concurrent heads", hexHeads: A.getHeads(dm) },
  { note: "empty heads section (url ends in '#')", hexHeads: [] },
]
const withHeads = headsCases.map(({ note, hexHeads }) => {
  const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId
  const heads = encodeHeads(hexHeads)
  const url = stringifyAutomergeUrl({ documentId, heads })
  const p = parseAutomergeUrl(url)
  return {
    note, url, documentId, bytesHex: hex(p.binaryDocumentId),
    headsString: url.slice(url.indexOf("#") + 1),
    heads, // base58check-encoded, as in the url
    hexHeads: p.hexHeads, // 32-byte change hashes in hex
  }
})
// invalid ones
const base = ids[0].documentId
const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
// change one character to the next base58 digit (stays within the alphabet)
const flip = (str, at) => str.slice(0, at) + b58[(b58.indexOf(str[at]) + 1) % 58] + str.slice(at + 1)
const flipped = flip(base, Math.floor(base.length / 2))
const bs58checkOf = bytes => stringifyAutomergeUrl(bytes).slice("automerge:".length) // bs58check of arbitrary bytes
const invalidCases = [
  { input: flipped, reason: "bad checksum: one base58 character changed" },
  { input: base.slice(0, -1), reason: "truncated by one character (checksum fails)" },
  { input: base + "1", reason: "one extra character (checksum fails)" },
  { input: base.slice(0, 5) + "0" + base.slice(6), reason: "non-base58 character '0'" },
  { input: base.slice(0, 5) + "O" + base.slice(6), reason: "non-base58 character 'O'" },
  { input: base.slice(0, 5) + "l" + base.slice(6), reason: "non-base58 character 'l'" },
  { input: base.slice(0, 5) + "_" + base.slice(6), reason: "non-base58 character '_'" },
  { input: "", reason: "empty" },
  { input: bs58checkOf(new Uint8Array(15).fill(7)), reason: "valid bs58check of 15 bytes (wrong length; JS accepts it!)" },
  { input: bs58checkOf(new Uint8Array(17).fill(7)), reason: "valid bs58check of 17 bytes (wrong length; JS accepts it!)" },
  { input: bs58checkOf(new Uint8Array(32).fill(7)), reason: "valid bs58check of 32 bytes (wrong length; JS accepts it!)" },
  { input: "3Dm7v8pYr5K6g1gMv2Hc3fR3xJy", reason: "random base58 text (checksum fails)" },
]
const invalid = []
for (const { input, reason } of invalidCases) {
  invalid.push({
    input, kind: "documentId", reason,
    jsIsValidDocumentId: isValidDocumentId(input),
    jsIsValidAutomergeUrl: isValidAutomergeUrl("automerge:" + input),
  })
}
for (const [input, reason] of [
  [`automerge:${flipped}`, "url with bad checksum"],
  [`automerge:${base}#${flip(withHeads[0].heads[0], 10)}`, "url with a bad head (checksum fails)"],
  [`automerge:${base}#${withHeads[0].heads[0]}|`, "url with an empty head after '|'"],
  [`automerge:${base}#a#b`, "url with two heads sections"],
  [`automerge/${base}`, "wrong prefix"],
  [`Automerge:${base}`, "prefix is case sensitive"],
  [base, "bare documentId is not a url"],
]) {
  invalid.push({ input, kind: "url", reason, jsIsValidAutomergeUrl: isValidAutomergeUrl(input) })
}
fs.writeFileSync(path.join(OUT, "document-ids.json"), JSON.stringify({
  description: "From @automerge/automerge-repo 2.5.6: url = 'automerge:' + bs58check(16 random bytes, UUIDv4 layout); heads in urls are bs58check(32-byte change hash) joined by '|' after '#'. JS validity of documentIds only checks the bs58check checksum, not the length. A 16-byte id encodes to 27 or 28 base58 characters.",
  ids,
  withHeads,
  invalid,
}, null, 2) + "\n")

log(`wrote ${chosen.length} frame files (of ${frames.length} frames) to ${framesDir}`)
const counts = {}
for (const f of decoded) counts[`${f.direction}:${f.type}`] = (counts[`${f.direction}:${f.type}`] ?? 0) + 1
log("frames seen:", JSON.stringify(counts))
relay.close()
wss.close()
process.exit(0)
