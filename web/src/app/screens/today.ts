// "Dziś": planned visits, and IPP goals and monitoring past their deadline, from the case
// documents on this device (works offline).

import type { AppContext } from "../context"
import { loadToday } from "./caseload-model"
import { day, el } from "./dom"
import type { TodayItem } from "./port"
import { href } from "./router"

const HEADINGS: Record<TodayItem["kind"], string> = {
  visit: "Zaplanowane wizyty",
  goal: "Cele IPP po terminie",
  monitoring: "Monitorowanie po terminie",
}

export async function showToday(host: HTMLElement, context: AppContext): Promise<() => void> {
  const items = await loadToday(context)
  const groups = (Object.keys(HEADINGS) as Array<TodayItem["kind"]>).map(kind => {
    const mine = items.filter(i => i.kind === kind)
    return el(
      "section",
      { class: "card", "data-today": kind },
      el("h3", {}, HEADINGS[kind], ` (${mine.length})`),
      mine.length
        ? el(
            "ul",
            {},
            ...mine.map(i =>
              el(
                "li",
                { "data-case": i.documentId },
                el("a", { href: href({ screen: "case", documentId: i.documentId }) }, i.title),
                ` — ${i.what} (${day(i.due)})`,
              ),
            ),
          )
        : el("p", { class: "muted" }, "Nic."),
    )
  })
  host.replaceChildren(el("h2", {}, `Dziś, ${day(new Date())}`), ...groups)
  return () => undefined
}
