// "Porozumienie" (5.2): the agreement's text, parties, signatories and dates; signing it
// freezes its text and parties (the model refuses any later change: `agreement.frozen`), while
// signatories, dates and the scan of the signed paper may still be added. The scan is a file of
// the team's document, taken in, kept and sent by the case app's attachments (app/attachments/):
// the server keeps a document's files under its access, whatever kind of document it is.

import * as M from "../../../model"
import { attachments } from "../../attachments/service"
import { attachmentTile } from "../../attachments/tile"
import type { AppContext } from "../../context"
import { button, day, el, field, input, reportError, section, when } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { change, edits, labelOf, livePart, newId, readOnlyReason, type PzkView } from "./part"

const P = M.Pzk
type Agreement = M.Pzk.AgreementView

function textSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const frozen = a.signed !== null
  const text = el("textarea", { rows: "8", "data-testid": "agreement-text", "data-bind": "agreement/text" }) as HTMLTextAreaElement
  text.value = a.text
  text.readOnly = frozen || !edits(team)
  const body = section("agreement-text", "Treść porozumienia", text)
  if (frozen) {
    body.append(el("p", { class: "muted", "data-testid": "agreement-frozen" }, M.message("agreement.frozen")))
  } else if (edits(team)) {
    body.append(button("Zapisz treść", () => change(context, team, (doc, by, at) => P.setAgreementText(doc, text.value, by, at)), { "data-testid": "save-agreement-text" }))
  }
  return body
}

function partiesSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const open = edits(team) && a.signed === null
  const rows = Object.entries(a.parties).map(([id, name]) =>
    el("li", { "data-party": id }, `${name} `, open ? button("Usuń", () => change(context, team, (doc, by, at) => P.removeAgreementParty(doc, id, by, at)), { class: "link" }) : ""),
  )
  const body = section("agreement-parties", "Strony", rows.length ? el("ul", { "data-testid": "parties" }, ...rows) : el("p", { class: "muted" }, "Brak stron."))
  if (!open) return body
  const name = input({ "data-testid": "party-name", "data-bind": "party/name", placeholder: "np. Gmina Przykładowo" })
  body.append(el("div", { class: "row" }, name, button("Dodaj stronę", () => change(context, team, (doc, by, at) => P.setAgreementParty(doc, newId("strona"), name.value, by, at)), { "data-testid": "add-party" })))
  return body
}

function signatoriesSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const rows = Object.entries(a.signatories).map(([id, s]) =>
    el("li", { "data-signatory": id }, `${s.person} (${s.function ? `${s.function}, ` : ""}${s.institution}) — podpisano ${day(s.signedAt)}`),
  )
  const body = section("agreement-signatories", "Osoby podpisujące", rows.length ? el("ul", { "data-testid": "signatories" }, ...rows) : el("p", { class: "muted" }, "Nikt jeszcze nie podpisał."))
  if (!edits(team)) return body
  const person = input({ "data-testid": "signatory-person", "data-bind": "signatory/person", placeholder: "Imię i nazwisko" })
  const institution = input({ "data-testid": "signatory-institution", "data-bind": "signatory/institution", placeholder: "Instytucja" })
  const fn = input({ "data-testid": "signatory-function", "data-bind": "signatory/function", placeholder: "np. Wójt Gminy" })
  const on = input({ type: "date", "data-testid": "signatory-date", "data-bind": "signatory/date" }, new Date().toISOString().slice(0, 10))
  const add = button("Dodaj osobę podpisującą", () => {
    const signedAt = on.value ? new Date(`${on.value}T12:00:00Z`) : new Date()
    const signatory = { person: person.value, institution: institution.value, function: fn.value, signedAt }
    change(context, team, (doc, by, at) => P.setSignatory(doc, newId("podpis"), signatory, by, at))
  }, { "data-testid": "add-signatory" })
  body.append(el("div", { class: "row" }, person, institution, fn, on, add))
  return body
}

function datesSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const d = a.dates
  const shown = `Zawarte: ${d.concludedOn ?? "—"} · obowiązuje od ${d.validFrom ?? "—"} do ${d.validTo ?? "—"}`
  const body = section("agreement-dates", "Daty", el("p", { "data-testid": "agreement-dates" }, shown))
  if (!edits(team)) return body
  const date = (key: string, value: string | null) => input({ type: "date", "data-testid": `date-${key}`, "data-bind": `dates/${key}` }, value ?? "")
  const concluded = date("concludedOn", d.concludedOn)
  const from = date("validFrom", d.validFrom)
  const to = date("validTo", d.validTo)
  const orNull = (i: HTMLInputElement) => (i.value === "" ? null : i.value)
  body.append(
    el("div", { class: "row" }, field("Data zawarcia", concluded), field("Obowiązuje od", from), field("Obowiązuje do", to)),
    button("Zapisz daty", () => {
      const dates = { concludedOn: orNull(concluded), validFrom: orNull(from), validTo: orNull(to) }
      change(context, team, (doc, by, at) => P.setAgreementDates(doc, dates, by, at))
    }, { "data-testid": "save-dates" }),
  )
  return body
}

function scanSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const scan = a.scan
  const body = section(
    "agreement-scan",
    "Skan podpisanego porozumienia",
    scan
      ? attachmentTile({ document: team.documentId, sha256: scan.sha256, mime: scan.mime, size: scan.size, kind: "skan porozumienia", caption: scan.name })
      : el("p", { class: "muted", "data-testid": "scan-none" }, "Skanu jeszcze nie dołączono."),
  )
  if (!edits(team)) return body
  const chooser = el("input", { type: "file", accept: M.ALLOWED_MIME.join(","), "data-testid": "scan-file" }) as HTMLInputElement
  chooser.addEventListener("change", () => {
    const file = chooser.files?.[0]
    chooser.value = ""
    const service = attachments()
    if (!file || !service) return
    void (async () => {
      const taken = await service.takeIn(file)
      const entry = { ...taken, name: file.name || "porozumienie" }
      change(context, team, (doc, by, at) => P.attachAgreementScan(doc, entry, by, at))
      await service.send(team.documentId, taken)
    })().catch(error => reportError(chooser, error))
  })
  body.append(field(scan ? "Zastąp skan" : "Dołącz skan (PDF lub zdjęcie)", chooser))
  return body
}

function statusSection(context: AppContext, team: Team, a: Agreement): HTMLElement {
  const status = a.status.value
  const signed = a.signed
  const body = section(
    "agreement-status",
    "Status",
    el("p", {}, el("span", { class: "stage-chip", "data-testid": "agreement-status" }, labelOf("agreement", status))),
    signed ? el("p", { class: "muted", "data-testid": "agreement-signed" }, `Podpisanie zapisał(a) ${signed.by}, ${when(signed.at)}.`) : "",
  )
  if (!edits(team)) return body
  const set = (to: M.Pzk.AgreementStatus) => () => change(context, team, (doc, by, at) => P.setAgreementStatus(doc, to, by, at))
  if (status !== "signed") body.append(button("Podpisz porozumienie", set("signed"), { "data-testid": "sign-agreement" }))
  if (status === "signed") body.append(button("Rozwiąż porozumienie", set("terminated"), { class: "link", "data-testid": "terminate-agreement" }))
  return body
}

export function showAgreement(host: HTMLElement, context: AppContext, team: Team, _rest: string[]): TabDispose {
  return livePart(host, team, (view: PzkView) => {
    const a = view.agreement
    return [
      readOnlyReason(team, "agreement"),
      statusSection(context, team, a),
      textSection(context, team, a),
      partiesSection(context, team, a),
      signatoriesSection(context, team, a),
      datesSection(context, team, a),
      scanSection(context, team, a),
    ]
  })
}
