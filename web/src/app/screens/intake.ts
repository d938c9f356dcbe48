// The referral (zgłoszenie) and the screening.

import { conflictView } from "./conflict-view"
import { button, el, section, select, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"

export function intake(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const referral = el(
    "div",
    { "data-testid": "referral" },
    el("h4", {}, "Zgłoszenie"),
    el("p", { class: "muted" }, `Zgłosił(a): ${data.referral.by} (${data.referral.institution}), ${when(data.referral.at)}`),
    el("p", { class: "note-text", "data-testid": "referral-reason" }, data.referral.reason),
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
  )
  const notes = el("textarea", { rows: "3", "data-testid": "screening-notes", "data-bind": "screening/notes", placeholder: "Uzasadnienie wyniku (wymagane)" }) as HTMLTextAreaElement
  notes.value = s.notes
  notes.readOnly = readOnly
  screening.append(notes)
  if (!readOnly) {
    const outcome = select(choices.screeningOutcomes, s.outcome?.value ?? choices.screeningOutcomes[0]?.[0] ?? "", {
      "data-testid": "screening-choice",
    })
    screening.append(
      el(
        "div",
        { class: "row" },
        outcome,
        button("Zapisz wynik screeningu", () => edits.setScreening(outcome.value, notes.value), {
          "data-testid": "save-screening",
        }),
      ),
    )
  }
  return section("intake", "Zgłoszenie i screening", referral, screening)
}
