// "Zgłoszenia": the referrals on this device. A GOPS/PCPR social worker sees the inbox of
// referrals to their institution, newest first, with the urgency; a referrer sees what they
// sent with its outcome and date. Both open a referral's card; anyone with an institution may
// write a new one.

import * as M from "../../model"
import type { AppContext } from "../context"
import { day, el } from "../screens/dom"
import { href } from "../screens/router"
import { listReferrals, type ReferralRow } from "./referral-model"

/** The status as the referrer and the receiver read it. */
export function outcome(view: M.Referrals.ReferralView): string {
  const status = M.label("referralStatus", view.status.value)
  if (M.isConflicted(view.status)) return `${status} — zdecydowano naraz na dwóch urządzeniach`
  return view.decision ? `${status} ${day(view.decision.at)}` : status
}

function row(r: ReferralRow, inbox: boolean): HTMLElement {
  const v = r.view
  const title = inbox ? `${v.subjectName} — od ${v.by} (${v.institution})` : `${v.subjectName} → ${v.to}`
  return el(
    "li",
    {
      class: "case-row referral-row",
      "data-referral": r.documentId,
      "data-status": v.status.value,
      "data-urgency": v.urgency,
    },
    el(
      "div",
      { class: "case-main" },
      el("a", { href: href({ screen: "referral", documentId: r.documentId }), "data-testid": "referral-link" }, title),
      el("span", { class: "stage-chip", "data-testid": "referral-status" }, outcome(v)),
    ),
    el("div", { class: "muted" }, `${M.label("urgency", v.urgency)} · przesłane ${day(v.createdAt)}`),
  )
}

export async function showReferrals(host: HTMLElement, context: AppContext): Promise<() => void> {
  const { inbox, mine, missing } = await listReferrals(context)
  const parts: HTMLElement[] = [
    el(
      "div",
      { class: "row" },
      el("h2", {}, "Zgłoszenia"),
      el("a", { href: href({ screen: "new-referral" }), class: "button", "data-testid": "new-referral" }, "Nowe zgłoszenie"),
    ),
  ]
  if (inbox.length || context.me.roles.includes("social-worker")) {
    const waiting = inbox.filter(r => r.view.status.value === "submitted").length
    parts.push(
      el("h3", {}, `Do mojej instytucji (czeka na decyzję: ${waiting})`),
      el("ul", { class: "caseload", "data-testid": "referral-inbox" }, ...inbox.map(r => row(r, true))),
    )
    if (!inbox.length) parts.push(el("p", { class: "muted" }, "Nie ma zgłoszeń do Twojej instytucji."))
  }
  parts.push(
    el("h3", {}, "Wysłane przeze mnie"),
    el("ul", { class: "caseload", "data-testid": "referrals-mine" }, ...mine.map(r => row(r, false))),
  )
  if (!mine.length) parts.push(el("p", { class: "muted" }, "Nie wysłano stąd żadnego zgłoszenia."))
  if (missing) {
    parts.push(el("p", { class: "muted" }, `Nie pobrano jeszcze ${missing} zgłoszeń — pojawią się po połączeniu z serwerem.`))
  }
  host.replaceChildren(...parts)
  return () => undefined
}
