// The diagnosis by sector (K7.2 step 3) and the IPP with its SMART goals and the basket of
// services (step 4): sync-core/src/model/case/diagnosis.rs and plan.rs.

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import { open } from "../header.ts"
import * as R from "../reader.ts"
import {
  DIAGNOSIS_SECTORS,
  GOAL_STATUSES,
  SERVICE_STATUSES,
  type CaseDoc,
  type DiagnosisSector,
  type GoalStatus,
  type ServiceStatus,
} from "./layout.ts"
import { absent, caseEdit, caseMap, checkDate, checkEnum, existing, scalar, settle, type Obj } from "./edit.ts"
import { readGoal } from "./read.ts"
import type { GoalPlan } from "./types.ts"

function diagnosisText(doc: CaseDoc, sector: DiagnosisSector): string {
  checkEnum("diagnosis", DIAGNOSIS_SECTORS, sector)
  return R.text(caseMap(doc, "diagnosis"), sector, "diagnosis")
}

/** Replaces a diagnosis sector's text as a diff, so concurrent edits elsewhere in it are kept. */
export function setDiagnosisSection(
  doc: CaseDoc,
  sector: DiagnosisSector,
  text: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  diagnosisText(doc, sector)
  return caseEdit(`diagnosis/${sector}: updated`, by, at, d => {
    A.updateText(d, ["diagnosis", sector], text)
  })
}

/**
 * Splices a diagnosis sector's text: deletes `del` characters at `pos` and inserts `insert`.
 * Positions count in JavaScript string units (UTF-16), as Automerge's JS API does.
 */
export function spliceDiagnosis(
  doc: CaseDoc,
  sector: DiagnosisSector,
  pos: number,
  del: number,
  insert: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const len = diagnosisText(doc, sector).length
  if (!Number.isInteger(pos) || !Number.isInteger(del) || pos < 0 || del < 0 || pos + del > len) {
    throw fieldError(`diagnosis/${sector}`, `splice of ${del} at ${pos} is outside the text of length ${len}`)
  }
  return caseEdit(`diagnosis/${sector}: edited`, by, at, d => {
    A.splice(d, ["diagnosis", sector], pos, del, insert)
  })
}

const SMART = ["specific", "measurable", "achievable", "relevant"] as const

/** Adds an IPP goal (status `planned`) or updates an existing one's plan field by field. */
export function upsertGoal(doc: CaseDoc, goalId: string, plan: GoalPlan, by: Editor, at: Date): Edit<CaseDoc> {
  const goals = caseMap(doc, "goals")
  checkId("goals", goalId)
  for (const service of plan.services) checkId(`goals/${goalId}/services`, service)
  checkId(`goals/${goalId}/responsible`, plan.responsible)
  checkDate(`goals/${goalId}/deadline`, plan.deadline)
  const current = existing(goals, "goals", goalId, readGoal)?.plan
  return caseEdit(`goals/${goalId}: plan saved`, by, at, d => {
    if (current === undefined) {
      const services: Record<string, boolean> = {}
      for (const service of plan.services) services[service] = true
      d.goals[goalId] = {
        specific: plan.specific,
        measurable: plan.measurable,
        achievable: plan.achievable,
        relevant: plan.relevant,
        deadline: scalar(plan.deadline),
        responsible: scalar(plan.responsible),
        status: scalar("planned"),
        services,
        createdAt: at,
      }
      return
    }
    for (const part of SMART) {
      if (current[part] !== plan[part]) A.updateText(d, ["goals", goalId, part], plan[part])
    }
    const goal = d.goals[goalId] as unknown as Obj
    if (current.deadline !== plan.deadline) goal.deadline = scalar(plan.deadline)
    if (current.responsible !== plan.responsible) goal.responsible = scalar(plan.responsible)
    const links = d.goals[goalId].services
    for (const added of plan.services) if (!current.services.includes(added)) links[added] = true
    for (const removed of current.services) if (!plan.services.includes(removed)) delete links[removed]
  })
}

/** Sets a goal's status; setting it settles a conflict on it. */
export function setGoalStatus(doc: CaseDoc, goalId: string, status: GoalStatus, by: Editor, at: Date): Edit<CaseDoc> {
  R.map(caseMap(doc, "goals"), goalId, "goals")
  checkEnum(`goals/${goalId}/status`, GOAL_STATUSES, status)
  return caseEdit(`goals/${goalId}/status: ${status}`, by, at, d => {
    settle(d.goals[goalId] as unknown as Obj, "status", status)
  })
}

/** Puts a service into the basket (status `planned`) with its id on the PZK's list and its provider. */
export function addService(doc: CaseDoc, serviceId: string, provider: string, by: Editor, at: Date): Edit<CaseDoc> {
  const services = caseMap(doc, "services")
  absent(services, "services", serviceId)
  checkId(`services/${serviceId}/provider`, provider)
  return caseEdit(`services/${serviceId}: added`, by, at, d => {
    d.services[serviceId] = { provider: scalar(provider), status: scalar("planned"), addedAt: at }
  })
}

/**
 * Puts a service of the PZK's list (6.3) into the basket with the provider the list names; a
 * service the list does not hold, or has retired, is refused.
 */
export function addListedService(
  doc: CaseDoc,
  pzkDoc: unknown,
  serviceId: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const pzk = pzkDoc as Obj
  open(pzk, "pzk")
  const list = R.map(pzk, "services", "")
  if (list[serviceId] === undefined) throw new ModelError("service.not-listed", { service: serviceId })
  const entry = R.map(list, serviceId, "services")
  const path = `services/${serviceId}`
  if (R.field(entry, "retired", path, R.parseBool).value) {
    throw new ModelError("service.retired", { service: serviceId })
  }
  return addService(doc, serviceId, R.str(entry, "provider", path), by, at)
}

/** Sets a basket service's status; setting it settles a conflict on it. */
export function setServiceStatus(
  doc: CaseDoc,
  serviceId: string,
  status: ServiceStatus,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  R.map(caseMap(doc, "services"), serviceId, "services")
  checkEnum(`services/${serviceId}/status`, SERVICE_STATUSES, status)
  return caseEdit(`services/${serviceId}/status: ${status}`, by, at, d => {
    settle(d.services[serviceId] as unknown as Obj, "status", status)
  })
}
