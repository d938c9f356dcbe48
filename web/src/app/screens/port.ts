// What the screens need of a case, in the screens' own terms: the data a card shows (Polish
// labels included) and the edits it offers. `case-model.ts` fills these from web/src/model,
// which holds the rules (the workflow, what each edit checks, the Polish catalogue); nothing
// here decides what is allowed.

import type { GoalPlan, RectificationView } from "../../model"
import type { ConflictChoice } from "./conflict-view"
import type { StageMove } from "./stage-bar"

export type Options = ReadonlyArray<readonly [string, string]>

/** A status field: its shown value and, when set on two devices at once, every value. */
export interface Status {
  value: string
  label: string
  conflict: ConflictChoice[] | null
}

export interface Person {
  id: string
  name: string
  relation: string
  birthDate: string | null
}

/** An IPP goal: the model's SMART plan (`deadline` is `YYYY-MM-DD`) with its status. */
export interface Goal extends GoalPlan {
  id: string
  status: Status
  /** Past its deadline and still open. */
  overdue: boolean
}

export interface BasketService {
  id: string
  label: string
  provider: string
  status: Status
}

export interface Signing {
  signer: string
  mode: string
  modeLabel: string
  note: string
  at: Date
  recordedBy: string
  /** The contract's text as it was signed. */
  text: string
}

export interface MonitoringEntry {
  id: string
  author: string
  institution: string
  mode: string
  modeLabel: string
  text: string
  at: Date
}

export interface ConsentEntry {
  id: string
  institution: string
  purpose: string
  given: boolean
  by: string
  at: Date
  recordedBy: string
}

export interface ConsultationAnswer {
  id: string
  by: string
  institution: string
  text: string
  at: Date
}

export interface Consultation {
  id: string
  question: string
  askedBy: string
  institution: string
  at: Date
  answers: ConsultationAnswer[]
  /** Asked of this institution through the PZK (its name); its answers come from the PZK document. */
  askedOf: string | null
  /** The PZK document that carries it, when asked of an institution. */
  pzk: string | null
}

export interface HistoryEntry {
  by: string | null
  institution: string | null
  at: Date | null
  /** What changed, in Polish. */
  what: string
}

/** A rectification as the card lists it (the model's view). */
export type Rectified = RectificationView

/** A case as the card shows it. */
export interface CaseData {
  documentId: string
  title: string
  owner: string
  leadInstitution: string
  stage: Status
  stages: Options
  moves: StageMove[]
  household: Person[]
  nextVisit: string | null
  /** The household's address and contact phone (E.164), when set. */
  address: string | null
  phone: string | null
  /** Corrections of the household's data recorded as such (GDPR art. 16), oldest first. */
  rectifications: Rectified[]
  referral: { by: string; institution: string; reason: string; at: Date | null }
  screening: { outcome: Status | null; notes: string; by: string | null; at: Date | null }
  diagnosis: Array<{ sector: string; label: string; text: string }>
  goals: Goal[]
  services: BasketService[]
  contract: { text: string; signings: Signing[]; changedSinceSigned: boolean }
  monitoring: MonitoringEntry[]
  consents: ConsentEntry[]
  consultations: Consultation[]
  evaluation: { text: string; by: string | null; at: Date | null }
  decision: { status: Status; meeting: string | null; by: string; at: Date } | null
  handover: { target: string; worker: string | null; note: string; by: string; at: Date } | null
  /** Closed or handed over. */
  finished: boolean
}

/** Lists of values for the card's choices, with Polish labels. */
export interface Choices {
  screeningOutcomes: Options
  sectors: Options
  goalStatuses: Options
  serviceStatuses: Options
  signingModes: Options
  contactModes: Options
  decisions: Options
  /** Services of the PZK list (id, description), when the device holds a PZK document. */
  pzkServices: Options
  /** Institutions of the PZK a question may be addressed to (`pzk|institution`, name). */
  askable: Options
}

/** The edits a card offers. Each throws an Error with the catalogue's Polish message when the
 * model refuses it. */
export interface CaseEdits {
  move(to: string): void
  resolveStage(value: string): void
  addPerson(person: Omit<Person, "id">): void
  setNextVisit(day: string | null): void
  setContact(address: string, phone: string): void
  setScreening(outcome: string, notes: string): void
  setDiagnosis(sector: string, text: string): void
  upsertGoal(goal: GoalPlan): string
  setGoalText(id: string, part: "specific" | "measurable" | "achievable" | "relevant", text: string): void
  setGoalStatus(id: string, status: string): void
  addService(serviceId: string, provider: string): void
  setServiceStatus(id: string, status: string): void
  setContractText(text: string): void
  sign(signer: string, mode: string, note: string): void
  addMonitoringNote(mode: string, text: string): void
  recordConsent(institution: string, purpose: string, given: boolean, by: string): void
  askConsultation(question: string): void
  /** Asks an institution (`pzk|institution`, see `Choices.askable`) through the PZK, without sharing the case. */
  askInstitution(question: string, target: string): void
  answerConsultation(id: string, text: string): void
  setEvaluation(text: string): void
  setDecision(decision: string, meeting: string | null): void
  setHandover(target: string, worker: string | null, note: string): void
  /** Corrects a field (its path, e.g. `household/os-1/name`) to `value` (null clears), with why. */
  rectify(field: string, value: string | null, reason: string): void
}

/** What the signed-in user may do with this case. */
export interface Access {
  /** The server lets this user write the case. */
  canWrite: boolean
  /** The user's own diagnosis sector (a partner member writes only that one), or null for all. */
  ownSector: string | null
  /** The user is a partner member, not the case's social worker. */
  partner: boolean
}

/** One row of the caseload. */
export interface CaseSummary {
  documentId: string
  title: string
  stage: Status
  /** Everyone but the user who wrote in the case (logins), and institutions it is shared with. */
  others: string[]
  /** What is past its deadline, in Polish (goals, monitoring). */
  overdue: string[]
  nextVisit: string | null
  /** Fields that hold values set on two devices at once. */
  conflicts: number
  /** Text the search looks in (names, referral), lower case. */
  searchText: string
  readOnly: boolean
}

/** What "Dziś" lists. */
export interface TodayItem {
  documentId: string
  title: string
  kind: "visit" | "goal" | "monitoring"
  /** What is due, in Polish. */
  what: string
  /** `YYYY-MM-DD`. */
  due: string
}

/** A new case as the worker enters it. */
export interface NewCase {
  people: Array<Omit<Person, "id">>
  referredBy: string
  referringInstitution: string
  reason: string
}
