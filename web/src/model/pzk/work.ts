// The team's work (sync-core/src/model/pzk/work_plan.rs, services.rs and decisions.rs): the
// work plan's milestones by month (any length up to ten years: the seeds' COVID-extended
// schedule runs 29 months), the list of activities and services (added, edited, retired, never
// deleted, because cases refer to their ids), the 9.2 decision and the recommendations (K10.2,
// append-only, with categories).

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import { fieldError } from "../errors.ts"
import * as R from "../reader.ts"
import {
  MILESTONE_STATUSES,
  RECOMMENDATION_CATEGORIES,
  SECTORS,
  TEAM_DECISIONS,
  absent,
  at as objAt,
  checkEnum,
  checkMonth,
  isStep,
  pzkEdit,
  pzkMap,
  putStr,
  scalar,
  type InstitutionSector,
  type MilestoneStatus,
  type Obj,
  type PzkDoc,
  type RecommendationCategory,
  type TeamDecision,
} from "./common.ts"

/** A milestone of the work plan (*harmonogram*, 6.2). */
export interface Milestone {
  /** The model's step, e.g. `K6.2`. */
  step: string
  /** The month of the schedule, from 1. */
  month: number
  title: string
}

export interface MilestoneView extends Milestone {
  status: R.Conflict<MilestoneStatus>
}

/** An entry of the list of activities and services (6.3). */
export interface ServiceEntry {
  description: string
  /** The id of the providing member institution. */
  provider: string
  sector: InstitutionSector
  capacity: number | null
  remoteCapable: boolean
}

export interface ServiceEntryView extends ServiceEntry {
  retired: boolean
}

export interface TeamDecisionView {
  decision: R.Conflict<TeamDecision>
  rationale: string
  meeting: string | null
  by: string
  at: Date
}

/** A new recommendation. */
export interface Recommendation {
  text: string
  category: RecommendationCategory
  /** Whether it belongs to the team's 9.2 decision. */
  decision92: boolean
}

export interface RecommendationView {
  text: string
  by: string
  at: Date
  /** `null` for a recommendation written before categories. */
  category: RecommendationCategory | null
  decision92: boolean
}

function checkMilestone(id: string, milestone: Milestone): void {
  if (!isStep(milestone.step)) throw fieldError(`workPlan/${id}/step`, `"${milestone.step}" is not a step K1 to K10`)
  checkMonth(`workPlan/${id}/month`, milestone.month)
}

export function readMilestone(node: Obj, path: string): MilestoneView {
  const step = R.str(node, "step", path)
  if (!isStep(step)) throw fieldError(`${path}/step`, `"${step}" is not a step K1 to K10`)
  const months = R.field(node, "month", path, R.parseUint)
  for (const month of R.allValues(months)) checkMonth(`${path}/month`, month)
  return {
    step,
    month: months.value,
    title: R.str(node, "title", path),
    status: R.field(node, "status", path, R.parseEnum(MILESTONE_STATUSES)),
  }
}

/** Adds a milestone (status `planned`) or updates the fields that changed; the status is left alone. */
export function upsertMilestone(doc: PzkDoc, id: string, milestone: Milestone, by: Editor, at: Date): Edit<PzkDoc> {
  const plan = pzkMap(doc, "workPlan")
  checkId("workPlan", id)
  checkMilestone(id, milestone)
  const current = plan[id] === undefined ? undefined : readMilestone(R.map(plan, id, "workPlan"), `workPlan/${id}`)
  return pzkEdit(`workPlan/${id}: saved`, by, at, d => {
    const all = objAt(d, "workPlan")
    if (current === undefined) all[id] = { status: scalar("planned") }
    const map = all[id] as Obj
    putStr(map, "step", current?.step, milestone.step)
    if (current?.month !== milestone.month) map.month = milestone.month
    putStr(map, "title", current?.title, milestone.title)
  })
}

/** Sets a milestone's status; setting it settles a conflict on it. */
export function setMilestoneStatus(doc: PzkDoc, id: string, status: MilestoneStatus, by: Editor, at: Date): Edit<PzkDoc> {
  R.map(pzkMap(doc, "workPlan"), id, "workPlan")
  checkEnum(`workPlan/${id}/status`, MILESTONE_STATUSES, status)
  return pzkEdit(`workPlan/${id}/status: ${status}`, by, at, d => {
    const map = objAt(d, "workPlan", id)
    delete map.status
    map.status = scalar(status)
  })
}

export function readService(node: Obj, path: string): ServiceEntryView {
  return {
    description: R.text(node, "description", path),
    provider: R.str(node, "provider", path),
    sector: R.field(node, "sector", path, R.parseEnum(SECTORS)).value,
    capacity: R.optField(node, "capacity", path, R.parseUint)?.value ?? null,
    remoteCapable: R.field(node, "remoteCapable", path, R.parseBool).value,
    retired: R.field(node, "retired", path, R.parseBool).value,
  }
}

