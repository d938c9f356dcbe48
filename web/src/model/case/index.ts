// The case (*sprawa*) document: its layout, readers, edits and workflow.

export * from "./layout.ts"
export type * from "./types.ts"
export { openCase, readCase, stage, resolveStage as shownStage, conflicts, consentInForce } from "./read.ts"
export { newCase, createCaseDoc, addHouseholdMember, setScreening, linkReferralDocument, referralDocument } from "./intake.ts"
export {
  setDiagnosisSection,
  spliceDiagnosis,
  upsertGoal,
  setGoalStatus,
  addService,
  addListedService,
  setServiceStatus,
} from "./plan.ts"
export {
  setContractText,
  signContract,
  signedContractText,
  contractChangedSinceSigned,
  type Signing,
} from "./contract.ts"
export { appendMonitoringNote, openConsultation, answerConsultation, recordConsent } from "./logs.ts"
export { setEvaluation, setPzkDecision, setHandover, setNextVisit } from "./closing.ts"
export {
  allowedMoves,
  isAllowed,
  checkTransition,
  stageMoves,
  transition,
  resolveStage,
  checkState,
  type StageMove,
} from "./workflow.ts"
export { diagnosisSectorOf } from "./sectors.ts"
export { setHouseholdContact, normalizeAddress, normalizePhone, MAX_ADDRESS_CHARS, type HouseholdContact } from "./contact.ts"
export {
  attachFile,
  readAttachments,
  isSha256Hex,
  ALLOWED_MIME,
  ATTACHMENT_KINDS,
  MAX_ATTACHMENT_BYTES,
  type Attachment,
  type AttachmentKind,
  type AttachmentLink,
  type AttachmentView,
} from "./attachments.ts"
export {
  rectify,
  readRectifications,
  parseRectifiedField,
  rectifiedPath,
  normalizeRectified,
  MAX_REASON_CHARS,
  type Rectification,
  type RectificationView,
  type RectifiedField,
} from "./rectification.ts"
