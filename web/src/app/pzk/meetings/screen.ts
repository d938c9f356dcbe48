// "Spotkania", the first tab of a team's page: the team's meetings, the latest first, each with
// its date, mode and whether its minutes are approved; the animator schedules a new one here.
// The address after the tab's slug picks the screen: nothing the list, `nowe` the scheduling
// form, `{meeting}` the meeting's page, `{meeting}/druk` its printable minutes.

import type { AppContext } from "../../context"
import { day, el, when } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { listMeetings, modeLabel, type MeetingRow } from "./meeting-model"
import { showMeeting } from "./meeting"
import { meetingHref } from "./paths"
import { showPrint } from "./print"
import { showSchedule } from "./schedule"

function row(team: Team, me: string | null, r: MeetingRow): HTMLElement {
  if ("error" in r) {
    return el("li", { class: "case-row", "data-meeting": r.id }, `Spotkanie ${r.id}: ${r.error}`)
  }
  const v = r.view
  const invited = me !== null && v.invitations[me] !== undefined
  const status = v.minutesApproved ? `protokół zatwierdzony ${day(v.minutesApproved.at)}` : "zaplanowane"
  return el(
    "li",
    { class: "case-row meeting-row", "data-meeting": r.id, "data-approved": String(v.minutesApproved !== null) },
    el(
      "div",
      { class: "case-main" },
      el("a", { href: meetingHref(team, r.id), "data-testid": "meeting-link" }, `${when(v.date)} — ${modeLabel(v.mode)}`),
      el("span", { class: "stage-chip", "data-testid": "meeting-status" }, status),
    ),
    el(
      "div",
      { class: "muted" },
      `Porządek: ${Object.keys(v.agenda).length} pkt · zaproszone instytucje: ${Object.keys(v.invitations).length}`,
      invited ? " · Twoja instytucja jest zaproszona" : "",
    ),
  )
}

function showList(host: HTMLElement, context: AppContext, team: Team): TabDispose {
  const list = el("ul", { class: "caseload", "data-testid": "meeting-list" })
  const draw = () => {
    const doc = team.handle.doc()
    const rows = doc ? listMeetings(doc) : []
    list.replaceChildren(...rows.map(r => row(team, context.me.institution, r)))
    if (!rows.length) list.append(el("li", { class: "muted", "data-testid": "meetings-empty" }, "Zespół nie ma jeszcze spotkań."))
  }
  host.replaceChildren(
    el(
      "div",
      { class: "row" },
      el("h3", {}, "Spotkania zespołu"),
      team.runs ? el("a", { href: meetingHref(team, "nowe"), class: "button", "data-testid": "schedule-meeting" }, "Zaplanuj spotkanie") : "",
    ),
    list,
  )
  draw()
  team.handle.on("change", draw)
  return () => team.handle.off("change", draw)
}

export function showMeetings(host: HTMLElement, context: AppContext, team: Team, rest: string[]): TabDispose {
  const [first, second] = rest
  if (first === undefined) return showList(host, context, team)
  if (first === "nowe" && second === undefined) return showSchedule(host, context, team)
  if (second === "druk") return showPrint(host, context, team, first)
  return showMeeting(host, context, team, first)
}
