// The case app's routes, in the address's hash so that the shell's single page (and its
// service worker) serve them all: `#/` the caseload, `#/dzis` today, `#/nowa` a new case,
// `#/sprawa/{documentId}` a case card, `#/zgloszenia` the referrals, `#/zgloszenia/nowe` a new
// referral, `#/zgloszenie/{documentId}` a referral's card, `#/nowe` what is new ("Nowe"),
// `#/nowe/konsultacja/{pzk}/{id}` a consultation addressed to the user's institution,
// `#/ewaluacja` the evaluation dashboard (ROPS coordinators and admins), `#/pzk` the user's PZK
// teams, `#/pzk/nowy-zespol` a new team's document, `#/pzk/{documentId}/{tab}/…` a team's page
// with its sub-tab (app/pzk/tabs.ts) and what follows the tab's slug (say
// `spotkania/{meeting}/druk`).

export type Route =
  | { screen: "caseload" }
  | { screen: "today" }
  | { screen: "new-case" }
  | { screen: "case"; documentId: string }
  | { screen: "referrals" }
  | { screen: "new-referral" }
  | { screen: "referral"; documentId: string }
  | { screen: "news" }
  | { screen: "news-consultation"; pzk: string; id: string }
  | { screen: "evaluation" }
  | { screen: "pzk" }
  | { screen: "pzk-team"; pzk: string; tab: string | null; rest: string[] }
  | { screen: "pzk-new" }

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "")
  const card = path.match(/^\/sprawa\/([1-9A-HJ-NP-Za-km-z]+)\/?$/)
  if (card) return { screen: "case", documentId: card[1] }
  const referral = path.match(/^\/zgloszenie\/([1-9A-HJ-NP-Za-km-z]+)\/?$/)
  if (referral) return { screen: "referral", documentId: referral[1] }
  const consultation = path.match(/^\/nowe\/konsultacja\/([1-9A-HJ-NP-Za-km-z]+)\/([^/]+)\/?$/)
  if (consultation) return { screen: "news-consultation", pzk: consultation[1], id: decodeURIComponent(consultation[2]) }
  const team = path.match(/^\/pzk\/([1-9A-HJ-NP-Za-km-z]+)((?:\/[^/]+)*)\/?$/)
  if (team) {
    const [tab, ...rest] = team[2].split("/").filter(Boolean).map(decodeURIComponent)
    return { screen: "pzk-team", pzk: team[1], tab: tab ?? null, rest }
  }
  if (path === "/pzk") return { screen: "pzk" }
  if (path === "/pzk/nowy-zespol") return { screen: "pzk-new" }
  if (path === "/nowe") return { screen: "news" }
  if (path === "/zgloszenia") return { screen: "referrals" }
  if (path === "/zgloszenia/nowe") return { screen: "new-referral" }
  if (path === "/ewaluacja") return { screen: "evaluation" }
  if (path === "/dzis") return { screen: "today" }
  if (path === "/nowa") return { screen: "new-case" }
  return { screen: "caseload" }
}

export function href(route: Route): string {
  switch (route.screen) {
    case "caseload":
      return "#/"
    case "today":
      return "#/dzis"
    case "new-case":
      return "#/nowa"
    case "case":
      return `#/sprawa/${route.documentId}`
    case "referrals":
      return "#/zgloszenia"
    case "new-referral":
      return "#/zgloszenia/nowe"
    case "referral":
      return `#/zgloszenie/${route.documentId}`
    case "news":
      return "#/nowe"
    case "news-consultation":
      return `#/nowe/konsultacja/${route.pzk}/${encodeURIComponent(route.id)}`
    case "evaluation":
      return "#/ewaluacja"
    case "pzk":
      return "#/pzk"
    case "pzk-new":
      return "#/pzk/nowy-zespol"
    case "pzk-team": {
      const parts = route.tab === null ? [] : [route.tab, ...route.rest]
      return `#/pzk/${route.pzk}${parts.map(p => `/${encodeURIComponent(p)}`).join("")}`
    }
  }
}

export function go(route: Route): void {
  location.hash = href(route)
}
