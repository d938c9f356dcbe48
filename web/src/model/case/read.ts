// Reading a case (sync-core/src/model/case/read.rs): the whole document as a `CaseView`, every
// field's shape checked on the way; statuses with every concurrent value.

import * as A from "@automerge/automerge/slim"

import { checkId } from "../editor.ts"
import { fieldError } from "../errors.ts"
import { open, schemaVersion } from "../header.ts"
import * as R from "../reader.ts"
import type { Conflict } from "../reader.ts"
import {
  CONSENT_STATES,
  CONTACT_MODES,
  DIAGNOSIS_SECTORS,
  GOAL_STATUSES,
  PZK_DECISIONS,
  SCREENING_OUTCOMES,
  SERVICE_STATUSES,
  SIGNING_MODES,
  STAGES,
  type CaseDoc,
  type DiagnosisSector,
  type Stage,
} from "./layout.ts"
import type * as T from "./types.ts"

type Obj = Record<string, unknown>

const asObj = (doc: CaseDoc): Obj => doc as unknown as Obj

/** Checks that `doc` is a case of a supported schema version. */
export function openCase(doc: CaseDoc): Obj {
  open(asObj(doc), "case")
  return asObj(doc)
}

/** The stage shown when replicas set it concurrently: the one furthest along the workflow. */
export function resolveStage(found: Conflict<Stage>): Conflict<Stage> {
  const values = [...new Set(R.allValues(found))].sort((a, b) => STAGES.indexOf(b) - STAGES.indexOf(a))
  return { value: values[0], alternatives: values.slice(1) }
}

/** The case's stage with the values written concurrently with it (furthest first). */
export function stage(doc: CaseDoc): Conflict<Stage> {
  return resolveStage(R.field(openCase(doc), "stage", "", R.parseEnum(STAGES)))
}

/** Reads a whole case, checking the shape of every field on the way. */
export function readCase(doc: CaseDoc): T.CaseView {
  const root = openCase(doc)
  return {
    schemaVersion: schemaVersion(root),
    createdAt: R.timestamp(root, "createdAt", ""),
    stage: resolveStage(R.field(root, "stage", "", R.parseEnum(STAGES))),
    owner: R.str(root, "owner", ""),
    leadInstitution: R.str(root, "leadInstitution", ""),
    household: R.readMap(root, "household", "", readMember),
    referral: readReferral(R.map(root, "referral", ""), "referral"),
    screening: readScreening(R.map(root, "screening", ""), "screening"),
    diagnosis: readDiagnosis(R.map(root, "diagnosis", ""), "diagnosis"),
    goals: R.readMap(root, "goals", "", readGoal),
    services: R.readMap(root, "services", "", readService),
    contract: readContract(R.map(root, "contract", ""), "contract", doc),
    monitoring: readMonitoring(root),
    consultations: R.readMap(root, "consultations", "", readConsultation),
    consents: R.readMap(root, "consents", "", readConsent),
    evaluation: readEvaluation(R.map(root, "evaluation", ""), "evaluation"),
    pzkDecision: readPzkDecision(R.map(root, "pzkDecision", ""), "pzkDecision"),
    handover: readHandover(R.map(root, "handover", ""), "handover"),
    nextVisit: R.optDate(root, "nextVisit", ""),
    address: R.optStr(root, "householdAddress", ""),
    phone: R.optStr(root, "householdPhone", ""),
  }
}

export function readMember(node: Obj, path: string): T.HouseholdMember {
  return {
    name: R.str(node, "name", path),
    relation: R.str(node, "relation", path),
    birthDate: R.optDate(node, "birthDate", path),
  }
}

function readReferral(node: Obj, path: string): T.Referral {
  return {
    by: R.str(node, "by", path),
    institution: R.str(node, "institution", path),
    reason: R.text(node, "reason", path),
    at: R.timestamp(node, "at", path),
  }
}

