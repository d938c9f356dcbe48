// The end of the work: the evaluation (9.1), the PZK's decision (9.2) and the hand-over (9.3).

import { conflictView } from "./conflict-view"
import { button, el, field, input, section, select, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"
import { textField } from "./text-field"

export function closing(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const e = data.evaluation
  const evaluation = el(
    "div",
    { "data-testid": "evaluation" },
    el("h4", {}, "Ewaluacja (9.1)"),
    e.by ? el("p", { class: "muted" }, `Ostatnio pisał(a): ${e.by}, ${when(e.at)}`) : "",
    textField({ bind: "evaluation", value: e.text, readOnly, rows: 4, write: text => edits.setEvaluation(text) }),
  )
  const d = data.decision
  const decision = el("div", { "data-testid": "decision" }, el("h4", {}, "Decyzja PZK (9.2)"))
  if (d?.status.conflict) {
    decision.append(conflictView("pzkDecision/decision", d.status.conflict, readOnly, v => edits.setDecision(v, d.meeting)))
  }
  decision.append(
    el("p", {}, d ? `${d.status.label} (${d.by}, ${when(d.at)}${d.meeting ? `, spotkanie ${d.meeting}` : ""})` : "Nie zapisano decyzji."),
  )
  if (!readOnly) {
    const choice = select(choices.decisions, d?.status.value ?? choices.decisions[0]?.[0] ?? "", { "data-testid": "decision-choice" })
    const meeting = input({ "data-testid": "decision-meeting", placeholder: "spotkanie PZK (opcjonalnie)" }, d?.meeting ?? "")
    decision.append(
      el("div", { class: "row" }, choice, meeting, button("Zapisz decyzję", () => edits.setDecision(choice.value, meeting.value.trim() || null), { "data-testid": "save-decision" })),
    )
  }
  const h = data.handover
  const handover = el("div", { "data-testid": "handover" }, el("h4", {}, "Przekazanie (9.3)"))
  if (h) handover.append(el("p", {}, `Do: ${h.target}${h.worker ? ` (${h.worker})` : ""}; ${h.note} — ${h.by}, ${when(h.at)}`))
  if (!readOnly) {
    const target = input({ "data-testid": "handover-target", placeholder: "instytucja przejmująca" }, h?.target ?? "")
    const worker = input({ "data-testid": "handover-worker", placeholder: "pracownik (opcjonalnie)" }, h?.worker ?? "")
    const note = input({ "data-testid": "handover-note", placeholder: "co ustalono" }, h?.note ?? "")
    handover.append(
      el(
        "div",
        { class: "row" },
        field("Instytucja", target),
        field("Pracownik", worker),
        field("Ustalenia", note),
        button("Zapisz przekazanie", () => edits.setHandover(target.value.trim(), worker.value.trim() || null, note.value.trim()), {
          "data-testid": "save-handover",
        }),
      ),
    )
  }
  return section("closing", "Ewaluacja, decyzja PZK, zamknięcie", evaluation, decision, handover)
}
