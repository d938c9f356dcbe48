// The PZK document as the page reads and writes it. The layout and rules are those of
// sync-core/src/model/pzk.rs, which the server checks on every change: free text is Automerge
// Text (a JS string), ids and enum values are scalar strings (ImmutableString), times are
// timestamps (Date), and every change names its author in its commit message
// (sync-core/src/model/editor.rs).

import {
  ImmutableString,
  getConflicts,
  updateText,
  type DocHandle,
} from "@automerge/automerge-repo/slim"

import { label } from "./model/catalogue"

/** A scalar string as it reads back from the document. */
type Scalar = ImmutableString | string

/** Unsigned integers written by the Rust model read back as BigInt. */
type Uint = number | bigint

export interface AgendaItem {
  title: Scalar
  order: Uint
}

export interface Entry {
  text: string
  by: Scalar
  at: Date
}

export interface Meeting {
  date: Date
  mode: Scalar
  agenda: Record<string, AgendaItem>
  attendance: Record<string, Scalar>
  minutes: string
  decisions: Record<string, Entry>
}

export interface Representative {
  name: Scalar
  function: Scalar
}

export interface Member {
  name: Scalar
  sector: Scalar
  role: Scalar
  representatives: Record<string, Representative>
}

export interface Service {
  description: string
  provider: Scalar
  sector: Scalar
  capacity?: Uint
  remoteCapable: boolean
  retired: boolean
}

export interface PzkDoc {
  type: Scalar
  name: Scalar
  members: Record<string, Member>
  services: Record<string, Service>
  meetings: Record<string, Meeting>
}

/** How a person took part in a meeting (the model's `Attendance`), with the Polish label. */
export const ATTENDANCE: ReadonlyArray<[string, string]> = [
  ["in_person", "osobiście"],
  ["video", "wideo"],
  ["phone", "telefonicznie"],
  ["absent", "nieobecny"],
]

/** How a meeting is held, in Polish. */
export const MEETING_MODE: Record<string, string> = {
  in_person: "stacjonarnie",
  remote: "zdalnie",
  mixed: "hybrydowo",
}

/** The Polish name of a sector (the catalogue's, as in the app). */
export const sectorLabel = (sector: string): string => label("institutionSector", sector)

/** A scalar string's value (ImmutableString or plain). */
export function str(value: Scalar | undefined | null): string {
  if (value === undefined || value === null) return ""
  return typeof value === "string" ? value : value.val
}

/** Who writes: the login and institution named in every commit message. */
export interface Author {
  login: string
  institution: string
}

/**
 * The commit message the model writes: the summary, an empty line and the author trailers.
 * Line breaks in the summary become spaces, so it can never pose as a trailer.
 */
export function commitMessage(what: string, by: Author): string {
  const summary = what.replace(/[\r\n]+/g, " ")
  return `${summary}\n\nAuthor: ${by.login}\nInstitution: ${by.institution}`
}

/** Whether `id` is a valid id of the model: 1 to 128 bytes, no `/`, no control characters. */
export function isId(id: string): boolean {
  const bytes = new TextEncoder().encode(id).length
  return bytes >= 1 && bytes <= 128 && !id.includes("/") && !/\p{Cc}/u.test(id)
}

/** Ids of PZK meetings, newest first. */
export function meetingIds(doc: PzkDoc): string[] {
  return Object.keys(doc.meetings ?? {}).sort(
    (a, b) => doc.meetings[b].date.getTime() - doc.meetings[a].date.getTime(),
  )
}

/** The agenda in the model's order: by `order`, then by id. */
export function agendaItems(meeting: Meeting): Array<[string, AgendaItem]> {
  return Object.entries(meeting.agenda ?? {}).sort(
    ([a, x], [b, y]) => Number(x.order) - Number(y.order) || (a < b ? -1 : a > b ? 1 : 0),
  )
}

/** Every value of a person's attendance: the winner first, then concurrent ones (a conflict). */
export function attendanceValues(doc: PzkDoc, meetingId: string, person: string): string[] {
  const attendance = doc.meetings[meetingId].attendance
  const winner = str(attendance[person])
  const all = getConflicts(attendance, person)
  const others = all ? Object.values(all).map(v => str(v as Scalar)) : []
  return [winner, ...others.filter(v => v !== winner)]
}

/** Edits of one meeting, each one change with the author's commit message. */
export class MeetingEditor {
  constructor(
    private readonly handle: DocHandle<PzkDoc>,
    private readonly meetingId: string,
    private readonly by: Author,
  ) {}

  #change(what: string, edit: (doc: PzkDoc) => void): void {
    const message = commitMessage(`meetings/${this.meetingId}/${what}`, this.by)
    this.handle.change(edit, { message })
  }

  /** Replaces the minutes as a diff, so others' concurrent edits elsewhere in them are kept. */
  setMinutes(text: string): void {
    const current = this.handle.doc()?.meetings[this.meetingId]?.minutes
    if (current === undefined || current === text) return
    this.#change("minutes: updated", doc => {
      updateText(doc, ["meetings", this.meetingId, "minutes"], text)
    })
  }

  /** Records how a person took part; recording settles a conflict on it. */
  recordAttendance(person: string, how: string): void {
    if (!isId(person) || !ATTENDANCE.some(([value]) => value === how)) {
      throw new Error(`niepoprawna obecność: ${person} → ${how}`)
    }
    this.#change(`attendance/${person}: ${how}`, doc => {
      doc.meetings[this.meetingId].attendance[person] = new ImmutableString(how)
    })
  }

  /** Records a decision under a new id (decisions are append-only). */
  recordDecision(text: string): string {
    const id = `d-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`
    this.#change(`decisions/${id}: recorded`, doc => {
      doc.meetings[this.meetingId].decisions[id] = {
        text,
        by: new ImmutableString(this.by.login),
        at: new Date(),
      }
    })
    return id
  }
}
