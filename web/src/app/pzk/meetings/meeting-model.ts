// The team's meetings as the screens need them, over the model's twin of the Rust meetings
// (web/src/model/pzk/meetings.ts): the list read safely (a meeting that does not read is shown
// as such, not thrown), the member institutions and their representatives, and each edit
// committed with the signed-in user as its author.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import * as M from "../../../model"
import type { AppContext } from "../../context"
import type { TeamDoc } from "../team-model"

export type MeetingView = M.Meetings.MeetingView

/** One meeting of the list: its view, or why it does not read. */
export type MeetingRow = { id: string; view: MeetingView } | { id: string; error: string }

/** The team's meetings, the latest first. */
export function listMeetings(doc: TeamDoc): MeetingRow[] {
  let ids: string[]
  try {
    ids = M.Meetings.meetingIds(doc)
  } catch {
    ids = Object.keys((doc.meetings as Record<string, unknown> | undefined) ?? {})
  }
  return ids.reverse().map(id => {
    try {
      return { id, view: M.Meetings.readMeeting(doc, id) }
    } catch (error) {
      return { id, error: error instanceof Error ? error.message : String(error) }
    }
  })
}

/** A member institution of the team with its representatives (person id → name, function). */
export interface MemberInstitution {
  id: string
  name: string
  representatives: Array<{ person: string; name: string; function: string }>
}

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v))

/** The team's member institutions, by name. */
export function memberInstitutions(doc: TeamDoc): MemberInstitution[] {
  const members = (doc.members as Record<string, Record<string, unknown>> | undefined) ?? {}
  return Object.entries(members)
    .map(([id, m]) => {
      const reps = (m.representatives as Record<string, Record<string, unknown>> | undefined) ?? {}
      return {
        id,
        name: str(m.name) || id,
        representatives: Object.entries(reps)
          .map(([person, r]) => ({ person, name: str(r.name) || person, function: str(r.function) }))
          .sort((a, b) => a.name.localeCompare(b.name, "pl")),
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name, "pl"))
}

/** Makes one edit of the team's document as the signed-in user (the model checks the rules first). */
export function commitAs(
  context: AppContext,
  handle: DocHandle<TeamDoc>,
  build: (doc: TeamDoc, by: M.Editor, at: Date) => M.Edit<TeamDoc> | null,
): void {
  const by = M.editor(context.me.login, context.me.institution ?? "")
  const doc = handle.doc()
  if (!doc) throw new Error("Dokumentu zespołu nie ma na tym urządzeniu.")
  const built = build(doc, by, new Date())
  if (built) handle.change(built.apply, { message: built.message, time: built.time })
}

/** The Polish name of a meeting's mode. */
export const modeLabel = (mode: string) => M.label("meetingMode", mode)

/** A person on a meeting's attendance list. */
export interface Attendee {
  person: string
  name: string
  function: string
  attendance: M.Meetings.Attendance | null
}

/** The attendance list by institution: its representatives, with how each took part. */
export interface AttendanceGroup {
  institution: string | null
  name: string
  people: Attendee[]
}

/**
 * Who is on a meeting's attendance list: the representatives of every invited institution (and
 * of any other member institution whose representative's attendance is recorded), then under
 * "Inne osoby" everyone else whose attendance is recorded. `self` (the signed-in user) is put
 * on the list of their own institution when not on it yet, so they can mark how they take part.
 */
export function attendanceList(
  doc: TeamDoc,
  view: MeetingView,
  self: { login: string; name: string; institution: string | null } | null,
): AttendanceGroup[] {
  const recorded = (person: string): M.Meetings.Attendance | null => view.attendance[person] ?? null
  const listed = new Set<string>()
  const groups: AttendanceGroup[] = []
  for (const member of memberInstitutions(doc)) {
    const invited = view.invitations[member.id] !== undefined
    const people: Attendee[] = member.representatives.map(r => ({ ...r, attendance: recorded(r.person) }))
    const selfHere = self !== null && self.institution === member.id && !people.some(p => p.person === self.login)
    if (selfHere && (invited || recorded(self.login) !== null)) {
      people.push({ person: self.login, name: self.name, function: "", attendance: recorded(self.login) })
    }
    if (!invited && !people.some(p => p.attendance !== null)) continue
    people.forEach(p => listed.add(p.person))
    groups.push({ institution: member.id, name: member.name, people })
  }
  const others: Attendee[] = Object.keys(view.attendance)
    .filter(person => !listed.has(person))
    .map(person => ({ person, name: person === self?.login ? self.name : person, function: "", attendance: recorded(person) }))
  if (self !== null && !listed.has(self.login) && !others.some(o => o.person === self.login)) {
    others.push({ person: self.login, name: self.name, function: "", attendance: null })
  }
  if (others.length) groups.push({ institution: null, name: "Inne osoby", people: others })
  return groups
}
