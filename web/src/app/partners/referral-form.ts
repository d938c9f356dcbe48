// A new referral (K7.2, zgłoszenie): who it is about, why, how soon, how to reach them and on
// what basis their data is passed on, to a GOPS/MOPS/PCPR of the referrer's PZK. Written on
// this device at once (no network needed) and sent when there is one; the server refuses it
// when the referrer's institution shares no PZK with the receiving one.

import * as M from "../../model"
import type { AppContext } from "../context"
import { el, field, input, select } from "../screens/dom"
import { go } from "../screens/router"
import { receivingInstitutions, sendReferral } from "./referral-model"

const options = (kind: string, values: readonly string[]) => values.map(v => [v, M.label(kind, v)] as const)

export async function showReferralForm(host: HTMLElement, context: AppContext): Promise<() => void> {
  const known = await receivingInstitutions(context)
  const to = input({ required: "", list: "receiving", "data-testid": "referral-to", placeholder: "identyfikator GOPS/PCPR" }, known[0]?.[0] ?? "")
  const suggestions = el("datalist", { id: "receiving" }, ...known.map(([id, name]) => el("option", { value: id }, name)))
  const kind = select(options("subjectKind", M.Referrals.SUBJECT_KINDS), "family", { "data-testid": "referral-kind" })
  const name = input({ required: "", "data-testid": "referral-subject", placeholder: "imię i nazwisko albo nazwisko rodziny" })
  const reason = el("textarea", { rows: "4", required: "", "data-testid": "referral-reason" }) as HTMLTextAreaElement
  const urgency = select(options("urgency", M.Referrals.URGENCIES), "routine", { "data-testid": "referral-urgency" })
  const contact = input({ required: "", "data-testid": "referral-contact", placeholder: "adres, telefon, przez kogo" })
  const basis = select(options("legalBasis", M.Referrals.LEGAL_BASES), "consent", { "data-testid": "referral-basis" })
  const basisNote = input({ "data-testid": "referral-basis-note", placeholder: "np. zgoda ustna matki z 1 marca" })
  const problem = el("p", { class: "refusal", role: "alert", "data-testid": "refusal", hidden: "" })
  const form = el(
    "form",
    { class: "card new-case", "data-testid": "referral-form", "data-section": "referral-form" },
    el("h2", {}, "Nowe zgłoszenie"),
    field("Do (GOPS/MOPS/PCPR z Twojego PZK)", to),
    suggestions,
    field("Kogo dotyczy", kind),
    field("Imię i nazwisko / rodzina", name),
    field("Powód zgłoszenia", reason),
    field("Pilność", urgency),
    field("Jak się skontaktować", contact),
    field("Podstawa przekazania danych", basis),
    field("Zgoda lub przepis — szczegóły", basisNote),
    problem,
    el("button", { type: "submit", "data-testid": "send-referral" }, "Wyślij zgłoszenie"),
  ) as HTMLFormElement
  form.addEventListener("submit", event => {
    event.preventDefault()
    try {
      const documentId = sendReferral(context, {
        to: to.value.trim(),
        subjectKind: kind.value as M.Referrals.SubjectKind,
        subjectName: name.value.trim(),
        reason: reason.value.trim(),
        urgency: urgency.value as M.Referrals.Urgency,
        contact: contact.value.trim(),
        basis: basis.value as M.Referrals.LegalBasis,
        basisNote: basisNote.value.trim(),
      })
      go({ screen: "referral", documentId })
    } catch (error) {
      problem.textContent = (error as Error).message
      problem.hidden = false
    }
  })
  host.replaceChildren(form)
  return () => undefined
}
