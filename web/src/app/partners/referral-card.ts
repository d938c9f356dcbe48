// One referral: what the referrer wrote, and its outcome. The receiving institution's social
// worker accepts it (a case opens with the referral linked and the referrer recorded, and the
// card of that case shows) or declines it with a reason; the referrer reads the outcome and its
// date, and nothing of the case.

import * as M from "../../model"
import type { AppContext } from "../context"
import { button, day, el, field, input, section, when } from "../screens/dom"
import { go, href } from "../screens/router"
import { outcome } from "./referrals"
import { openReferral, type OpenedReferral } from "./referral-model"

function facts(v: M.Referrals.ReferralView): HTMLElement {
  const row = (label: string, value: string, id: string) =>
    el("div", { class: "fact" }, el("dt", {}, label), el("dd", { "data-testid": id }, value))
  return el(
    "dl",
    { class: "facts" },
    row("Kogo dotyczy", `${M.label("subjectKind", v.subjectKind)}: ${v.subjectName}`, "referral-subject"),
    row("Powód", v.reason, "referral-reason"),
    row("Pilność", M.label("urgency", v.urgency), "referral-urgency"),
    row("Kontakt", v.contact, "referral-contact"),
    row("Podstawa", `${M.label("legalBasis", v.basis)}${v.basisNote ? ` — ${v.basisNote}` : ""}`, "referral-basis"),
    row("Zgłasza", `${v.by} (${v.institution}), ${when(v.createdAt)}`, "referral-by"),
    row("Do", v.to, "referral-to"),
  )
}

function decision(opened: OpenedReferral): HTMLElement {
  const v = opened.view()
  const status = el("p", { "data-testid": "referral-outcome", "data-status": v.status.value }, `Status: ${outcome(v)}`)
  const parts: Array<Node | string> = [status]
  if (v.decision?.reason) parts.push(el("p", { "data-testid": "decline-reason" }, `Uzasadnienie: ${v.decision.reason}`))
  if (v.decision?.case && opened.receiving) {
    parts.push(el("a", { href: href({ screen: "case", documentId: v.decision.case }), "data-testid": "referral-case" }, "Otwórz sprawę"))
  }
  if (v.decision && !opened.receiving) {
    parts.push(el("p", { class: "muted" }, `Decyzja z ${day(v.decision.at)}. Szczegóły sprawy widzi tylko ośrodek, chyba że udostępni Ci sprawę.`))
  }
  const open = v.status.value === "submitted" || M.isConflicted(v.status)
  if (opened.receiving && open) {
    const reason = input({ "data-testid": "decline-reason-input", placeholder: "dlaczego (zobaczy to osoba zgłaszająca)" })
    parts.push(
      el(
        "div",
        { class: "row" },
        button("Przyjmij i załóż sprawę", () => go({ screen: "case", documentId: opened.accept() }), { "data-testid": "accept-referral" }),
      ),
      field("Odrzuć z uzasadnieniem", reason),
      button("Odrzuć zgłoszenie", () => opened.decline(reason.value), { "data-testid": "decline-referral" }),
    )
  }
  return section("referral-decision", "Decyzja", ...parts)
}

export async function showReferralCard(host: HTMLElement, context: AppContext, documentId: string): Promise<() => void> {
  const opened = await openReferral(context, documentId)
  const draw = () => {
    const v = opened.view()
    host.replaceChildren(
      el(
        "article",
        { class: "card referral-card", "data-testid": "referral-card", "data-document": documentId, "data-status": v.status.value },
        el("h2", {}, `Zgłoszenie: ${v.subjectName}`),
        facts(v),
      ),
      decision(opened),
    )
  }
  draw()
  return opened.onChange(draw)
}