function readScreening(node: Obj, path: string): T.Screening {
  return {
    outcome: R.optField(node, "outcome", path, R.parseEnum(SCREENING_OUTCOMES)) ?? null,
    notes: R.text(node, "notes", path),
    by: R.optStr(node, "by", path),
    at: R.optTimestamp(node, "at", path),
  }
}

function readDiagnosis(node: Obj, path: string): Record<DiagnosisSector, string> {
  const out = {} as Record<DiagnosisSector, string>
  for (const sector of DIAGNOSIS_SECTORS) out[sector] = R.text(node, sector, path)
  return out
}

export function readGoal(node: Obj, path: string): T.GoalView {
  const links = R.map(node, "services", path)
  const linksPath = R.pathOf(path, "services")
  const services = Object.keys(links)
    .filter(id => R.field(links, id, linksPath, R.parseBool).value)
    .sort(R.compareIds)
  return {
    plan: {
      specific: R.text(node, "specific", path),
      measurable: R.text(node, "measurable", path),
      achievable: R.text(node, "achievable", path),
      relevant: R.text(node, "relevant", path),
      deadline: R.date(node, "deadline", path),
      responsible: R.str(node, "responsible", path),
      services,
    },
    status: R.field(node, "status", path, R.parseEnum(GOAL_STATUSES)),
    createdAt: R.timestamp(node, "createdAt", path),
  }
}

function readService(node: Obj, path: string): T.ServiceView {
  return {
    provider: R.str(node, "provider", path),
    status: R.field(node, "status", path, R.parseEnum(SERVICE_STATUSES)),
    addedAt: R.timestamp(node, "addedAt", path),
  }
}

const HASH = /^[0-9a-f]{64}$/

/** The contract; signed heads are checked to be changes `doc` holds. */
export function readContract(node: Obj, path: string, doc: CaseDoc): T.ContractView {
  const signatures = R.list(node, "signatures", path).map((item, index) => {
    const itemPath = R.pathOf(R.pathOf(path, "signatures"), String(index))
    if (typeof item !== "object" || item === null) throw fieldError(itemPath, "expected a map")
    return readSignature(item as Obj, itemPath, doc)
  })
  return { text: R.text(node, "text", path), signatures }
}

function readSignature(node: Obj, path: string, doc: CaseDoc): T.SignatureView {
  const heads = R.list(node, "heads", path).map((head, index) => {
    const hex = R.parseStr(head)
    if (hex === undefined || !HASH.test(hex)) {
      throw fieldError(`${path}/heads/${index}`, "expected a change hash of 64 hex digits")
    }
    if (!A.hasHeads(doc, [hex])) {
      throw fieldError(`${path}/heads/${index}`, "names a change the document does not hold")
    }
    return hex
  })
  return {
    signature: {
      signer: R.str(node, "signer", path),
      mode: R.field(node, "mode", path, R.parseEnum(SIGNING_MODES)).value,
      consentNote: R.str(node, "consentNote", path),
    },
    heads,
    at: R.timestamp(node, "at", path),
    recordedBy: R.str(node, "recordedBy", path),
  }
}

function readMonitoring(root: Obj): T.MonitoringNoteView[] {
  const notes = Object.entries(R.readMap(root, "monitoring", "", readNote)).map(([id, v]) => ({
    id,
    note: v.note,
    at: v.at,
  }))
  return notes.sort((a, b) => a.at.getTime() - b.at.getTime() || R.compareIds(a.id, b.id))
}

function readNote(node: Obj, path: string): { note: T.MonitoringNote; at: Date } {
  return {
    note: {
      author: R.str(node, "author", path),
      institution: R.str(node, "institution", path),
      mode: R.field(node, "mode", path, R.parseEnum(CONTACT_MODES)).value,
      text: R.text(node, "text", path),
    },
    at: R.timestamp(node, "at", path),
  }
}

