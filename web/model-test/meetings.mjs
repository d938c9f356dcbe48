// Runs a meeting through the TypeScript twin of the PZK meetings (web/src/model/pzk/meetings.ts,
// compiled by `tsc -p tsconfig.model.json`) on a team document Rust wrote:
// tests/tests/case_vectors/meetings.rs runs it with that document's file and an output file,
// reads the JSON it prints (the meeting before and after, the codes of the refused edits) and
// checks the document it wrote with the Rust model.

import { readFileSync, writeFileSync } from "node:fs"

import * as A from "@automerge/automerge"

import { M, refusal } from "./harness.mjs"

const { Meetings } = M

const [input, output] = process.argv.slice(2)
let doc = A.load(readFileSync(input))
const animator = M.editor("animator1", "gops")
const at = new Date("2026-03-04T11:30:00Z")

const stamp = s => ({ by: s.by, at: s.at.toISOString() })
const entries = (record, f) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]))
const canonical = v => ({
  date: v.date.toISOString(),
  mode: v.mode,
  link: v.link,
  agenda: v.agenda,
  attendance: v.attendance,
  minutes: v.minutes,
  invitations: entries(v.invitations, stamp),
  minutesApproved: v.minutesApproved && stamp(v.minutesApproved),
})
const apply = e => { doc = A.change(doc, { message: e.message, time: e.time }, e.apply) }

const before = canonical(Meetings.readMeeting(doc, "s1"))
const refused = {
  httpLink: refusal(() =>
    Meetings.scheduleMeeting(doc, "s1", { date: at, mode: "remote", link: "http://meet.example.pl/x" }, animator, at)),
  stranger: refusal(() => Meetings.inviteInstitution(doc, "s1", "obcy", animator, at)),
  emptyMinutes: refusal(() => Meetings.approveMinutes(doc, "s1", animator, at)),
}
apply(Meetings.setAgendaItem(doc, "s1", "p3", { title: "Wolne wnioski", order: 3 }, animator, at))
apply(Meetings.recordAttendance(doc, "s1", "policja-rep", "video", animator, at))
apply(Meetings.setMinutes(doc, "s1", "Omówiono rodziny i usługi.", animator, at))
apply(Meetings.approveMinutes(doc, "s1", animator, at))
// A second meeting scheduled from scratch, as the app's form writes it.
apply(Meetings.scheduleMeeting(doc, "s2", { date: at, mode: "mixed", link: null }, animator, at))
apply(Meetings.setAgendaItem(doc, "s2", "p1", { title: "Plan na styczeń", order: 1 }, animator, at))
apply(Meetings.inviteInstitution(doc, "s2", "szkola", animator, at))
apply(Meetings.recordDecision(doc, "s2", "u1", "Spotkanie w szkole.", animator, at))
refused.afterApproval = refusal(() => Meetings.setMinutes(doc, "s1", "Inaczej.", M.editor("szkola-rep", "szkola"), at))
writeFileSync(output, A.save(doc))
const second = Meetings.readMeeting(doc, "s2")
process.stdout.write(JSON.stringify({ before, refused, after: canonical(Meetings.readMeeting(doc, "s1")), second: canonical(second) }))
