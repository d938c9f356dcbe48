// The service basket (koszyk usług): services from the PZK list given to the family, who
// provides them and their status.

import { conflictView } from "./conflict-view"
import { button, el, field, input, section, select } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"

export function basket(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const rows = data.services.map(s => {
    const status = select(choices.serviceStatuses, s.status.value, { "data-testid": "service-status" })
    status.disabled = readOnly
    status.addEventListener("change", () => edits.setServiceStatus(s.id, status.value))
    const row = el(
      "li",
      { "data-service": s.id, "data-status": s.status.value },
      el("strong", {}, s.label),
      ` — ${s.provider} `,
      status,
    )
    if (s.status.conflict) {
      row.append(conflictView(`services/${s.id}/status`, s.status.conflict, readOnly, v => edits.setServiceStatus(s.id, v)))
    }
    return row
  })
  const body = section("services", "Usługi (koszyk usług)", el("ul", { class: "services" }, ...rows))
  if (data.services.length === 0) body.append(el("p", { class: "muted" }, "Brak usług w koszyku."))
  if (!readOnly) {
    const listed = choices.pzkServices.filter(([id]) => !data.services.some(s => s.id === id))
    const service = listed.length
      ? select(listed, listed[0][0], { "data-testid": "service-choice" })
      : input({ "data-testid": "service-choice", placeholder: "identyfikator usługi" })
    const provider = input({ "data-testid": "service-provider", placeholder: "instytucja (gdy inna niż na liście)" })
    body.append(
      el(
        "div",
        { class: "row" },
        field("Usługa", service),
        field("Realizator", provider),
        button("Dodaj do koszyka", () => edits.addService(service.value, provider.value.trim()), { "data-testid": "add-service" }),
      ),
    )
  }
  return body
}
