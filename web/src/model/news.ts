// "Co nowego" (issue #19): what is new for a user, derived from the documents on the device, and
// the user's "seen" document (sync-core/src/model/seen.rs), which holds what they opened and is
// synced to all their devices. The rule of what is new is written here once; the app's screen
// and badge, and the unit tests (model-test/news.test.mjs), use these functions.
//
// New for a user with institution I:
// - a consultation in a PZK document addressed to I (`to` = I), not asked by the user;
// - a referral the user sent, answered (accepted or declined), once per outcome;
// - a case shared with the user (a case on the device the user does not own);
// - a meeting of a PZK document that invites I (`invitations[I]`), and a meeting whose minutes
//   were approved (`minutesApproved`), by someone else, when I is invited or a member;
// - a finished case the user holds that the server will erase at the end of its retention (the
//   server's notice, a month before: `erase_on` in GET /api/v1/me/documents), once per day;
// each until the user opens it (its key is in a "seen" document of theirs).

import * as A from "@automerge/automerge/slim"

import { applyEdit, checkId, type Edit } from "./editor.ts"
import { SCHEMA_VERSION, open } from "./header.ts"
import * as R from "./reader.ts"

type Obj = Record<string, unknown>
const s = (value: string) => new A.ImmutableString(value)

export type NewsKind = "consultation" | "referral" | "case" | "meeting" | "minutes" | "retention"

/** One thing new for the user. */
export interface NewsItem {
  /** Its key in the "seen" document. */
  key: string
  kind: NewsKind
  /** The document to open (a PZK document for a consultation or a meeting). */
  document: string
  /** The entry in it (consultation or meeting id), if any. */
  entry: string | null
  /** When it happened, as far as the documents tell. */
  at: Date | null
  /** What the list says, in Polish. */
  text: string
}

/** What the derivation reads: the documents on the device, as automerge's proxy shows them. */
export interface NewsInput {
  me: { login: string; institution: string | null }
  pzk: Array<{ id: string; doc: unknown }>
  referrals: Array<{ id: string; doc: unknown }>
  cases: Array<{ id: string; doc: unknown }>
  /** The server's retention notices: a case of the user's and the day it is to be erased (`YYYY-MM-DD`). */
  notices?: Array<{ id: string; eraseOn: string }>
  seen: ReadonlySet<string>
}

/** `YYYY-MM-DD` as a Polish date (`1.01.2032`); as given when it is not one. */
function polishDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number)
  if (!y || !m || !d) return day
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("pl-PL", { timeZone: "UTC" })
}

const opt = (node: Obj, key: string, path: string): string | null => {
  try {
    return R.optStr(node, key, path)
  } catch {
    return null
  }
}
const objAt = (node: unknown, key: string): Obj | null => {
  const value = (node as Obj | null)?.[key]
  return typeof value === "object" && value !== null && !(value instanceof Date) && !Array.isArray(value) ? (value as Obj) : null
}
const dateAt = (node: Obj | null, key: string): Date | null => (node?.[key] instanceof Date ? (node[key] as Date) : null)

