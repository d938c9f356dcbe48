// "Zespoły PZK": the teams the user may open, each a link to its page; a team whose document
// is not on the device yet says so (it arrives with the next sync).

import type { AppContext } from "../context"
import { el } from "../screens/dom"
import { href } from "../screens/router"
import { mayCreateTeam } from "./new-team"
import { animates, listTeams } from "./team-model"

export async function showTeams(host: HTMLElement, context: AppContext): Promise<() => void> {
  const teams = await listTeams(context)
  const rows = teams.map(t => {
    const title = t.name ?? `Zespół ${t.documentId.slice(0, 8)}… (jeszcze nie pobrany)`
    const mine = t.animator === context.me.login && animates(context.me, { name: t.name, animator: t.animator })
    return el(
      "li",
      { class: "case-row", "data-team": t.documentId },
      el("a", { href: href({ screen: "pzk-team", pzk: t.documentId, tab: null, rest: [] }), "data-testid": "team-link" }, title),
      mine ? el("span", { class: "stage-chip" }, "animator") : "",
      t.entry.access === "read" ? el("span", { class: "muted" }, " tylko do odczytu") : "",
    )
  })
  host.replaceChildren(
    el("h2", {}, "Zespoły PZK"),
    mayCreateTeam(context.me) ? el("a", { href: href({ screen: "pzk-new" }), class: "button", "data-testid": "new-team" }, "Nowy zespół") : "",
    rows.length
      ? el("ul", { class: "caseload", "data-testid": "team-list" }, ...rows)
      : el("p", { class: "muted", "data-testid": "team-empty" }, "Nie należysz do żadnego Partnerskiego Zespołu Kooperacji."),
  )
  return () => undefined
}
