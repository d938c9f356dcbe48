// The household: who lives there, the address and the contact phone.

import { el, field, input, section } from "./dom"
import type { Access, CaseData, CaseEdits } from "./port"

export function household(data: CaseData, edits: CaseEdits, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const people = el(
    "ul",
    { class: "people", "data-testid": "household" },
    ...data.household.map(p =>
      el(
        "li",
        { "data-person": p.id },
        el("strong", {}, p.name),
        ` — ${p.relation}`,
        p.birthDate ? `, ur. ${p.birthDate}` : "",
      ),
    ),
  )
  const body = section("household", "Gospodarstwo domowe", people)
  if (!readOnly) body.append(newPerson(edits))
  return body
}

function newPerson(edits: CaseEdits): HTMLElement {
  const name = input({ "data-testid": "person-name", "data-bind": "person-name", required: "" })
  const relation = input({ "data-testid": "person-relation", "data-bind": "person-relation", placeholder: "np. syn, matka" })
  const born = input({ type: "date", "data-testid": "person-born", "data-bind": "person-born" })
  const form = el(
    "form",
    { class: "row", "data-testid": "add-person" },
    field("Imię i nazwisko", name),
    field("Relacja", relation),
    field("Data urodzenia", born),
    el("button", { type: "submit" }, "Dodaj osobę"),
  )
  form.addEventListener("submit", event => {
    event.preventDefault()
    edits.addPerson({ name: name.value.trim(), relation: relation.value.trim(), birthDate: born.value || null })
  })
  return form
}
