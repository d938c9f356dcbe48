// The case app's screens: the caseload ("Moje sprawy"), today ("Dziś"), a new case and the case
// card with its parts; for ROPS coordinators and admins the evaluation dashboard ("Ewaluacja"). The shell mounts them once the worker is signed in and the device store
// is unlocked; they read and edit documents only through the model (web/src/model) and reach
// the network only through the context's repo and tokens.

import type { AppContext, MountScreens } from "../context"
import { showCaseload } from "./caseload"
import { showCard } from "./card"
import { el } from "./dom"
import { showNewCase } from "./new-case"
import { parseRoute, type Route } from "./router"
import { showToday } from "./today"
import { showReferralCard } from "../partners/referral-card"
import { showReferralForm } from "../partners/referral-form"
import { showReferrals } from "../partners/referrals"
import { mayEvaluate } from "../evaluation/figures"
import { showEvaluation } from "../evaluation/screen"
import "./screens.css"

/** What a shown screen leaves behind to be cleaned up when another one replaces it. */
export type Dispose = () => void

/** A screen: draws itself into `host` and returns how to stop listening. */
export type Screen = (host: HTMLElement, context: AppContext) => Dispose | Promise<Dispose>

function screenFor(route: Route): Screen {
  switch (route.screen) {
    case "caseload":
      return showCaseload
    case "today":
      return showToday
    case "new-case":
      return showNewCase
    case "case":
      return (host, context) => showCard(host, context, route.documentId)
    case "referrals":
      return showReferrals
    case "new-referral":
      return showReferralForm
    case "referral":
      return (host, context) => showReferralCard(host, context, route.documentId)
    case "evaluation":
      return showEvaluation
  }
}

function navigation(roles: readonly string[]): HTMLElement {
  const link = (href: string, label: string, id: string) =>
    el("a", { href, "data-nav": id, "data-testid": `nav-${id}` }, label)
  return el(
    "nav",
    { class: "case-nav", "aria-label": "Nawigacja" },
    link("#/", "Moje sprawy", "caseload"),
    link("#/dzis", "Dziś", "today"),
    link("#/nowa", "Nowa sprawa", "new-case"),
    link("#/zgloszenia", "Zgłoszenia", "referrals"),
    ...(mayEvaluate(roles) ? [link("#/ewaluacja", "Ewaluacja", "evaluation")] : []),
  )
}

export const mountCaseApp: MountScreens = (root, context) => {
  const nav = navigation(context.me.roles)
  const host = el("div", { class: "case-screen", "data-testid": "screen" })
  root.replaceChildren(nav, host)
  let dispose: Dispose = () => undefined
  let shown = 0
  const show = async () => {
    const turn = ++shown
    dispose()
    dispose = () => undefined
    const route = parseRoute(location.hash)
    for (const a of nav.querySelectorAll<HTMLAnchorElement>("a")) {
      const section = route.screen === "new-referral" || route.screen === "referral" ? "referrals" : route.screen
      a.toggleAttribute("aria-current", a.dataset.nav === section)
    }
    host.replaceChildren(el("p", { class: "muted" }, "Wczytywanie…"))
    try {
      const stop = await screenFor(route)(host, context)
      if (turn === shown) dispose = stop
      else stop()
    } catch (error) {
      if (turn !== shown) return
      const message = error instanceof Error ? error.message : String(error)
      host.replaceChildren(el("p", { class: "refusal", role: "alert", "data-testid": "screen-error" }, message))
    }
  }
  addEventListener("hashchange", () => void show())
  return show()
}
