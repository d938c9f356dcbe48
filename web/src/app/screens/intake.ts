// The referral (zgłoszenie) and the screening.

import { conflictView } from "./conflict-view"
import { button, el, section, select, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"
import { textField } from "./text-field"

export function intake(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const referral = el(
    "div",
    { "data-testid": "referral" },
    el("h4", {}, "Zgłoszenie"),
    el("p", { class: "muted" }, `Zgłosił(a): ${data.referral.by} (${data.referral.institution}), ${when(data.referral.at)}`),
    textField({
      bind: "referral/reason",
      value: data.referral.reason,
      readOnly,
      rows: 3,
      placeholder: "Powód zgłoszenia",
      write: text => edits.setReferralReason(text),
    }),
  )
  const s = data.screening
  const screening = el("div", { "data-testid": "screening" }, el("h4", {}, "Screening"))
  if (s.outcome?.conflict) {
    screening.append(conflictView("screening/outcome", s.outcome.conflict, readOnly, v => edits.setScreening(v, s.notes)))
  }
  screening.append(
    el(
      "p",
      { "data-testid": "screening-outcome" },
      s.outcome ? `Wynik: ${s.outcome.label}` : "Wynik: jeszcze nie zapisano",
      s.by ? ` (${s.by}, ${when(s.at)})` : "",
    ),
    textField({
      bind: "screening/notes",
      value: s.notes,
      readOnly,
      rows: 3,
      placeholder: "Notatki ze screeningu",
      write: text => edits.setScreeningNotes(text),
    }),
  )
  if (!readOnly) {
    const outcome = select(choices.screeningOutcomes, s.outcome?.value ?? choices.screeningOutcomes[0]?.[0] ?? "", {
      "data-testid": "screening-choice",
    })
    screening.append(
      el(
        "div",
        { class: "row" },
        outcome,
        button("Zapisz wynik screeningu", () => edits.setScreening(outcome.value, s.notes), {
          "data-testid": "save-screening",
        }),
      ),
    )
  }
  return section("intake", "Zgłoszenie i screening", referral, screening)
}
