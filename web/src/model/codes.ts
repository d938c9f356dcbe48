// The stable codes of every rule violation and refusal, the same strings as sync-core's
// `RuleViolation::code`, `SchemaError::code` and `Refusal::code` (sync-core/src/codes.rs). The
// Polish text of each is in the one catalogue, sync-core/messages/pl.json; a test on each side
// fails when a code lacks its text or the catalogue names a code nobody raises.

export const RULE_CODES = [
  "stage.move-not-allowed",
  "stage.already-there",
  "stage.final",
  "stage.conflicted",
  "stage.not-conflicted",
  "stage.not-concurrent",
  "screening.reason-required",
  "screening.decision-conflicted",
  "screening.decision-missing",
  "diagnosis.empty",
  "ipp.no-goal",
  "contract.not-signed",
  "contract.changed-since-signed",
  "contract.empty-text",
  "contract.no-goal",
  "contract.no-signer",
  "contract.remote-without-consent",
  "pzk-decision.conflicted",
  "pzk-decision.missing",
  "evaluation.missing",
  "handover.no-target",
  "state.signing-without-plan",
  "state.signing-empty-contract",
  "state.signing-remote-without-consent",
  "state.stage-without-goal",
  "state.stage-without-signing",
  "state.handed-over-without-target",
  "entry.exists",
  "service.not-listed",
  "service.retired",
  "document.wrong-kind",
  "history.unknown-heads",
  "text.splice-too-long",
  "household.address-invalid",
  "household.phone-invalid",
  "referral.incomplete",
  "referral.already-decided",
  "referral.decline-reason-required",
  "consultation.to-non-member",
  "consultation.not-addressed",
  "meeting.link-invalid",
  "meeting.invitee-not-member",
  "meeting.frozen",
  "meeting.minutes-empty",
  "agreement.frozen",
  "agreement.incomplete",
  "agreement.dates-order",
  "rectification.reason-required",
  "rectification.unknown-field",
  "rectification.value-invalid",
  "rectification.no-change",
  "justice.incomplete",
] as const

/** The codes of a document that does not match its schema, beyond the rules. */
export const SCHEMA_CODES = [
  "document.unknown-type",
  "document.unsupported-version",
  "field.invalid",
  "document.automerge",
] as const

export type RuleCode = (typeof RULE_CODES)[number]
export type SchemaCode = (typeof SCHEMA_CODES)[number]
/** Every code the model raises (the server's refusals have codes of their own, `refusal.*`). */
export type Code = RuleCode | SchemaCode