function readConsultation(node: Obj, path: string): T.ConsultationView {
  return {
    request: {
      askedBy: R.str(node, "askedBy", path),
      institution: R.str(node, "institution", path),
      question: R.text(node, "question", path),
    },
    at: R.timestamp(node, "at", path),
    answers: R.readMap(node, "answers", path, (answer, answerPath) => ({
      answer: {
        by: R.str(answer, "by", answerPath),
        institution: R.str(answer, "institution", answerPath),
        text: R.text(answer, "text", answerPath),
      },
      at: R.timestamp(answer, "at", answerPath),
    })),
    addressed: readLink(node, path),
  }
}

function readConsent(node: Obj, path: string): T.ConsentView {
  return {
    event: {
      institution: R.str(node, "institution", path),
      purpose: R.str(node, "purpose", path),
      state: R.field(node, "state", path, R.parseEnum(CONSENT_STATES)).value,
      by: R.str(node, "by", path),
    },
    at: R.timestamp(node, "at", path),
    recordedBy: R.str(node, "recordedBy", path),
  }
}

function readEvaluation(node: Obj, path: string): T.Evaluation {
  return {
    text: R.text(node, "text", path),
    by: R.optStr(node, "by", path),
    at: R.optTimestamp(node, "at", path),
  }
}

function readPzkDecision(node: Obj, path: string): T.PzkDecisionView | null {
  const decision = R.optField(node, "decision", path, R.parseEnum(PZK_DECISIONS))
  if (decision === undefined) return null
  return {
    decision,
    meeting: R.optStr(node, "meeting", path),
    by: R.str(node, "by", path),
    at: R.timestamp(node, "at", path),
  }
}

function readHandover(node: Obj, path: string): T.Handover | null {
  const note = R.text(node, "note", path)
  const target = R.optStr(node, "target", path)
  if (target === null) return null
  return {
    target,
    targetWorker: R.optStr(node, "targetWorker", path),
    note,
    by: R.str(node, "by", path),
    at: R.timestamp(node, "at", path),
  }
}

/** The paths of status fields holding concurrent values, which a user must settle. */
export function conflicts(view: T.CaseView): string[] {
  const paths: string[] = []
  if (R.isConflicted(view.stage)) paths.push("stage")
  if (view.screening.outcome && R.isConflicted(view.screening.outcome)) paths.push("screening/outcome")
  for (const [id, goal] of Object.entries(view.goals)) {
    if (R.isConflicted(goal.status)) paths.push(`goals/${id}/status`)
  }
  for (const [id, service] of Object.entries(view.services)) {
    if (R.isConflicted(service.status)) paths.push(`services/${id}/status`)
  }
  if (view.pzkDecision && R.isConflicted(view.pzkDecision.decision)) paths.push("pzkDecision/decision")
  return paths
}

/** Whether consent to share with `institution` for `purpose` is in force (the latest event gave it). */
export function consentInForce(view: T.CaseView, institution: string, purpose: string): boolean {
  let latest: [string, T.ConsentView] | undefined
  for (const entry of Object.entries(view.consents)) {
    const [id, c] = entry
    if (c.event.institution !== institution || c.event.purpose !== purpose) continue
    if (
      latest === undefined ||
      c.at.getTime() > latest[1].at.getTime() ||
      (c.at.getTime() === latest[1].at.getTime() && id > latest[0])
    ) {
      latest = entry
    }
  }
  return latest?.[1].event.state === "given"
}

/** A case consultation's link to the PZK consultation that asks an institution (../consultation.ts), or null. */
function readLink(node: Obj, path: string): T.ConsultationView["addressed"] {
  if (node.addressedTo === undefined) return null
  const link = R.map(node, "addressedTo", path)
  const here = R.pathOf(path, "addressedTo")
  const to = R.str(link, "to", here)
  checkId(R.pathOf(here, "to"), to)
  return { pzk: R.str(link, "pzk", here), consultation: R.str(link, "consultation", here), to }
}
