// The addresses of the meetings tab's screens: `#/pzk/{team}/spotkania/…`.

import { href } from "../../screens/router"

/** The address of a meeting's screen, `rest` being what follows `spotkania`. */
export function meetingHref(team: { documentId: string }, ...rest: string[]): string {
  return href({ screen: "pzk-team", pzk: team.documentId, tab: "spotkania", rest })
}