/** Everything new for the user, newest first. A document that does not read is skipped. */
export function news(input: NewsInput): NewsItem[] {
  const { login, institution } = input.me
  const items: NewsItem[] = []
  for (const { id, doc } of input.pzk) {
    const root = doc as Obj
    const teamName = opt(root, "name", "") ?? "PZK"
    const member = institution !== null && objAt(objAt(root, "members"), institution) !== null
    for (const [cid, c] of Object.entries(objAt(root, "consultations") ?? {})) {
      const node = c as Obj
      const to = opt(node, "to", `consultations/${cid}`)
      if (to === null || to !== institution || opt(node, "askedBy", "") === login) continue
      const question = typeof node.question === "string" ? node.question : ""
      items.push({
        key: `consultation:${id}:${cid}`,
        kind: "consultation",
        document: id,
        entry: cid,
        at: dateAt(node, "at"),
        text: `Konsultacja do Twojej instytucji (${teamName}): ${question.slice(0, 120)}`,
      })
    }
    for (const [mid, m] of Object.entries(objAt(root, "meetings") ?? {})) {
      // Invitations and approvals are read defensively: older documents have neither.
      const invitation = institution === null ? null : objAt(objAt(m, "invitations"), institution)
      const date = dateAt(m as Obj, "date")
      const day = date ? date.toLocaleDateString("pl-PL", { timeZone: "Europe/Warsaw" }) : ""
      if (invitation !== null && opt(invitation, "by", "") !== login) {
        items.push({
          key: `meeting:${id}:${mid}`,
          kind: "meeting",
          document: id,
          entry: mid,
          at: dateAt(invitation, "at"),
          text: `Zaproszenie na spotkanie ${teamName} ${day}`.trim(),
        })
      }
      const approved = objAt(m, "minutesApproved")
      if (approved !== null && (invitation !== null || member) && opt(approved, "by", "") !== login) {
        items.push({
          key: `minutes:${id}:${mid}`,
          kind: "minutes",
          document: id,
          entry: mid,
          at: dateAt(approved, "at"),
          text: `Zatwierdzono protokół spotkania ${teamName} ${day}`.trim(),
        })
      }
    }
  }
  for (const { id, doc } of input.referrals) {
    const root = doc as Obj
    const status = opt(root, "status", "")
    if (opt(root, "by", "") !== login || (status !== "accepted" && status !== "declined")) continue
    const subject = opt(objAt(root, "subject") ?? {}, "name", "subject") ?? ""
    items.push({
      key: `referral:${id}:${status}`,
      kind: "referral",
      document: id,
      entry: null,
      at: dateAt(objAt(root, "decision"), "at"),
      text: `Twoje zgłoszenie (${subject}) zostało ${status === "accepted" ? "przyjęte" : "odrzucone"}`,
    })
  }
  for (const { id, doc } of input.cases) {
    const root = doc as Obj
    const owner = opt(root, "owner", "")
    if (owner === null || owner === login) continue
    items.push({ key: `case:${id}`, kind: "case", document: id, entry: null, at: null, text: `Udostępniono Ci sprawę (prowadzi: ${owner})` })
  }
  for (const { id, eraseOn } of input.notices ?? []) {
    items.push({
      key: `retention:${id}:${eraseOn}`,
      kind: "retention",
      document: id,
      entry: null,
      at: null,
      text:
        `Sprawa zostanie usunięta ${polishDay(eraseOn)}: minął okres przechowywania. ` +
        "Jeśli jest jeszcze potrzebna (np. w postępowaniu sądowym), zgłoś to administratorowi.",
    })
  }
  const fresh = items.filter(i => !input.seen.has(i.key))
  return fresh.sort((a, b) => (b.at?.getTime() ?? 0) - (a.at?.getTime() ?? 0))
}

/** An edit whose commit message names only its author: a "seen" document is not an institution's. */
function byLogin(what: string, login: string, at: Date, apply: (doc: SeenDoc) => void): Edit<SeenDoc> {
  return { message: `${what}\n\nAuthor: ${login}`, time: Math.floor(at.getTime() / 1000), apply }
}

/** A user's "seen" document as stored. */
export interface SeenDoc {
  type: A.ImmutableString
  schemaVersion: number
  createdAt: Date
  owner: A.ImmutableString
  seen: Record<string, Date>
}

/** The first change of user `login`'s "seen" document. */
export function newSeen(login: string, at: Date): Edit<SeenDoc> {
  checkId("owner", login)
  return byLogin("seen: created", login, at, d => {
    const doc = d as unknown as Obj
    doc.type = s("seen")
    doc.schemaVersion = SCHEMA_VERSION
    doc.createdAt = at
    doc.owner = s(login)
    doc.seen = {}
  })
}

/** A new "seen" document of `login` (saved bytes, to import into a repo). */
export function createSeen(login: string, at: Date): Uint8Array {
  return A.save(applyEdit(A.init<SeenDoc>(), newSeen(login, at)))
}

/** Marks `keys` seen at `at` (those seen already keep their first time); null when nothing is new. */
export function markSeen(doc: SeenDoc, keys: string[], at: Date): Edit<SeenDoc> | null {
  const root = doc as unknown as Obj
  open(root, "seen")
  const owner = R.str(root, "owner", "")
  const seen = R.map(root, "seen", "")
  keys.forEach(k => checkId("seen", k))
  const fresh = [...new Set(keys)].filter(k => seen[k] === undefined)
  if (fresh.length === 0) return null
  return byLogin(`seen: ${fresh.length} item(s)`, owner, at, d => {
    for (const key of fresh) d.seen[key] = at
  })
}

/** The keys a "seen" document holds. */
export function seenKeys(doc: SeenDoc): string[] {
  const root = doc as unknown as Obj
  open(root, "seen")
  return Object.keys(R.map(root, "seen", ""))
}
