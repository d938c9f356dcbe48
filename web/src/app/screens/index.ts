// The case app's screens: the caseload ("Moje sprawy"), today ("Dziś"), a new case and the case
// card with its parts, the referrals, the PZK teams (app/pzk/), what is new ("Nowe"); for ROPS
// coordinators and admins the evaluation dashboard ("Ewaluacja"). The shell mounts them once the
// worker is signed in and the device store is unlocked; they read and edit documents only
// through the model (web/src/model) and reach the network only through the context's repo and
// tokens.

import type { Me } from "../../api"
import type { AppContext, MountScreens } from "../context"
import { mayOpenCases } from "./case-model"
import { showCaseload } from "./caseload"
import { showCard } from "./card"
import { el } from "./dom"
import { showNewCase } from "./new-case"
import { parseRoute, type Route } from "./router"
import { showToday } from "./today"
import { showReferralCard } from "../partners/referral-card"
import { showReferralForm } from "../partners/referral-form"
import { showReferrals } from "../partners/referrals"
import { loadNews } from "../news/news-model"
import { showNews, showNewsConsultation } from "../news/news"
import { mayEvaluate } from "../evaluation/figures"
import { showEvaluation } from "../evaluation/screen"
import { showNewTeam } from "../pzk/new-team"
import { showTeam } from "../pzk/team"
import { showTeams } from "../pzk/teams"
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
    case "news":
      return showNews
    case "news-consultation":
      return (host, context) => showNewsConsultation(host, context, route.pzk, route.id)
    case "evaluation":
      return showEvaluation
    case "pzk":
      return showTeams
    case "pzk-new":
      return showNewTeam
    case "pzk-team":
      return (host, context) => showTeam(host, context, route.pzk, route.tab, route.rest)
  }
}

/** The tabs: "Dziś" and "Nowa sprawa" only for those who may open cases (not partners). */
function navigation(me: Me): HTMLElement {
  const link = (href: string, label: string, id: string) =>
    el("a", { href, "data-nav": id, "data-testid": `nav-${id}` }, label)
  const caseWork = mayOpenCases(me) ? [link("#/dzis", "Dziś", "today"), link("#/nowa", "Nowa sprawa", "new-case")] : []
  return el(
    "nav",
    { class: "case-nav", "aria-label": "Nawigacja" },
    link("#/", "Moje sprawy", "caseload"),
    ...caseWork,
    link("#/zgloszenia", "Zgłoszenia", "referrals"),
    link("#/pzk", "Zespoły PZK", "pzk"),
    el("a", { href: "#/nowe", "data-nav": "news", "data-testid": "nav-news" }, "Nowe ", el("span", { class: "badge", "data-testid": "news-count", hidden: "hidden" }, "")),
    ...(mayEvaluate(me.roles) ? [link("#/ewaluacja", "Ewaluacja", "evaluation")] : []),
  )
}

/**
 * Keeps the "Nowe" tab's count: recounted when a screen is shown and when a PZK, referral or
 * "seen" document on the device changes (not at every keystroke in a case: a case is new by
 * being shared, which no edit of it changes). One count at a time; a change meanwhile asks for
 * one more.
 */
function keepNewsCount(nav: HTMLElement, context: AppContext): () => void {
  const badge = nav.querySelector<HTMLElement>("[data-testid=news-count]")
  const watched = new Set<string>()
  let running = false
  let again = false
  const recount = async (): Promise<void> => {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      const { items, sources } = await loadNews(context)
      if (badge) {
        badge.textContent = String(items.length)
        badge.hidden = items.length === 0
        badge.dataset.count = String(items.length)
      }
      for (const handle of sources.watch) {
        if (watched.has(handle.documentId)) continue
        watched.add(handle.documentId)
        handle.on("change", () => void recount())
      }
    } catch {
      // Offline with nothing kept yet: the next screen or change counts again.
    } finally {
      running = false
    }
    if (again) {
      again = false
      await recount()
    }
  }
  void recount()
  return () => void recount()
}

export const mountCaseApp: MountScreens = (root, context) => {
  const nav = navigation(context.me)
  const recountNews = keepNewsCount(nav, context)
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
      const section =
        route.screen === "new-referral" || route.screen === "referral"
          ? "referrals"
          : route.screen === "news-consultation"
            ? "news"
            : route.screen === "pzk-team" || route.screen === "pzk-new"
              ? "pzk"
              : route.screen
      a.toggleAttribute("aria-current", a.dataset.nav === section)
    }
    recountNews()
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
