// A meeting's attendance on its page: the list by institution (meeting-model's `attendanceList`),
// each person with how they take part. Each member marks their own row; the team's animator
// marks anyone's. Read-only once the minutes are approved.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { el, select } from "../../screens/dom"
import type { Team } from "../team-model"
import { attendanceList, commitAs, type MeetingView } from "./meeting-model"

const CHOICES: ReadonlyArray<readonly [string, string]> = [
  ["", "—"],
  ...M.Meetings.ATTENDANCE.map(a => [a, M.label("attendance", a)] as const),
]

/** The attendance table of meeting `id`, with its selects wired to the document. */
export function attendanceTable(context: AppContext, team: Team, id: string, view: MeetingView, frozen: boolean): HTMLElement {
  const doc = team.handle.doc() ?? {}
  const me = context.me
  const groups = attendanceList(doc, view, { login: me.login, name: me.name, institution: me.institution })
  const rows = groups.flatMap(group => [
    el("tr", { class: "group" }, el("th", { colspan: "3", scope: "rowgroup" }, group.name)),
    ...group.people.map(p => {
      const mayMark = !frozen && team.writes && (team.runs || p.person === me.login)
      const choice = select(CHOICES, p.attendance ?? "", {
        "data-bind": `attendance/${p.person}`,
        "data-person": p.person,
        "aria-label": `Obecność: ${p.name}`,
      })
      // The "not marked yet" option: `el` leaves out an empty attribute, so its value is set here.
      choice.options[0].value = ""
      choice.value = p.attendance ?? ""
      choice.disabled = !mayMark
      choice.addEventListener("change", () => {
        if (!choice.value) return
        const how = choice.value as M.Meetings.Attendance
        commitAs(context, team.handle, (d, by, at) => M.Meetings.recordAttendance(d, id, p.person, how, by, at))
      })
      return el(
        "tr",
        { "data-person": p.person, "data-attendance": p.attendance ?? "" },
        el("td", {}, p.name, p.person === me.login ? " (Ty)" : ""),
        el("td", { class: "muted" }, p.function),
        el("td", {}, choice),
      )
    }),
  ])
  return el(
    "table",
    { class: "attendance", "data-testid": "attendance" },
    el("thead", {}, el("tr", {}, el("th", {}, "Osoba"), el("th", {}, "Funkcja"), el("th", {}, "Udział"))),
    el("tbody", {}, ...rows),
  )
}
