// The case as plain values, as the Rust model's `CaseView` holds it (sync-core/src/model/case/
// types.rs): what the readers return and the edits take. Calendar dates are "YYYY-MM-DD".

import type { Conflict } from "../reader.ts"
import type {
  ConsentState,
  ContactMode,
  DiagnosisSector,
  GoalStatus,
  PzkDecision,
  ScreeningOutcome,
  ServiceStatus,
  SigningMode,
  Stage,
} from "./layout.ts"

/** What a new case starts with. */
export interface CaseInit {
  /** The login of the owning social worker. */
  owner: string
  /** The id of the lead institution. */
  leadInstitution: string
  /** The referral that opens the case. */
  referral: Referral
  /** The household members named in the referral, by person id. */
  household: Record<string, HouseholdMember>
}

export interface Referral {
  by: string
  institution: string
  reason: string
  at: Date
}

export interface HouseholdMember {
  name: string
  relation: string
  birthDate: string | null
}

export interface Screening {
  outcome: Conflict<ScreeningOutcome> | null
  notes: string
  by: string | null
  at: Date | null
}

/** The SMART plan of an IPP goal. */
export interface GoalPlan {
  specific: string
  measurable: string
  achievable: string
  relevant: string
  deadline: string
  responsible: string
  /** The ids of the basket services serving the goal, sorted. */
  services: string[]
}

export interface GoalView {
  plan: GoalPlan
  status: Conflict<GoalStatus>
  createdAt: Date
}

export interface ServiceView {
  provider: string
  status: Conflict<ServiceStatus>
  addedAt: Date
}

/** A signing: who signed, how, and for remote acceptance the recorded consent. */
export interface Signature {
  signer: string
  mode: SigningMode
  consentNote: string
}

export interface SignatureView {
  signature: Signature
  /** The heads signed (hex change hashes): the version of the contract accepted. */
  heads: string[]
  at: Date
  recordedBy: string
}

export interface ContractView {
  text: string
  signatures: SignatureView[]
}

export interface MonitoringNote {
  author: string
  institution: string
  mode: ContactMode
  text: string
}

export interface MonitoringNoteView {
  id: string
  note: MonitoringNote
  at: Date
}

export interface Answer {
  by: string
  institution: string
  text: string
}

export interface ConsultationView {
  request: { askedBy: string; institution: string; question: string }
  at: Date
  answers: Record<string, { answer: Answer; at: Date }>
  /** The PZK consultation that carries it to an institution not sharing the case (../consultation.ts). */
  addressed: { pzk: string; consultation: string; to: string } | null
}

export interface ConsentEvent {
  institution: string
  purpose: string
  state: ConsentState
  /** Who gave or withdrew it (a household member id or a name). */
  by: string
}

export interface ConsentView {
  event: ConsentEvent
  at: Date
  recordedBy: string
}

export interface Evaluation {
  text: string
  by: string | null
  at: Date | null
}

export interface PzkDecisionView {
  decision: Conflict<PzkDecision>
  meeting: string | null
  by: string
  at: Date
}

export interface HandoverTarget {
  institution: string
  worker: string | null
}

export interface Handover {
  target: string
  targetWorker: string | null
  note: string
  by: string
  at: Date
}

/** A whole case as plain values. */
export interface CaseView {
  schemaVersion: number
  createdAt: Date
  stage: Conflict<Stage>
  owner: string
  leadInstitution: string
  household: Record<string, HouseholdMember>
  referral: Referral
  screening: Screening
  diagnosis: Record<DiagnosisSector, string>
  goals: Record<string, GoalView>
  services: Record<string, ServiceView>
  contract: ContractView
  /** Oldest first (by time, then id). */
  monitoring: MonitoringNoteView[]
  consultations: Record<string, ConsultationView>
  consents: Record<string, ConsentView>
  evaluation: Evaluation
  pzkDecision: PzkDecisionView | null
  handover: Handover | null
  nextVisit: string | null
  /** The household's address, one line (absent in older cases). */
  address: string | null
  /** The household's contact phone in E.164, "+48601234567". */
  phone: string | null
}
