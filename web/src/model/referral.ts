// The referral document (sync-core/src/model/referral): a partner institution's member refers
// a person or family to a GOPS/MOPS/PCPR of their PZK; that institution's social workers
// accept it (a case opens, linked to it) or decline it with a reason. The same layout, rules
// and codes as the Rust model; the server decides who may write it and refuses a referral
// outside the referrer's PZK (`refusal.referral-no-pzk-relation`).

import * as A from "@automerge/automerge/slim"
import type { DocHandle, Repo } from "@automerge/automerge-repo/slim"

import { applyEdit, checkId, edit, type Edit, type Editor } from "./editor.ts"
import { ModelError, fieldError } from "./errors.ts"
import { SCHEMA_VERSION, open } from "./header.ts"
import * as R from "./reader.ts"

export const URGENCIES = ["routine", "soon", "urgent"] as const
export const LEGAL_BASES = ["consent", "legal_duty", "vital_interest"] as const
export const SUBJECT_KINDS = ["person", "family"] as const
export const REFERRAL_STATUSES = ["submitted", "accepted", "declined"] as const

export type Urgency = (typeof URGENCIES)[number]
export type LegalBasis = (typeof LEGAL_BASES)[number]
export type SubjectKind = (typeof SUBJECT_KINDS)[number]
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number]

/** The referral document as Automerge's JS proxy shows it (strings are ImmutableString). */
export interface ReferralDoc {
  type: A.ImmutableString
  schemaVersion: number
  createdAt: Date
  to: A.ImmutableString
  by: A.ImmutableString
  institution: A.ImmutableString
  subject: { kind: A.ImmutableString; name: A.ImmutableString }
  reason: string
  urgency: A.ImmutableString
  contact: A.ImmutableString
  basis: A.ImmutableString
  basisNote: A.ImmutableString
  status: A.ImmutableString
  decision?: { by: A.ImmutableString; at: Date; reason?: A.ImmutableString; case?: A.ImmutableString }
}

/** What a referrer fills in (the referrer is the editor). */
export interface ReferralForm {
  to: string
  subjectKind: SubjectKind
  subjectName: string
  reason: string
  urgency: Urgency
  contact: string
  basis: LegalBasis
  basisNote: string
}

export interface ReferralDecision {
  by: string
  at: Date
  reason: string | null
  case: string | null
}

export interface ReferralView extends ReferralForm {
  by: string
  institution: string
  createdAt: Date
  status: R.Conflict<ReferralStatus>
  decision: ReferralDecision | null
}

type Obj = Record<string, unknown>
const s = (value: string) => new A.ImmutableString(value)

/** The first change of a new referral from `by` (who must be the referrer). */
export function newReferral(form: ReferralForm, by: Editor, at: Date): Edit<ReferralDoc> {
  const required: Array<[string, string]> = [
    ["to", form.to],
    ["subject", form.subjectName],
    ["reason", form.reason],
    ["contact", form.contact],
  ]
  const missing = required.find(([, value]) => value.trim() === "")
  if (missing) throw new ModelError("referral.incomplete", { field: missing[0] })
  checkId("to", form.to)
  if (!SUBJECT_KINDS.includes(form.subjectKind)) throw fieldError("subject/kind", "unknown")
  if (!URGENCIES.includes(form.urgency)) throw fieldError("urgency", "unknown")
  if (!LEGAL_BASES.includes(form.basis)) throw fieldError("basis", "unknown")
  return edit(`referral to ${form.to}`, by, at, d => {
    const doc = d as unknown as Obj
    doc.type = s("referral")
    doc.schemaVersion = SCHEMA_VERSION
    doc.createdAt = at
    doc.to = s(form.to)
    doc.by = s(by.login)
    doc.institution = s(by.institution)
    doc.subject = { kind: s(form.subjectKind), name: s(form.subjectName) }
    doc.reason = form.reason
    doc.urgency = s(form.urgency)
    doc.contact = s(form.contact)
    doc.basis = s(form.basis)
    doc.basisNote = s(form.basisNote)
    doc.status = s("submitted")
  })
}

