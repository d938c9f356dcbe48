// The PZK team's meetings (sync-core/src/model/pzk/meetings.rs and frozen.rs): scheduling with
// a date, a mode and the video call's `https://` link, invitations of member institutions, the
// agenda, attendance, minutes and decisions, and the approval of the minutes (`minutesApproved`)
// after which the meeting is frozen. The same layout, rules and codes as the Rust model; who
// may approve (the team's animator) is the server's rule (`refusal.minutes-approval-not-allowed`),
// and the server refuses any change to an approved meeting (`meeting.frozen`) whoever sends it.

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import { open } from "../header.ts"
import * as R from "../reader.ts"

export const MEETING_MODES = ["in_person", "remote", "mixed"] as const
export const ATTENDANCE = ["in_person", "video", "phone", "absent"] as const
export const MAX_LINK_LEN = 2048

export type MeetingMode = (typeof MEETING_MODES)[number]
export type Attendance = (typeof ATTENDANCE)[number]

/** Who did something and when (`{by, at}`). */
export interface Stamp {
  by: string
  at: Date
}

export interface MeetingPlan {
  date: Date
  mode: MeetingMode
  link: string | null
}

export interface AgendaItem {
  title: string
  order: number
}

export interface MeetingDecision {
  text: string
  by: string
  at: Date
}

export interface MeetingView extends MeetingPlan {
  agenda: Record<string, AgendaItem>
  attendance: Record<string, Attendance>
  minutes: string
  decisions: Record<string, MeetingDecision>
  invitations: Record<string, Stamp>
  minutesApproved: Stamp | null
}

/** The PZK document as Automerge's JS proxy shows it, as far as meetings need. */
export type PzkDoc = Record<string, unknown>
type Obj = Record<string, unknown>
const s = (value: string) => new A.ImmutableString(value)

