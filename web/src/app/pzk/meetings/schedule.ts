// Scheduling a meeting (the team's animator): the date and time, the mode (stacjonarne, zdalne,
// hybrydowe), the video call's link, the agenda (one item a line) and the member institutions
// invited (all of them unless unticked). The model checks each part (a link must be https://,
// an invitee a member) and the refusal is shown beside the form in Polish; the meeting is written
// on this device first and synced when online.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { button, el, field, input, select } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { commitAs, memberInstitutions, modeLabel } from "./meeting-model"
import { meetingHref } from "./paths"

/** Warsaw's offset from UTC at `utc` (milliseconds). */
function warsawOffset(utc: number): number {
  const parts = Object.fromEntries(WARSAW.formatToParts(new Date(utc)).map(p => [p.type, p.value]))
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second)
  return wall - Math.floor(utc / 1000) * 1000
}

const WARSAW = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Warsaw",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
})

/**
 * The moment a `datetime-local` field's `YYYY-MM-DDTHH:MM` names in Warsaw (the team meets in
 * Polish time, and the app shows every date in it, whatever the device's own zone).
 */
function readDate(value: string): Date {
  const m = value.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/)
  if (!m) throw new Error("Podaj datę i godzinę spotkania.")
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])
  const first = wall - warsawOffset(wall)
  return new Date(wall - warsawOffset(first))
}

export function showSchedule(host: HTMLElement, context: AppContext, team: Team): TabDispose {
  const doc = team.handle.doc()
  if (!team.runs || !doc) {
    host.replaceChildren(el("p", { class: "refusal", role: "alert" }, "Spotkania zespołu planuje jego animator."))
    return () => undefined
  }
  const date = input({ type: "datetime-local", "data-testid": "meeting-date", required: "required" })
  const mode = select(
    M.Meetings.MEETING_MODES.map(m => [m, modeLabel(m)] as const),
    "remote",
    { "data-testid": "meeting-mode" },
  )
  const link = input({ type: "url", placeholder: "https://…", "data-testid": "meeting-link-input" })
  const agenda = el("textarea", { rows: "5", "data-testid": "meeting-agenda", placeholder: "Jeden punkt w wierszu" }) as HTMLTextAreaElement
  const institutions = memberInstitutions(doc)
  const invite = el(
    "fieldset",
    { class: "invitations", "data-testid": "meeting-invitations" },
    el("legend", {}, "Zaproszone instytucje"),
    ...institutions.map(i =>
      el("label", { class: "check" }, el("input", { type: "checkbox", value: i.id, checked: "checked", "data-invite": i.id }), ` ${i.name}`),
    ),
  )
  const save = () => {
    const when = readDate(date.value)
    const url = link.value.trim()
    const plan: M.Meetings.MeetingPlan = { date: when, mode: mode.value as M.Meetings.MeetingMode, link: url === "" ? null : url }
    const items = agenda.value.split("\n").map(t => t.trim()).filter(Boolean)
    const invited = [...invite.querySelectorAll<HTMLInputElement>("input[data-invite]")].filter(c => c.checked).map(c => c.value)
    const id = M.newId("spotkanie")
    commitAs(context, team.handle, (d, by, at) => M.Meetings.scheduleMeeting(d, id, plan, by, at))
    items.forEach((title, n) => {
      commitAs(context, team.handle, (d, by, at) => M.Meetings.setAgendaItem(d, id, `p${n + 1}`, { title, order: n + 1 }, by, at))
    })
    for (const institution of invited) {
      commitAs(context, team.handle, (d, by, at) => M.Meetings.inviteInstitution(d, id, institution, by, at))
    }
    location.hash = meetingHref(team, id)
  }
  host.replaceChildren(
    el(
      "form",
      { class: "card", "data-section": "schedule", "data-testid": "schedule-form" },
      el("h3", {}, "Nowe spotkanie"),
      el("div", { class: "row" }, field("Data i godzina", date), field("Forma", mode)),
      field("Link do wideorozmowy", link, "Dla spotkań zdalnych i hybrydowych, adres https://"),
      field("Porządek spotkania", agenda),
      invite,
      el(
        "div",
        { class: "row" },
        button("Zaplanuj", save, { "data-testid": "schedule-save" }),
        el("a", { href: meetingHref(team) }, "Anuluj"),
      ),
    ),
  )
  return () => undefined
}