/** Creates a referral in `repo`, written on this device (sent when there is a connection). */
export function createReferral(repo: Repo, form: ReferralForm, by: Editor, at: Date): DocHandle<ReferralDoc> {
  const doc = applyEdit(A.init<ReferralDoc>(), newReferral(form, by, at))
  return repo.import<ReferralDoc>(A.save(doc))
}

/** Reads a referral; a decided one must carry its decision, as in the Rust model. */
export function readReferral(doc: ReferralDoc): ReferralView {
  const root = doc as unknown as Obj
  open(root, "referral")
  const str = (obj: Obj, key: string, path = "") => R.field(obj, key, path, R.parseStr).value
  const optStr = (obj: Obj, key: string, path: string) => R.optField(obj, key, path, R.parseStr)?.value ?? null
  const subject = R.map(root, "subject", "")
  const status = R.field(root, "status", "", R.parseEnum(REFERRAL_STATUSES))
  let decision: ReferralDecision | null = null
  if (root.decision !== undefined) {
    const d = R.map(root, "decision", "")
    decision = {
      by: str(d, "by", "decision"),
      at: R.field(d, "at", "decision", R.parseTimestamp).value,
      reason: optStr(d, "reason", "decision"),
      case: optStr(d, "case", "decision"),
    }
  }
  const missing =
    status.value === "submitted"
      ? null
      : decision === null
        ? "a decided referral has no decision"
        : status.value === "declined" && (decision.reason ?? "").trim() === ""
          ? "a declined referral has no reason"
          : status.value === "accepted" && decision.case === null
            ? "an accepted referral names no case"
            : null
  if (missing !== null) throw fieldError("decision", missing)
  const enumOf = <T extends string>(obj: Obj, key: string, values: readonly T[], path = "") =>
    R.field(obj, key, path, R.parseEnum(values)).value
  return {
    to: str(root, "to"),
    by: str(root, "by"),
    institution: str(root, "institution"),
    createdAt: R.field(root, "createdAt", "", R.parseTimestamp).value,
    subjectKind: enumOf(subject, "kind", SUBJECT_KINDS, "subject"),
    subjectName: str(subject, "name", "subject"),
    reason: R.text(root, "reason", ""),
    urgency: enumOf(root, "urgency", URGENCIES),
    contact: str(root, "contact"),
    basis: enumOf(root, "basis", LEGAL_BASES),
    basisNote: optStr(root, "basisNote", "") ?? "",
    status,
    decision,
  }
}

/** Throws `referral.already-decided` unless the referral waits for a decision (or two clash). */
export function checkUndecided(doc: ReferralDoc): void {
  const view = readReferral(doc)
  if (view.status.value !== "submitted" && !R.isConflicted(view.status)) {
    throw new ModelError("referral.already-decided", { status: view.status.value })
  }
}

function decide(
  doc: ReferralDoc,
  status: "accepted" | "declined",
  extra: { reason?: string; case?: string },
  by: Editor,
  at: Date,
): Edit<ReferralDoc> {
  checkUndecided(doc)
  return edit(`referral: ${status}`, by, at, d => {
    const decision: Obj = { by: s(by.login), at }
    if (extra.reason !== undefined) decision.reason = s(extra.reason)
    if (extra.case !== undefined) decision.case = s(extra.case)
    ;(d as unknown as Obj).decision = decision
    delete (d as unknown as Obj).status
    ;(d as unknown as Obj).status = s(status)
  })
}

/** Accepts a referral: `caseId` is the case opened for it (linked to this referral). */
export function acceptReferral(doc: ReferralDoc, caseId: string, by: Editor, at: Date): Edit<ReferralDoc> {
  checkId("case", caseId)
  return decide(doc, "accepted", { case: caseId }, by, at)
}

/** Declines a referral with the reason the referrer reads. */
export function declineReferral(doc: ReferralDoc, reason: string, by: Editor, at: Date): Edit<ReferralDoc> {
  if (reason.trim() === "") throw new ModelError("referral.decline-reason-required")
  return decide(doc, "declined", { reason }, by, at)
}