/** Whether `link` may be a meeting's video-call link: the rule of `is_meeting_link` in Rust. */
export function isMeetingLink(link: string): boolean {
  if (!link.startsWith("https://")) return false
  const rest = link.slice("https://".length)
  let host = rest.split(/[/?#]/)[0] ?? ""
  const at = host.lastIndexOf("@")
  if (at >= 0) host = host.slice(at + 1)
  const bytes = new TextEncoder().encode(link).length
  return bytes <= MAX_LINK_LEN && host !== "" && !host.startsWith(":") && !/[\s\p{Cc}]/u.test(link)
}

/** A PZK change's message: the summary and the author's login alone, as Rust writes it. */
function pzkEdit(what: string, by: Editor, at: Date, apply: (doc: PzkDoc) => void): Edit<PzkDoc> {
  const line = (t: string) => t.replace(/[\r\n]+/g, " ")
  return {
    message: `${line(what)}\n\nAuthor: ${line(by.login)}`,
    time: Math.floor(at.getTime() / 1000),
    apply,
  }
}

function meetingsOf(doc: PzkDoc): Obj {
  open(doc, "pzk")
  return R.map(doc, "meetings", "")
}

/** The meeting `id`, refused (`meeting.frozen`) once its minutes are approved. */
function openMeeting(doc: PzkDoc, id: string): Obj {
  const meeting = R.map(meetingsOf(doc), id, "meetings")
  if (meeting.minutesApproved !== undefined) throw new ModelError("meeting.frozen", { meeting: id })
  return meeting
}

const meetingIn = (d: PzkDoc, id: string) => (d.meetings as Record<string, Obj>)[id] as Obj

/** Schedules a meeting, or moves an existing one (date, mode, link). */
export function scheduleMeeting(doc: PzkDoc, id: string, plan: MeetingPlan, by: Editor, at: Date): Edit<PzkDoc> {
  if (plan.link !== null && !isMeetingLink(plan.link)) throw new ModelError("meeting.link-invalid", {})
  if (!MEETING_MODES.includes(plan.mode)) throw fieldError(`meetings/${id}/mode`, "unknown")
  const exists = meetingsOf(doc)[id] !== undefined
  if (exists) openMeeting(doc, id)
  else checkId("meetings", id)
  return pzkEdit(`meetings/${id}: scheduled`, by, at, d => {
    const meetings = d.meetings as Record<string, Obj>
    if (!exists) {
      meetings[id] = { agenda: {}, attendance: {}, minutes: "", decisions: {}, invitations: {} }
    }
    const m = meetings[id] as Obj
    m.date = plan.date
    m.mode = s(plan.mode)
    if (plan.link !== null) m.link = s(plan.link)
    else if (m.link !== undefined) delete m.link
  })
}

/** Invites a member institution; inviting it again keeps the first invitation (no change). */
export function inviteInstitution(
  doc: PzkDoc,
  id: string,
  institution: string,
  by: Editor,
  at: Date,
): Edit<PzkDoc> | null {
  if (R.map(doc, "members", "")[institution] === undefined) {
    throw new ModelError("meeting.invitee-not-member", { institution })
  }
  const meeting = openMeeting(doc, id)
  const invitations = meeting.invitations as Obj | undefined
  if (invitations?.[institution] !== undefined) return null
  return pzkEdit(`meetings/${id}/invitations/${institution}: invited`, by, at, d => {
    const m = meetingIn(d, id)
    if (m.invitations === undefined) m.invitations = {}
    ;(m.invitations as Obj)[institution] = { by: s(by.login), at }
  })
}

/** Adds or updates an agenda item. */
export function setAgendaItem(
  doc: PzkDoc,
  id: string,
  itemId: string,
  item: AgendaItem,
  by: Editor,
  at: Date,
): Edit<PzkDoc> {
  openMeeting(doc, id)
  checkId(`meetings/${id}/agenda`, itemId)
  return pzkEdit(`meetings/${id}/agenda/${itemId}: saved`, by, at, d => {
    const agenda = meetingIn(d, id).agenda as Obj
    const current = agenda[itemId] as Obj | undefined
    if (current === undefined) {
      // A Uint inside an object literal is stored as a map by automerge-js 3.5 (it reads the
      // marker of a Uint only on a direct assignment), so the item is made first, then filled.
      agenda[itemId] = { title: s(item.title) }
      ;(agenda[itemId] as Obj).order = new A.Uint(item.order)
    } else {
      if (String(current.title) !== item.title) current.title = s(item.title)
      if (Number(current.order) !== item.order) current.order = new A.Uint(item.order)
    }
  })
}

/** Records how a person took part. */
export function recordAttendance(
  doc: PzkDoc,
  id: string,
  person: string,
  attendance: Attendance,
  by: Editor,
  at: Date,
): Edit<PzkDoc> {
  openMeeting(doc, id)
  checkId(`meetings/${id}/attendance`, person)
  if (!ATTENDANCE.includes(attendance)) throw fieldError(`meetings/${id}/attendance/${person}`, "unknown")
  return pzkEdit(`meetings/${id}/attendance/${person}: ${attendance}`, by, at, d => {
    ;(meetingIn(d, id).attendance as Obj)[person] = s(attendance)
  })
}

/** Replaces the minutes (as a diff, so concurrent edits elsewhere in them are kept). */
export function setMinutes(doc: PzkDoc, id: string, text: string, by: Editor, at: Date): Edit<PzkDoc> {
  openMeeting(doc, id)
  return pzkEdit(`meetings/${id}/minutes: updated`, by, at, d => {
    A.updateText(d as A.Doc<unknown>, ["meetings", id, "minutes"], text)
  })
}

/** Records a decision; decisions are append-only. */
export function recordDecision(
  doc: PzkDoc,
  id: string,
  decisionId: string,
  text: string,
  by: Editor,
  at: Date,
): Edit<PzkDoc> {
  const decisions = R.map(openMeeting(doc, id), "decisions", `meetings/${id}`)
  checkId(`meetings/${id}/decisions`, decisionId)
  if (decisions[decisionId] !== undefined) throw fieldError(`meetings/${id}/decisions/${decisionId}`, "already exists")
  return pzkEdit(`meetings/${id}/decisions/${decisionId}: recorded`, by, at, d => {
    ;(meetingIn(d, id).decisions as Obj)[decisionId] = { text, by: s(by.login), at }
  })
}

/** Approves the minutes (*zatwierdzenie protokołu*): the meeting is frozen from then on. */
export function approveMinutes(doc: PzkDoc, id: string, by: Editor, at: Date): Edit<PzkDoc> {
  const meeting = openMeeting(doc, id)
  if (R.text(meeting, "minutes", `meetings/${id}`).trim() === "") throw new ModelError("meeting.minutes-empty", {})
  return pzkEdit(`meetings/${id}/minutes: approved`, by, at, d => {
    meetingIn(d, id).minutesApproved = { by: s(by.login), at }
  })
}

function readStamp(obj: Obj, path: string): Stamp {
  return { by: R.str(obj, "by", path), at: R.timestamp(obj, "at", path) }
}

/** Reads meeting `id` of a PZK document. */
export function readMeeting(doc: PzkDoc, id: string): MeetingView {
  const path = `meetings/${id}`
  const m = R.map(meetingsOf(doc), id, "meetings")
  const mapOf = <T>(key: string, read: (entry: Obj, entryPath: string, entryKey: string) => T): Record<string, T> => {
    const out: Record<string, T> = {}
    if (m[key] === undefined) return out
    const obj = R.map(m, key, path)
    for (const k of Object.keys(obj).sort(R.compareIds)) out[k] = read(obj, `${path}/${key}`, k)
    return out
  }
  const link = R.optStr(m, "link", path)
  if (link !== null && !isMeetingLink(link)) throw new ModelError("meeting.link-invalid", {})
  return {
    date: R.timestamp(m, "date", path),
    mode: R.field(m, "mode", path, R.parseEnum(MEETING_MODES)).value,
    link,
    agenda: mapOf("agenda", (o, p, k) => {
      const item = R.map(o, k, p)
      return { title: R.str(item, "title", `${p}/${k}`), order: R.field(item, "order", `${p}/${k}`, R.parseUint).value }
    }),
    attendance: mapOf("attendance", (o, p, k) => R.field(o, k, p, R.parseEnum(ATTENDANCE)).value),
    minutes: R.text(m, "minutes", path),
    decisions: mapOf("decisions", (o, p, k) => {
      const dec = R.map(o, k, p)
      return { text: R.text(dec, "text", `${p}/${k}`), ...readStamp(dec, `${p}/${k}`) }
    }),
    invitations: mapOf("invitations", (o, p, k) => readStamp(R.map(o, k, p), `${p}/${k}`)),
    minutesApproved: m.minutesApproved === undefined ? null : readStamp(R.map(m, "minutesApproved", path), path),
  }
}

/** The ids of the team's meetings, earliest first. */
export function meetingIds(doc: PzkDoc): string[] {
  const meetings = meetingsOf(doc)
  const date = (id: string) => R.timestamp(R.map(meetings, id, "meetings"), "date", `meetings/${id}`).getTime()
  return Object.keys(meetings).sort((a, b) => date(a) - date(b) || R.compareIds(a, b))
}
