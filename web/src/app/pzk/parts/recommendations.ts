// "Rekomendacje" (K10.2) and the 9.2 decision: the team's recommendations by category (legal,
// organisational, services), each marked when it belongs to the 9.2 decision, and the decision
// whether the team goes on, with its rationale and the meeting that took it. Recommendations are
// append-only; recording the decision again settles a conflict on it.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { button, el, field, section, select, when } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { change, edits, labelOf, livePart, newId, optionsOf, readOnlyReason, type PzkView } from "./part"

const P = M.Pzk

function recommendationList(view: PzkView): HTMLElement[] {
  const groups = [...P.RECOMMENDATION_CATEGORIES, null].map(category => {
    const inIt = Object.entries(view.recommendations).filter(([, r]) => r.category === category)
    if (!inIt.length) return null
    return el(
      "div",
      { class: "recommendations", "data-category": category ?? "none" },
      el("h4", {}, category === null ? "Bez kategorii" : `Rekomendacje ${labelOf("category", category)}`),
      el(
        "ul",
        {},
        ...inIt.map(([id, r]) =>
          el(
            "li",
            { "data-recommendation": id },
            el("span", { "data-testid": "recommendation-text" }, r.text),
            el("span", { class: "muted" }, ` — ${r.by}, ${when(r.at)}`),
            r.decision92 ? el("span", { class: "stage-chip" }, "w decyzji 9.2") : "",
          ),
        ),
      ),
    )
  })
  return groups.filter((g): g is HTMLElement => g !== null)
}

function recommendationForm(context: AppContext, team: Team): HTMLElement {
  const text = el("textarea", { rows: "3", "data-testid": "recommendation-input", "data-bind": "recommendation/text" }) as HTMLTextAreaElement
  const category = select(optionsOf("category", P.RECOMMENDATION_CATEGORIES), "organisational", { "data-testid": "recommendation-category", "data-bind": "recommendation/category" })
  const in92 = el("input", { type: "checkbox", "data-testid": "recommendation-92", "data-bind": "recommendation/92" }) as HTMLInputElement
  const add = button("Dodaj rekomendację", () => {
    if (!text.value.trim()) throw new Error("Wpisz treść rekomendacji.")
    const recommendation = { text: text.value.trim(), category: category.value as M.Pzk.RecommendationCategory, decision92: in92.checked }
    change(context, team, (doc, by, at) => P.addRecommendation(doc, newId("rek"), recommendation, by, at))
  }, { "data-testid": "add-recommendation" })
  return el("div", { class: "card", "data-testid": "recommendation-form" }, field("Rekomendacja", text), el("div", { class: "row" }, field("Kategoria", category), el("label", { class: "field" }, in92, " część decyzji 9.2")), add)
}

function decisionSection(context: AppContext, team: Team, view: PzkView): HTMLElement {
  const d = view.decision92
  const shown = d
    ? el(
        "div",
        { "data-testid": "decision92" },
        el("p", {}, el("strong", {}, labelOf("decision", d.decision.value)), el("span", { class: "muted" }, ` — ${d.by}, ${when(d.at)}`)),
        d.decision.alternatives.length ? el("p", { class: "error" }, `Zapisano naraz: ${d.decision.alternatives.map(v => labelOf("decision", v)).join(", ")}. Zapisz decyzję ponownie.`) : "",
        d.rationale ? el("p", {}, d.rationale) : "",
      )
    : el("p", { class: "muted", "data-testid": "decision92-none" }, "Zespół nie podjął jeszcze decyzji 9.2.")
  const body = section("decision92", "Decyzja 9.2: czy zespół kontynuuje pracę", shown)
  if (!edits(team)) return body
  const decision = select(optionsOf("decision", P.TEAM_DECISIONS), d?.decision.value ?? "continue", { "data-testid": "decision92-choice", "data-bind": "decision92/decision" })
  const rationale = el("textarea", { rows: "3", "data-testid": "decision92-rationale", "data-bind": "decision92/rationale" }) as HTMLTextAreaElement
  rationale.value = d?.rationale ?? ""
  const meetings: Array<readonly [string, string]> = [["", "—"], ...Object.entries(view.meetings).map(([id, m]) => [id, when(m.date)] as const)]
  const meeting = select(meetings, d?.meeting ?? "", { "data-testid": "decision92-meeting", "data-bind": "decision92/meeting" })
  body.append(
    el("div", { class: "row" }, field("Decyzja", decision), field("Na spotkaniu", meeting)),
    field("Uzasadnienie", rationale),
    button("Zapisz decyzję", () => {
      const chosen = decision.value as M.Pzk.TeamDecision
      change(context, team, (doc, by, at) => P.setDecision92(doc, chosen, rationale.value, meeting.value || null, by, at))
    }, { "data-testid": "save-decision92" }),
  )
  return body
}

export function showRecommendations(host: HTMLElement, context: AppContext, team: Team, _rest: string[]): TabDispose {
  return livePart(host, team, (view: PzkView) => {
    const list = recommendationList(view)
    return [
      readOnlyReason(team, "recommendations"),
      section(
        "recommendations",
        "Rekomendacje (K10.2)",
        ...(list.length ? list : [el("p", { class: "muted" }, "Zespół nie sformułował jeszcze rekomendacji.")]),
        edits(team) ? recommendationForm(context, team) : "",
      ),
      decisionSection(context, team, view),
    ]
  })
}
