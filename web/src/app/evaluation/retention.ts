// The retention schedule on the evaluation dashboard (GET /api/v1/retention, for ROPS
// coordinators and admins): every finished case under its pseudonym, when it was closed, the
// day it is to be erased, whether its owner was told, whether an administrator holds it.

import type { AccessTokens } from "../../api"
import { el } from "../screens/dom"
import { get } from "./figures"

export interface ScheduleEntry {
  case: string
  document?: string
  institution: string | null
  closed: string | null
  erase_on: string | null
  notified: boolean
  notified_on: string | null
  held: boolean
  hold_until: string | null
  hold_reason?: string
}

export interface Schedule {
  months: number
  cases: ScheduleEntry[]
}

export async function loadSchedule(tokens: AccessTokens): Promise<Schedule> {
  return (await get(tokens, "/api/v1/retention")).json() as Promise<Schedule>
}

const years = (months: number) => (months % 12 === 0 ? `${months / 12} lat` : `${months} mies.`)

function holdText(entry: ScheduleEntry): string {
  if (!entry.held) return "—"
  const until = entry.hold_until ? `do ${entry.hold_until}` : "bez terminu"
  return entry.hold_reason ? `${until} (${entry.hold_reason})` : until
}

/** The schedule as a section: its period and a table, or a line when no case has ended. */
export function scheduleSection(schedule: Schedule): HTMLElement {
  const intro = el(
    "p",
    { class: "muted", "data-testid": "retention-period" },
    `Zakończone sprawy są przechowywane ${years(schedule.months)} od 1 stycznia roku następującego po zamknięciu, ` +
      "a potem usuwane; właściciel sprawy dostaje zawiadomienie miesiąc wcześniej.",
  )
  if (schedule.cases.length === 0) {
    return el("div", {}, intro, el("p", { "data-testid": "retention-empty" }, "Brak zakończonych spraw."))
  }
  const head = el(
    "tr",
    {},
    ...["Sprawa (pseudonim)", "Instytucja", "Zamknięta", "Usunięcie", "Zawiadomiono", "Wstrzymanie"].map(h =>
      el("th", { scope: "col" }, h),
    ),
  )
  const rows = schedule.cases.map(entry =>
    el(
      "tr",
      {
        "data-testid": "retention-row",
        "data-case": entry.case,
        "data-erase-on": entry.erase_on ?? "",
        "data-notified": String(entry.notified),
      },
      el("td", {}, entry.case),
      el("td", {}, entry.institution ?? "—"),
      el("td", {}, entry.closed ?? "ustalane"),
      el("td", {}, entry.erase_on ?? (entry.held ? "wstrzymane" : "ustalane")),
      el("td", {}, entry.notified ? `tak (${entry.notified_on ?? ""})` : "nie"),
      el("td", {}, holdText(entry)),
    ),
  )
  return el(
    "div",
    {},
    intro,
    el("table", { class: "eval-table", "data-testid": "retention-table" }, el("thead", {}, head), el("tbody", {}, ...rows)),
  )
}
