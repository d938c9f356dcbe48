// Consents to share the family's data with an institution for a purpose, given or withdrawn
// (an append-only record: withdrawing adds an entry).

import { button, el, field, input, section, when } from "./dom"
import type { Access, CaseData, CaseEdits } from "./port"

export function consents(data: CaseData, edits: CaseEdits, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const rows = data.consents.map(c =>
    el(
      "li",
      { "data-consent": c.id, "data-given": String(c.given) },
      `${c.given ? "Zgoda udzielona" : "Zgoda wycofana"}: ${c.institution}, cel: ${c.purpose} — ${c.by}, ${when(c.at)} (zapisał(a) ${c.recordedBy})`,
    ),
  )
  const body = section("consents", "Zgody", el("ul", { "data-testid": "consents" }, ...rows))
  if (rows.length === 0) body.append(el("p", { class: "muted" }, "Brak zapisanych zgód."))
  if (!readOnly) {
    const institution = input({ "data-testid": "consent-institution", placeholder: "identyfikator instytucji" })
    const purpose = input({ "data-testid": "consent-purpose" }, "pzk")
    const by = input({ "data-testid": "consent-by", list: "consent-people" })
    const people = el("datalist", { id: "consent-people" }, ...data.household.map(p => el("option", { value: p.name })))
    const record = (given: boolean) => () => edits.recordConsent(institution.value.trim(), purpose.value.trim(), given, by.value.trim())
    body.append(
      el(
        "div",
        { class: "row" },
        field("Instytucja", institution),
        field("Cel", purpose),
        field("Kto wyraża / wycofuje", by),
        people,
        button("Zgoda udzielona", record(true), { "data-testid": "consent-give" }),
        button("Zgoda wycofana", record(false), { "data-testid": "consent-withdraw" }),
      ),
    )
  }
  return body
}
