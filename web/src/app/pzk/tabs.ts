// The team page's sub-tabs: the one place a part of the PZK's work registers itself. Each tab
// has its slug in the address (`#/pzk/{team}/{slug}/…`), its Polish label and the screen it
// draws; the team page shows them in this order and opens the first when the address names
// none. To add a tab (Zespół, Porozumienie, Harmonogram, Usługi, Rekomendacje), write its
// screen under app/pzk/ and add one entry to PZK_TABS.

import type { AppContext } from "../context"
import { showMeetings } from "./meetings/screen"
import { showAgreement } from "./parts/agreement"
import { showMembers } from "./parts/members"
import { showPlan } from "./parts/plan"
import { showRecommendations } from "./parts/recommendations"
import { showServices } from "./parts/services"
import type { Team } from "./team-model"
import "./pzk.css"

/** What a tab's screen leaves behind to be cleaned up when another one replaces it. */
export type TabDispose = () => void

/** A tab's screen: draws into `host`; `rest` is the address after the tab's slug. */
export type TabScreen = (host: HTMLElement, context: AppContext, team: Team, rest: string[]) => TabDispose | Promise<TabDispose>

export interface PzkTab {
  /** The tab's part of the address, e.g. `spotkania`. */
  slug: string
  /** The tab's name on screen. */
  label: string
  show: TabScreen
}

export const PZK_TABS: readonly PzkTab[] = [
  { slug: "spotkania", label: "Spotkania", show: showMeetings },
  { slug: "zespol", label: "Zespół", show: showMembers },
  { slug: "porozumienie", label: "Porozumienie", show: showAgreement },
  { slug: "harmonogram", label: "Harmonogram", show: showPlan },
  { slug: "uslugi", label: "Usługi", show: showServices },
  { slug: "rekomendacje", label: "Rekomendacje", show: showRecommendations },
]

/** The tab the address names, or the first. */
export function tabFor(slug: string | null): PzkTab {
  return PZK_TABS.find(t => t.slug === slug) ?? PZK_TABS[0]
}
