// "Harmonogram" (6.2): the work plan's milestones by month, as long as the team's schedule runs
// (the model's 18 months, the seeds' COVID-extended 29, up to ten years), each tied to a step of
// the model with its status. The team's editors add milestones and move their statuses.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { button, el, field, input, section, select } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { change, edits, labelOf, livePart, newId, optionsOf, readOnlyReason, type PzkView } from "./part"

const P = M.Pzk

function milestoneRow(context: AppContext, team: Team, id: string, m: M.Pzk.MilestoneView): HTMLElement {
  const status = edits(team)
    ? select(optionsOf("milestone", P.MILESTONE_STATUSES), m.status.value, { "data-testid": "milestone-status", "data-bind": `milestone/${id}/status` })
    : el("span", { class: "stage-chip" }, labelOf("milestone", m.status.value))
  if (status instanceof HTMLSelectElement) {
    status.addEventListener("change", () =>
      change(context, team, (doc, by, at) => P.setMilestoneStatus(doc, id, status.value as M.Pzk.MilestoneStatus, by, at)),
    )
  }
  const conflicted = m.status.alternatives.length ? el("span", { class: "error" }, ` (zapisano naraz: ${m.status.alternatives.map(s => labelOf("milestone", s)).join(", ")})`) : ""
  return el("li", { class: "milestone", "data-milestone": id, "data-month": String(m.month) }, el("strong", {}, m.step), ` ${m.title} `, status, conflicted)
}

function addForm(context: AppContext, team: Team, months: number): HTMLElement {
  const step = input({ "data-testid": "milestone-step", "data-bind": "milestone/step", placeholder: "np. K6.2" })
  const month = input({ type: "number", min: "1", max: String(P.LAST_MONTH), "data-testid": "milestone-month", "data-bind": "milestone/month" }, String(Math.max(1, months)))
  const title = input({ "data-testid": "milestone-title", "data-bind": "milestone/title", placeholder: "Co ma być zrobione" })
  const add = button("Dodaj do harmonogramu", () => {
    const milestone = { step: step.value.trim(), month: Number(month.value), title: title.value.trim() }
    change(context, team, (doc, by, at) => P.upsertMilestone(doc, newId("zad"), milestone, by, at))
  }, { "data-testid": "add-milestone" })
  return el("div", { class: "card", "data-testid": "milestone-form" }, el("h4", {}, "Nowe zadanie"), el("div", { class: "row" }, field("Krok modelu", step), field("Miesiąc", month), field("Zadanie", title)), add)
}

export function showPlan(host: HTMLElement, context: AppContext, team: Team, _rest: string[]): TabDispose {
  return livePart(host, team, (view: PzkView) => {
    const ids = P.milestonesByMonth(view)
    const months = ids.reduce((last, id) => Math.max(last, view.workPlan[id]!.month), 0)
    const byMonth = new Map<number, string[]>()
    for (const id of ids) {
      const month = view.workPlan[id]!.month
      byMonth.set(month, [...(byMonth.get(month) ?? []), id])
    }
    const groups = [...byMonth].map(([month, inMonth]) =>
      el(
        "li",
        { class: "plan-month", "data-testid": "plan-month", "data-month": String(month) },
        el("h4", {}, `Miesiąc ${month}`),
        el("ul", {}, ...inMonth.map(id => milestoneRow(context, team, id, view.workPlan[id]!))),
      ),
    )
    return [
      readOnlyReason(team, "workPlan"),
      section(
        "work-plan",
        "Harmonogram",
        el("p", { class: "muted", "data-testid": "plan-length" }, months ? `Harmonogram obejmuje ${months} mies.` : "Harmonogram jest pusty."),
        el("ul", { class: "plan", "data-testid": "plan" }, ...groups),
        edits(team) ? addForm(context, team, months) : "",
      ),
    ]
  })
}
