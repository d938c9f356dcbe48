// A meeting's minutes and attendance list for the project's records (`…/spotkania/{m}/druk`):
// the team, date, mode, agenda, the attendance list by institution with a column for
// signatures, the minutes, the decisions and who approved them when. The print stylesheet
// (print.css, `@media print`) leaves only this sheet on paper; "Drukuj" opens the browser's
// print dialog (where "Zapisz jako PDF" makes the PDF).

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { el, when } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import { teamHead, type Team } from "../team-model"
import { attendanceList, memberInstitutions, modeLabel, type MeetingView } from "./meeting-model"
import { meetingHref } from "./paths"
import "./print.css"

function attendanceSheet(team: Team, view: MeetingView): HTMLElement {
  const groups = attendanceList(team.handle.doc() ?? {}, view, null)
  const rows = groups.flatMap(group =>
    group.people.map((p, n) =>
      el(
        "tr",
        { "data-person": p.person, "data-institution": group.institution ?? "" },
        n === 0 ? el("td", { rowspan: String(group.people.length), class: "institution" }, group.name) : "",
        el("td", {}, p.name),
        el("td", {}, p.function),
        el("td", { "data-testid": "print-attendance" }, p.attendance ? M.label("attendance", p.attendance) : "—"),
        el("td", { class: "signature" }, ""),
      ),
    ),
  )
  return el(
    "table",
    { class: "print-attendance", "data-testid": "print-attendance-table" },
    el(
      "thead",
      {},
      el("tr", {}, ...["Instytucja", "Imię i nazwisko", "Funkcja", "Udział", "Podpis"].map(h => el("th", { scope: "col" }, h))),
    ),
    el("tbody", {}, ...rows),
  )
}

function sheet(team: Team, view: MeetingView): HTMLElement {
  const doc = team.handle.doc() ?? {}
  const names = new Map(memberInstitutions(doc).map(i => [i.id, i.name]))
  const agenda = Object.values(view.agenda).sort((a, b) => a.order - b.order)
  const decisions = Object.values(view.decisions).sort((a, b) => a.at.getTime() - b.at.getTime())
  const approved = view.minutesApproved
  return el(
    "article",
    { class: "print-sheet", "data-testid": "print-sheet", "data-approved": String(approved !== null) },
    el("h1", {}, "Protokół spotkania Partnerskiego Zespołu Kooperacji"),
    el("p", { class: "team", "data-testid": "print-team" }, teamHead(doc).name ?? ""),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Data"),
      el("dd", { "data-testid": "print-date" }, when(view.date)),
      el("dt", {}, "Forma"),
      el("dd", { "data-testid": "print-mode" }, modeLabel(view.mode)),
      ...(view.link ? [el("dt", {}, "Wideorozmowa"), el("dd", {}, view.link)] : []),
      el("dt", {}, "Zaproszeni"),
      el("dd", {}, Object.keys(view.invitations).map(i => names.get(i) ?? i).join(", ") || "—"),
    ),
    el("h2", {}, "Porządek spotkania"),
    el("ol", { "data-testid": "print-agenda" }, ...agenda.map(a => el("li", {}, a.title))),
    el("h2", {}, "Lista obecności"),
    attendanceSheet(team, view),
    el("h2", {}, "Protokół"),
    el("div", { class: "minutes", "data-testid": "print-minutes" }, view.minutes || "—"),
    el("h2", {}, "Ustalenia"),
    decisions.length
      ? el("ol", { "data-testid": "print-decisions" }, ...decisions.map(d => el("li", {}, d.text)))
      : el("p", { "data-testid": "print-decisions" }, "Brak ustaleń."),
    el(
      "p",
      { class: "approval", "data-testid": "print-approval" },
      approved
        ? `Protokół zatwierdził: ${approved.by}, ${when(approved.at)}`
        : "Projekt protokołu — jeszcze niezatwierdzony przez animatora zespołu.",
    ),
  )
}

export function showPrint(host: HTMLElement, _context: AppContext, team: Team, id: string): TabDispose {
  const holder = el("div", { class: "print-holder" })
  const draw = () => {
    const doc = team.handle.doc()
    try {
      if (!doc) throw new Error("Dokumentu zespołu nie ma na tym urządzeniu.")
      holder.replaceChildren(sheet(team, M.Meetings.readMeeting(doc, id)))
    } catch (error) {
      holder.replaceChildren(el("p", { class: "refusal", role: "alert" }, error instanceof Error ? error.message : String(error)))
    }
  }
  const print = el("button", { type: "button", "data-testid": "print" }, "Drukuj")
  print.addEventListener("click", () => window.print())
  host.replaceChildren(
    el("div", { class: "row no-print" }, el("a", { href: meetingHref(team, id) }, "← Spotkanie"), print),
    holder,
  )
  document.body.classList.add("printing-sheet")
  draw()
  team.handle.on("change", draw)
  return () => {
    team.handle.off("change", draw)
    document.body.classList.remove("printing-sheet")
  }
}
