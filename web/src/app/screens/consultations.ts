// Consultations between institutions about the family: a question, and each institution's
// answer. A partner member answers here; the worker asks.

import { button, el, section, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"

export function consultations(data: CaseData, edits: CaseEdits, access: Access, choices: Choices): HTMLElement {
  const items = data.consultations.map(c => {
    const answers = el(
      "ul",
      { class: "answers" },
      ...c.answers.map(a =>
        el("li", { "data-answer": a.id }, el("p", { class: "muted" }, `${a.by} (${a.institution}), ${when(a.at)}`), el("p", {}, a.text)),
      ),
    )
    const item = el(
      "article",
      { class: "consultation", "data-consultation": c.id },
      el("p", { class: "muted" }, `${c.askedBy} (${c.institution}), ${when(c.at)}`),
      c.askedOf ? el("p", { class: "muted", "data-testid": "asked-of" }, `Pytanie do: ${c.askedOf} (przez PZK, bez udostępniania sprawy)`) : "",
      el("p", { class: "question" }, c.question),
      answers,
    )
    // An institution asked through the PZK answers in "Nowe", in the PZK document.
    if (access.canWrite && !c.askedOf) {
      const text = el("textarea", { rows: "2", "data-testid": "answer-text", "data-bind": `answer/${c.id}` }) as HTMLTextAreaElement
      item.append(text, button("Odpowiedz", () => edits.answerConsultation(c.id, text.value.trim()), { "data-testid": "answer" }))
    }
    return item
  })
  const body = section("consultations", "Konsultacje", ...items)
  if (items.length === 0) body.append(el("p", { class: "muted" }, "Brak konsultacji."))
  if (access.canWrite && !access.partner) {
    const question = el("textarea", { rows: "2", "data-testid": "question", "data-bind": "consultation/new" }) as HTMLTextAreaElement
    // `el` leaves out an empty attribute, and an option without one is worth its text: set it here.
    const shared = el("option", {}, "do osób, którym udostępniono sprawę") as HTMLOptionElement
    shared.value = ""
    const to = el(
      "select",
      { "data-testid": "ask-to", "aria-label": "Do kogo" },
      shared,
      ...choices.askable.map(([value, name]) => el("option", { value }, `${name} (przez PZK, bez udostępniania sprawy)`)),
    ) as HTMLSelectElement
    const ask = () => {
      const text = question.value.trim()
      if (to.value) edits.askInstitution(text, to.value)
      else edits.askConsultation(text)
    }
    body.append(el("h4", {}, "Nowe pytanie do instytucji"), el("label", {}, "Do kogo: ", to), question, button("Zapytaj", ask, { "data-testid": "ask" }))
  }
  return body
}
