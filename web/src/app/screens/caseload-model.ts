// The caseload and "Dziś" read from every case document on the device: one pass over the
// cases, each read by the model, summarised for a list.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import * as M from "../../model"
import type { AppContext } from "../context"
import { goalOverdue, status, titleOf } from "./case-read"
import { isoDay } from "./dom"
import { entries, find } from "./documents"
import type { CaseSummary, TodayItem } from "./port"

/** Monitoring is due when a case in delivery has had no note for this many days. */
export const MONITORING_EVERY_DAYS = 30

const DAY_MS = 24 * 3600 * 1000

const today = () => isoDay(new Date())

interface Held {
  documentId: string
  doc: M.CaseDoc
  view: M.CaseView
  readOnly: boolean
}

/** Every case the device holds (read by the model) and how many it lacks. */
async function held(context: AppContext): Promise<{ cases: Held[]; missing: number }> {
  const { cases } = await entries(context)
  const handles = await Promise.all(cases.map(e => find<M.CaseDoc>(context, e)))
  const out: Held[] = []
  let missing = 0
  handles.forEach((handle: DocHandle<M.CaseDoc> | null, i) => {
    const doc = handle?.doc()
    if (!doc) {
      missing++
      return
    }
    try {
      out.push({ documentId: cases[i].document_id, doc, view: M.readCase(doc), readOnly: cases[i].access !== "read-write" })
    } catch {
      missing++
    }
  })
  return { cases: out, missing }
}

function overdueGoals(view: M.CaseView, day: string): Array<[string, string]> {
  return Object.values(view.goals)
    .filter(g => goalOverdue(g, day))
    .map(g => [g.plan.specific.split("\n")[0] || "cel IPP", g.plan.deadline])
}

/** When monitoring of a case in delivery became due (YYYY-MM-DD), or null. */
function monitoringDue(view: M.CaseView): string | null {
  if (view.stage.value !== "delivery") return null
  const last = view.monitoring.at(-1)?.at ?? view.createdAt
  const due = new Date(last.getTime() + MONITORING_EVERY_DAYS * DAY_MS)
  const dueDay = isoDay(due)
  return dueDay <= today() ? dueDay : null
}

export async function loadCaseload(context: AppContext): Promise<{ cases: CaseSummary[]; missing: number }> {
  const { cases, missing } = await held(context)
  const day = today()
  const me = context.me.login
  const summaries = cases.map(({ documentId, doc, view, readOnly }) => {
    const authors = new Set(M.changesSince(doc).map(c => c.by).filter((b): b is string => Boolean(b)))
    authors.add(view.owner)
    authors.delete(me)
    const overdue = overdueGoals(view, day).map(([goal, deadline]) => `cel „${goal}” (termin ${deadline})`)
    if (monitoringDue(view)) overdue.push("monitorowanie")
    const title = titleOf(view)
    return {
      documentId,
      title,
      stage: status("stage", view.stage, doc, doc, "stage"),
      others: [...authors].sort(),
      overdue,
      nextVisit: view.nextVisit,
      conflicts: M.conflicts(view).length,
      searchText: [title, view.referral.reason, view.referral.institution, ...Object.values(view.household).map(p => p.name)]
        .join(" ")
        .toLowerCase(),
      readOnly,
    }
  })
  summaries.sort((a, b) => b.overdue.length - a.overdue.length || a.title.localeCompare(b.title, "pl"))
  return { cases: summaries, missing }
}

export async function loadToday(context: AppContext): Promise<TodayItem[]> {
  const { cases } = await held(context)
  const day = today()
  const items: TodayItem[] = []
  for (const { documentId, view } of cases) {
    const title = titleOf(view)
    if (view.nextVisit && view.nextVisit <= day) {
      const what = view.nextVisit === day ? "wizyta zaplanowana na dziś" : "zaplanowana wizyta się nie odbyła?"
      items.push({ documentId, title, kind: "visit", what, due: view.nextVisit })
    }
    for (const [goal, deadline] of overdueGoals(view, day)) {
      items.push({ documentId, title, kind: "goal", what: `cel „${goal}” po terminie`, due: deadline })
    }
    const due = monitoringDue(view)
    if (due) items.push({ documentId, title, kind: "monitoring", what: "czas na notatkę z monitorowania", due })
  }
  return items.sort((a, b) => a.due.localeCompare(b.due))
}
