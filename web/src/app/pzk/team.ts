// A team's page (`#/pzk/{team}/…`): its name, the sub-tabs registered in tabs.ts, and the
// chosen tab's screen below them. The team is opened once per visit of the page; the tab's
// screen redraws itself on the document's changes.

import type { AppContext } from "../context"
import { el } from "../screens/dom"
import { href } from "../screens/router"
import { PZK_TABS, tabFor } from "./tabs"
import { openTeam, teamHead } from "./team-model"

export async function showTeam(
  host: HTMLElement,
  context: AppContext,
  documentId: string,
  slug: string | null,
  rest: string[],
): Promise<() => void> {
  const team = await openTeam(context, documentId)
  const tab = tabFor(slug)
  const name = teamHead(team.handle.doc()).name ?? "Zespół PZK"
  const tabs = el(
    "nav",
    { class: "pzk-tabs no-print", "aria-label": "Części pracy zespołu" },
    ...PZK_TABS.map(t => {
      const a = el("a", { href: href({ screen: "pzk-team", pzk: documentId, tab: t.slug, rest: [] }), "data-pzk-tab": t.slug }, t.label)
      a.toggleAttribute("aria-current", t === tab)
      return a
    }),
  )
  const body = el("div", { class: "pzk-tab", "data-testid": "pzk-tab", "data-tab": tab.slug })
  host.replaceChildren(
    el(
      "div",
      { class: "no-print" },
      el("p", {}, el("a", { href: href({ screen: "pzk" }) }, "← Zespoły PZK")),
      el("h2", { "data-testid": "team-name" }, name),
      team.writes ? "" : el("p", { class: "muted", "data-testid": "team-read-only" }, "Masz wgląd w pracę zespołu, bez prawa zmian."),
    ),
    tabs,
    body,
  )
  return tab.show(body, context, team, rest)
}
