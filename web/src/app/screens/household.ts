// The household: who lives there, the address and the contact phone.

import { button, el, field, input, section } from "./dom"
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
  const body = section("household", "Gospodarstwo domowe", contact(data, edits, readOnly), people)
  if (!readOnly) body.append(newPerson(edits))
  return body
}

/** "+48601234567" as a Polish reader writes it ("+48 601 234 567"); other numbers as kept. */
export function phoneShown(phone: string): string {
  const polish = /^\+48(\d{3})(\d{3})(\d{3})$/.exec(phone)
  return polish ? `+48 ${polish[1]} ${polish[2]} ${polish[3]}` : phone
}

/** The address and the contact phone: shown (the phone as a link to call), and edited. */
function contact(data: CaseData, edits: CaseEdits, readOnly: boolean): HTMLElement {
  const shown = el(
    "p",
    { "data-testid": "contact" },
    el("span", { "data-testid": "address" }, data.address ?? "adres nieznany"),
    " · tel. ",
    data.phone
      ? el("a", { href: `tel:${data.phone}`, "data-testid": "phone" }, phoneShown(data.phone))
      : el("span", { "data-testid": "phone" }, "brak"),
  )
  if (readOnly) return shown
  const address = input({ "data-testid": "address-input", "data-bind": "household/address", autocomplete: "off" }, data.address ?? "")
  const phone = input(
    { type: "tel", "data-testid": "phone-input", "data-bind": "household/phone", placeholder: "np. 601 234 567", autocomplete: "off" },
    data.phone ? phoneShown(data.phone) : "",
  )
  const save = button("Zapisz adres i telefon", () => edits.setContact(address.value, phone.value), { "data-testid": "save-contact" })
  return el("div", {}, shown, el("div", { class: "row" }, field("Adres", address), field("Telefon kontaktowy", phone), save))
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
