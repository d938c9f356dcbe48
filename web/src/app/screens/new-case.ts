// A new case: the family, the address and phone, and the referral that opens it. The case is
// created on this device at once (no network needed) and sent when there is one.

import type { AppContext } from "../context"
import { createCase } from "./case-model"
import { el, field, input } from "./dom"
import { go } from "./router"

export function showNewCase(host: HTMLElement, context: AppContext): () => void {
  const person = input({ required: "", "data-testid": "person", placeholder: "imię i nazwisko osoby, której dotyczy sprawa" })
  const by = input({ required: "", "data-testid": "referred-by" }, context.me.name)
  const institution = input({ required: "", "data-testid": "referring-institution" }, context.me.institution ?? "")
  const reason = el("textarea", { rows: "4", required: "", "data-testid": "reason" }) as HTMLTextAreaElement
  const problem = el("p", { class: "refusal", role: "alert", "data-testid": "refusal", hidden: "" })
  const form = el(
    "form",
    { class: "card new-case", "data-testid": "new-case-form" },
    el("h2", {}, "Nowa sprawa"),
    field("Osoba", person),
    el("h3", {}, "Zgłoszenie"),
    field("Kto zgłasza", by),
    field("Instytucja zgłaszająca (identyfikator)", institution),
    field("Powód zgłoszenia", reason),
    problem,
    el("button", { type: "submit", "data-testid": "create-case" }, "Załóż sprawę"),
  ) as HTMLFormElement
  form.addEventListener("submit", async event => {
    event.preventDefault()
    try {
      const documentId = await createCase(context, {
        people: [{ name: person.value.trim(), relation: "osoba zgłoszona", birthDate: null }],
        referredBy: by.value.trim(),
        referringInstitution: institution.value.trim(),
        reason: reason.value.trim(),
      })
      go({ screen: "case", documentId })
    } catch (error) {
      problem.textContent = (error as Error).message
      problem.hidden = false
    }
  })
  host.replaceChildren(form)
  return () => undefined
}