/** Adds an entry to the list of activities and services, or updates the fields that changed. */
export function upsertService(doc: PzkDoc, id: string, entry: ServiceEntry, by: Editor, at: Date): Edit<PzkDoc> {
  const services = pzkMap(doc, "services")
  checkId("services", id)
  checkId(`services/${id}/provider`, entry.provider)
  checkEnum(`services/${id}/sector`, SECTORS, entry.sector)
  const current = services[id] === undefined ? undefined : readService(R.map(services, id, "services"), `services/${id}`)
  return pzkEdit(`services/${id}: saved`, by, at, d => {
    const all = objAt(d, "services")
    if (current === undefined) {
      const map: Obj = {
        description: entry.description,
        provider: scalar(entry.provider),
        sector: scalar(entry.sector),
        remoteCapable: entry.remoteCapable,
        retired: false,
      }
      if (entry.capacity !== null) map.capacity = entry.capacity
      all[id] = map
      return
    }
    const map = all[id] as Obj
    if (current.description !== entry.description) {
      A.updateText(d as A.Doc<unknown>, ["services", id, "description"], entry.description)
    }
    putStr(map, "provider", current.provider, entry.provider)
    putStr(map, "sector", current.sector, entry.sector)
    if (current.capacity !== entry.capacity) {
      if (entry.capacity !== null) map.capacity = entry.capacity
      else delete map.capacity
    }
    if (current.remoteCapable !== entry.remoteCapable) map.remoteCapable = entry.remoteCapable
  })
}

/** Marks a services-list entry as no longer offered (entries are never deleted). */
export function retireService(doc: PzkDoc, id: string, by: Editor, at: Date): Edit<PzkDoc> {
  R.map(pzkMap(doc, "services"), id, "services")
  return pzkEdit(`services/${id}: retired`, by, at, d => {
    objAt(d, "services", id).retired = true
  })
}

/** Records the team's 9.2 decision with its rationale; recording it settles a conflict on it. */
export function setDecision92(
  doc: PzkDoc,
  decision: TeamDecision,
  rationale: string,
  meeting: string | null,
  by: Editor,
  at: Date,
): Edit<PzkDoc> {
  const node = pzkMap(doc, "decision92")
  if (meeting !== null) R.map(R.map(doc, "meetings", ""), meeting, "meetings")
  R.text(node, "rationale", "decision92")
  checkEnum("decision92/decision", TEAM_DECISIONS, decision)
  return pzkEdit(`decision92: ${decision}`, by, at, d => {
    const map = objAt(d, "decision92")
    delete map.decision
    map.decision = scalar(decision)
    if (R.text(map, "rationale", "decision92") !== rationale) {
      A.updateText(d as A.Doc<unknown>, ["decision92", "rationale"], rationale)
    }
    if (meeting !== null) map.meeting = scalar(meeting)
    else if (map.meeting !== undefined) delete map.meeting
    map.by = scalar(by.login)
    map.at = at
  })
}

export function readDecision92(doc: PzkDoc): TeamDecisionView | null {
  const node = pzkMap(doc, "decision92")
  const rationale = R.text(node, "rationale", "decision92")
  const decision = R.optField(node, "decision", "decision92", R.parseEnum(TEAM_DECISIONS))
  if (decision === undefined) return null
  return {
    decision,
    rationale,
    meeting: R.optStr(node, "meeting", "decision92"),
    by: R.str(node, "by", "decision92"),
    at: R.timestamp(node, "at", "decision92"),
  }
}

/** Adds a recommendation (K10.2); recommendations are append-only, so an existing id is refused. */
export function addRecommendation(doc: PzkDoc, id: string, recommendation: Recommendation, by: Editor, at: Date): Edit<PzkDoc> {
  absent(pzkMap(doc, "recommendations"), "recommendations", id)
  checkEnum(`recommendations/${id}/category`, RECOMMENDATION_CATEGORIES, recommendation.category)
  return pzkEdit(`recommendations/${id}: added`, by, at, d => {
    objAt(d, "recommendations")[id] = {
      text: recommendation.text,
      by: scalar(by.login),
      at,
      category: scalar(recommendation.category),
      decision92: recommendation.decision92,
    }
  })
}

export function readRecommendation(node: Obj, path: string): RecommendationView {
  return {
    text: R.text(node, "text", path),
    by: R.str(node, "by", path),
    at: R.timestamp(node, "at", path),
    category: R.optField(node, "category", path, R.parseEnum(RECOMMENDATION_CATEGORIES))?.value ?? null,
    decision92: node.decision92 === undefined ? false : R.field(node, "decision92", path, R.parseBool).value,
  }
}
