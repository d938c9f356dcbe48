// Taking a case in (K7.2 steps 1 and 2, sync-core/src/model/case/intake.rs): the referral that
// creates it, its household, and the screening decision.

import * as A from "@automerge/automerge/slim"

import { applyEdit, checkId, type Edit, type Editor } from "../editor.ts"
import { ModelError } from "../errors.ts"
import { SCHEMA_VERSION } from "../header.ts"
import * as R from "../reader.ts"
import { DIAGNOSIS_SECTORS, SCREENING_OUTCOMES, type CaseDoc, type ScreeningOutcome } from "./layout.ts"
import { existing, caseEdit, caseMap, checkDate, checkEnum, putOptStr, scalar, settle, type Obj } from "./edit.ts"
import { openCase, readMember } from "./read.ts"
import type { CaseInit, HouseholdMember } from "./types.ts"

/**
 * The first change of a new case: its header at stage `referral`, the referral, the household
 * it names, and every container the case will ever hold. Apply it to an empty document.
 */
export function newCase(init: CaseInit, by: Editor, at: Date): Edit<CaseDoc> {
  checkId("leadInstitution", init.leadInstitution)
  checkId("referral", init.referral.institution)
  for (const [personId, member] of Object.entries(init.household)) {
    checkId("household", personId)
    if (member.birthDate !== null) checkDate(`household/${personId}/birthDate`, member.birthDate)
  }
  return caseEdit(`case created: referral from ${init.referral.institution}`, by, at, d => {
    const doc = d as unknown as Obj
    doc.type = scalar("case")
    doc.schemaVersion = SCHEMA_VERSION
    doc.createdAt = at
    doc.stage = scalar("referral")
    doc.owner = scalar(init.owner)
    doc.leadInstitution = scalar(init.leadInstitution)
    doc.household = {}
    for (const [personId, member] of Object.entries(init.household)) {
      d.household[personId] = memberDoc(member)
    }
    d.referral = {
      by: scalar(init.referral.by),
      institution: scalar(init.referral.institution),
      reason: init.referral.reason,
      at: init.referral.at,
    }
    d.screening = { notes: "" }
    d.diagnosis = {}
    for (const sector of DIAGNOSIS_SECTORS) d.diagnosis[sector] = ""
    d.contract = { text: "", signatures: [] }
    d.evaluation = { text: "" }
    d.handover = { note: "" }
    d.goals = {}
    d.services = {}
    d.monitoring = {}
    d.consultations = {}
    d.consents = {}
    d.pzkDecision = {}
    d.attachments = {}
    d.rectifications = {}
  })
}

function memberDoc(member: HouseholdMember): CaseDoc["household"][string] {
  const out: CaseDoc["household"][string] = { name: scalar(member.name), relation: scalar(member.relation) }
  if (member.birthDate !== null) out.birthDate = scalar(member.birthDate)
  return out
}

/** A new case document (its first change written by this device). */
export function createCaseDoc(init: CaseInit, by: Editor, at: Date): A.Doc<CaseDoc> {
  return applyEdit(A.init<CaseDoc>(), newCase(init, by, at))
}

/** Adds a household member, or updates the fields that changed when `personId` is present. */
export function addHouseholdMember(
  doc: CaseDoc,
  personId: string,
  member: HouseholdMember,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const household = caseMap(doc, "household")
  checkId("household", personId)
  const current = existing(household, "household", personId, readMember)
  if (member.birthDate !== null) checkDate(`household/${personId}/birthDate`, member.birthDate)
  return caseEdit(`household/${personId}: member saved`, by, at, d => {
    if (current === undefined) {
      d.household[personId] = memberDoc(member)
      return
    }
    const map = d.household[personId] as unknown as Obj
    if (current.name !== member.name) map.name = scalar(member.name)
    if (current.relation !== member.relation) map.relation = scalar(member.relation)
    if (current.birthDate !== member.birthDate) putOptStr(map, "birthDate", member.birthDate)
  })
}

/**
 * Records the screening (K7.2 step 2): its outcome and the reason in `notes`, required. Setting
 * it again settles a conflict on it.
 */
export function setScreening(
  doc: CaseDoc,
  outcome: ScreeningOutcome,
  notes: string,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  if (notes.trim() === "") throw new ModelError("screening.reason-required")
  checkEnum("screening/outcome", SCREENING_OUTCOMES, outcome)
  openCase(doc)
  return caseEdit(`screening: ${outcome}`, by, at, d => {
    settle(d.screening as unknown as Obj, "outcome", outcome)
    A.updateText(d, ["screening", "notes"], notes)
    d.screening.by = scalar(by.login)
    d.screening.at = at
  })
}

/**
 * Links the referral document a case was opened from (written once into `referral.document`),
 * as sync-core's `link_referral_document`.
 */
export function linkReferralDocument(doc: CaseDoc, referralDocument: string, by: Editor, at: Date): Edit<CaseDoc> {
  const referral = caseMap(doc, "referral")
  checkId("referral", referralDocument)
  if (referral.document !== undefined) throw new ModelError("entry.exists", { path: "referral/document" })
  return caseEdit(`referral: linked ${referralDocument}`, by, at, d => {
    ;(d.referral as unknown as Obj).document = scalar(referralDocument)
  })
}

/** The referral document a case was opened from, when it was opened from one. */
export function referralDocument(doc: CaseDoc): string | null {
  const referral = caseMap(doc, "referral")
  return R.optField(referral, "document", "referral", R.parseStr)?.value ?? null
}
