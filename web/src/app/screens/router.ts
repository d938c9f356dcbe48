// The case app's routes, in the address's hash so that the shell's single page (and its
// service worker) serve them all: `#/` the caseload, `#/dzis` today, `#/nowa` a new case,
// `#/sprawa/{documentId}` a case card, `#/zgloszenia` the referrals, `#/zgloszenia/nowe` a new
// referral, `#/zgloszenie/{documentId}` a referral's card, `#/ewaluacja` the evaluation dashboard
// (ROPS coordinators and admins).

export type Route =
  | { screen: "caseload" }
  | { screen: "today" }
  | { screen: "new-case" }
  | { screen: "case"; documentId: string }
  | { screen: "referrals" }
  | { screen: "new-referral" }
  | { screen: "referral"; documentId: string }
  | { screen: "evaluation" }

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "")
  const card = path.match(/^\/sprawa\/([1-9A-HJ-NP-Za-km-z]+)\/?$/)
  if (card) return { screen: "case", documentId: card[1] }
  const referral = path.match(/^\/zgloszenie\/([1-9A-HJ-NP-Za-km-z]+)\/?$/)
  if (referral) return { screen: "referral", documentId: referral[1] }
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
    case "evaluation":
      return "#/ewaluacja"
  }
}

export function go(route: Route): void {
  location.hash = href(route)
}
