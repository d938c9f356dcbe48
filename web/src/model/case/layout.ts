// The case document exactly as sync-core writes it (sync-core/src/model/case/mod.rs, the
// layout table): free text is Automerge Text (a JS string), ids, logins and enum values are
// scalar strings (ImmutableString), times are timestamps (Date), calendar dates "YYYY-MM-DD"
// scalar strings; the schema version is an unsigned integer (a number or a BigInt).

import type { ImmutableString } from "@automerge/automerge/slim"

/** A scalar string as it reads back (ImmutableString) or as a plain value. */
export type Scalar = ImmutableString | string
/** An unsigned integer written by the Rust model. */
export type Uint = number | bigint

export const STAGES = [
  "referral",
  "screening",
  "diagnosis",
  "ipp",
  "contract",
  "delivery",
  "evaluation",
  "closed",
  "handed_over",
] as const
export type Stage = (typeof STAGES)[number]

export const DIAGNOSIS_SECTORS = [
  "social",
  "health",
  "education",
  "housing",
  "income_work",
  "family",
  "justice_safety",
  "other",
] as const
export type DiagnosisSector = (typeof DIAGNOSIS_SECTORS)[number]

export const GOAL_STATUSES = ["planned", "in_progress", "achieved", "not_achieved", "dropped"] as const
export type GoalStatus = (typeof GOAL_STATUSES)[number]

export const SERVICE_STATUSES = ["planned", "active", "finished", "refused"] as const
export type ServiceStatus = (typeof SERVICE_STATUSES)[number]

export const SIGNING_MODES = ["in_person", "phone", "video"] as const
export type SigningMode = (typeof SIGNING_MODES)[number]

export const CONTACT_MODES = ["home_visit", "phone", "video", "office", "other"] as const
export type ContactMode = (typeof CONTACT_MODES)[number]

export const CONSENT_STATES = ["given", "withdrawn"] as const
export type ConsentState = (typeof CONSENT_STATES)[number]

export const SCREENING_OUTCOMES = ["qualified", "not_qualified"] as const
export type ScreeningOutcome = (typeof SCREENING_OUTCOMES)[number]

export const PZK_DECISIONS = ["continue", "end"] as const
export type PzkDecision = (typeof PZK_DECISIONS)[number]

export interface MemberDoc {
  name: Scalar
  relation: Scalar
  birthDate?: Scalar
}

export interface GoalDoc {
  specific: string
  measurable: string
  achievable: string
  relevant: string
  deadline: Scalar
  responsible: Scalar
  status: Scalar
  services: Record<string, boolean>
  createdAt: Date
}

export interface SignatureDoc {
  heads: Scalar[]
  signer: Scalar
  at: Date
  mode: Scalar
  consentNote: Scalar
  recordedBy: Scalar
}

export interface AnswerDoc {
  by: Scalar
  institution: Scalar
  at: Date
  text: string
}

export interface ConsultationDoc {
  question: string
  askedBy: Scalar
  institution: Scalar
  at: Date
  answers: Record<string, AnswerDoc>
  /** Asked of an institution through the PZK (../consultation.ts). */
  addressedTo?: { pzk: Scalar; consultation: Scalar; to: Scalar }
}

/** A case (*sprawa*) as stored. */
export interface CaseDoc {
  type: Scalar
  schemaVersion: Uint
  createdAt: Date
  stage: Scalar
  owner: Scalar
  leadInstitution: Scalar
  household: Record<string, MemberDoc>
  referral: { by: Scalar; institution: Scalar; reason: string; at: Date; document?: Scalar }
  screening: { notes: string; outcome?: Scalar; by?: Scalar; at?: Date }
  diagnosis: Record<string, string>
  goals: Record<string, GoalDoc>
  services: Record<string, { provider: Scalar; status: Scalar; addedAt: Date }>
  contract: { text: string; signatures: SignatureDoc[] }
  monitoring: Record<
    string,
    { author: Scalar; institution: Scalar; at: Date; mode: Scalar; text: string }
  >
  consultations: Record<string, ConsultationDoc>
  consents: Record<
    string,
    { institution: Scalar; purpose: Scalar; state: Scalar; by: Scalar; recordedBy: Scalar; at: Date }
  >
  evaluation: { text: string; by?: Scalar; at?: Date }
  pzkDecision: { decision?: Scalar; meeting?: Scalar; by?: Scalar; at?: Date }
  handover: { note: string; target?: Scalar; targetWorker?: Scalar; by?: Scalar; at?: Date }
  /** The next planned visit, "YYYY-MM-DD" (absent in cases that never had one). */
  nextVisit?: Scalar
  /** The household's address and contact phone (model/case/contact.rs; absent in older cases). */
  householdAddress?: Scalar
  householdPhone?: Scalar
  /**
   * Files attached to the case (sync-core `model::case::attachments`): entry id -> the blob's
   * hash, type, size, kind and who attached it; append-only. Absent in cases created before
   * attachments existed.
   */
  attachments?: Record<string, Record<string, unknown>>
  /**
   * Rectifications (GDPR art. 16, `model::case::rectify`): entry id -> the corrected field's
   * path, the old and new value, the reason, who and when; append-only. Absent in older cases.
   */
  rectifications?: Record<string, Record<string, unknown>>
}
