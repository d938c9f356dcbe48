//! The rules of the model a document or an edit can break, each with a stable code.
//!
//! [`RuleViolation`] is what [`SchemaError::Rule`](crate::SchemaError::Rule) carries. Its
//! `Display` is English, for logs and tests; [`RuleViolation::code`] is the stable code (the
//! same string the TypeScript model in `web/src/model` throws) and [`RuleViolation::args`] the
//! values its Polish text in the catalogue (`sync-core/messages/pl.json`, read by
//! [`crate::catalogue`]) fills in. Values are kept as their wire strings (a stage as
//! `"diagnosis"`), which the catalogue turns into Polish labels.

use std::fmt;

/// A rule of the model broken by an edit, a stage move or a document's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleViolation {
    /// A stage move the workflow does not offer from `from`.
    MoveNotAllowed {
        /// The stage the case is at.
        from: &'static str,
        /// The stage asked for.
        to: &'static str,
        /// The stages the case may move to from `from`, comma-separated.
        allowed: String,
    },
    /// A move to the stage the case is already at.
    AlreadyThere(&'static str),
    /// A move out of a final stage.
    Final {
        /// The final stage.
        from: &'static str,
        /// The stage asked for.
        to: &'static str,
    },
    /// A move while replicas disagree on the stage (the concurrent values, shown one first).
    StageConflicted(String),
    /// A stage conflict settled where there is none.
    StageNotConflicted(&'static str),
    /// A stage conflict settled with a value that is not one of the concurrent ones.
    StageNotConcurrent {
        /// The value chosen.
        chosen: &'static str,
        /// The concurrent values.
        stages: String,
    },
    /// A screening decision without its reason.
    ScreeningReasonRequired,
    /// A move out of the screening while its decision is in conflict.
    ScreeningConflicted {
        /// The stage asked for.
        to: &'static str,
        /// The concurrent decisions, sorted.
        values: String,
    },
    /// A move out of the screening without the decision it needs.
    ScreeningMissing {
        /// The stage asked for.
        to: &'static str,
        /// The decision the move needs.
        decision: &'static str,
    },
    /// The IPP started before any diagnosis sector is written.
    DiagnosisEmpty,
    /// The contract stage without an IPP goal.
    IppWithoutGoal,
    /// Delivery before the contract is signed.
    ContractNotSigned,
    /// Delivery on a contract changed since its latest signing.
    ContractChangedSinceSigned,
    /// A signing of a contract without text.
    ContractEmpty,
    /// A signing before the IPP has a goal.
    ContractWithoutGoal,
    /// A signing that names no signer.
    NoSigner,
    /// A remote acceptance (the mode) without the recorded consent.
    RemoteWithoutConsent(&'static str),
    /// A move out of the evaluation while the 9.2 decision is in conflict.
    DecisionConflicted {
        /// The stage asked for.
        to: &'static str,
        /// The concurrent decisions, sorted.
        values: String,
    },
    /// A move out of the evaluation without the 9.2 decision it needs.
    DecisionMissing {
        /// The stage asked for.
        to: &'static str,
        /// The decision the move needs.
        decision: &'static str,
    },
    /// Closing or handing over before the evaluation (9.1) is written.
    EvaluationMissing(&'static str),
    /// A hand-over without its target.
    HandoverWithoutTarget,
    /// State: signing `index` was made when the IPP had no goal.
    SigningWithoutPlan(usize),
    /// State: signing `index` was made on an empty contract.
    SigningEmptyContract(usize),
    /// State: signing `index` was accepted remotely (the mode) without consent.
    SigningRemoteWithoutConsent(usize, &'static str),
    /// State: a stage value that needs an IPP goal, in a case without one.
    StageWithoutGoal(&'static str),
    /// State: a stage value that needs a signed contract, in a case without one.
    StageWithoutSigning(&'static str),
    /// State: `handed_over` without a hand-over target.
    HandedOverWithoutTarget,
    /// An append-only entry written again.
    EntryExists {
        /// What kind of entry, in words.
        what: &'static str,
        /// Its path, e.g. `monitoring/n1`.
        path: String,
    },
    /// A service that is not on the PZK's list.
    ServiceNotListed(String),
    /// A service retired from the PZK's list.
    ServiceRetired(String),
    /// A document of another kind than expected.
    WrongKind {
        /// The kind expected.
        expected: &'static str,
        /// The kind found.
        found: &'static str,
    },
    /// A version (change hash) the document does not hold.
    UnknownHeads(String),
    /// A text splice too long to apply.
    SpliceTooLong,
    /// A household address that is not one line of at most 200 characters.
    AddressInvalid,
    /// A contact phone that is not a Polish or international phone number (as typed).
    PhoneInvalid(String),
    /// A referral without a required field (`to`, `subject`, `reason` or `contact`).
    ReferralIncomplete(&'static str),
    /// A decision on a referral already decided (its status).
    ReferralAlreadyDecided(&'static str),
    /// A referral declined without a reason.
    ReferralDeclineReasonRequired,
    /// A consultation asked of an institution that is not a member of the PZK team.
    ConsultationToNonMember(String),
    /// An answer for another institution than the one the consultation is addressed to (it).
    ConsultationNotAddressed(String),
    /// A meeting's video-call link that is not an `https://` address.
    MeetingLinkInvalid,
    /// An invitation of an institution (its id) that is not a member of the team.
    InviteeNotMember(String),
    /// A change of a meeting (its id) whose minutes are approved, so frozen.
    MeetingFrozen(String),
    /// An approval of empty minutes.
    MinutesEmpty,
    /// A change of the text or parties of a PZK agreement after it was signed.
    AgreementFrozen,
    /// A PZK agreement signed or recorded without a required part (`text`, `parties`,
    /// `signatories`, `party` or `signatory`).
    AgreementIncomplete(&'static str),
    /// A PZK agreement in force until before it starts.
    AgreementDatesOrder,
    /// A rectification without its reason (or with one over 1000 characters).
    RectificationReasonRequired,
    /// A rectification of a field that may not be rectified or that the case does not hold.
    RectificationUnknownField(String),
    /// A rectification whose new value the field cannot take (the field's path).
    RectificationValueInvalid(String),
    /// A rectification that changes nothing (the field's path).
    RectificationNoChange(String),
    /// Police or court information written down without a required field (`informedBy` or
    /// `content`).
    JusticeIncomplete(&'static str),
}

impl RuleViolation {
    /// The stable code (see `sync-core/messages/pl.json` for its Polish text).
    pub fn code(&self) -> &'static str {
        use RuleViolation::*;
        match self {
            MoveNotAllowed { .. } => "stage.move-not-allowed",
            AlreadyThere(_) => "stage.already-there",
            Final { .. } => "stage.final",
            StageConflicted(_) => "stage.conflicted",
            StageNotConflicted(_) => "stage.not-conflicted",
            StageNotConcurrent { .. } => "stage.not-concurrent",
            ScreeningReasonRequired => "screening.reason-required",
            ScreeningConflicted { .. } => "screening.decision-conflicted",
            ScreeningMissing { .. } => "screening.decision-missing",
            DiagnosisEmpty => "diagnosis.empty",
            IppWithoutGoal => "ipp.no-goal",
            ContractNotSigned => "contract.not-signed",
            ContractChangedSinceSigned => "contract.changed-since-signed",
            ContractEmpty => "contract.empty-text",
            ContractWithoutGoal => "contract.no-goal",
            NoSigner => "contract.no-signer",
            RemoteWithoutConsent(_) => "contract.remote-without-consent",
            DecisionConflicted { .. } => "pzk-decision.conflicted",
            DecisionMissing { .. } => "pzk-decision.missing",
            EvaluationMissing(_) => "evaluation.missing",
            HandoverWithoutTarget => "handover.no-target",
            SigningWithoutPlan(_) => "state.signing-without-plan",
            SigningEmptyContract(_) => "state.signing-empty-contract",
            SigningRemoteWithoutConsent(..) => "state.signing-remote-without-consent",
            StageWithoutGoal(_) => "state.stage-without-goal",
            StageWithoutSigning(_) => "state.stage-without-signing",
            HandedOverWithoutTarget => "state.handed-over-without-target",
            EntryExists { .. } => "entry.exists",
            ServiceNotListed(_) => "service.not-listed",
            ServiceRetired(_) => "service.retired",
            WrongKind { .. } => "document.wrong-kind",
            UnknownHeads(_) => "history.unknown-heads",
            SpliceTooLong => "text.splice-too-long",
            AddressInvalid => "household.address-invalid",
            PhoneInvalid(_) => "household.phone-invalid",
            ReferralIncomplete(_) => "referral.incomplete",
            ReferralAlreadyDecided(_) => "referral.already-decided",
            ReferralDeclineReasonRequired => "referral.decline-reason-required",
            ConsultationToNonMember(_) => "consultation.to-non-member",
            ConsultationNotAddressed(_) => "consultation.not-addressed",
            MeetingLinkInvalid => "meeting.link-invalid",
            InviteeNotMember(_) => "meeting.invitee-not-member",
            MeetingFrozen(_) => "meeting.frozen",
            MinutesEmpty => "meeting.minutes-empty",
            AgreementFrozen => "agreement.frozen",
            AgreementIncomplete(_) => "agreement.incomplete",
            AgreementDatesOrder => "agreement.dates-order",
            RectificationReasonRequired => "rectification.reason-required",
            RectificationUnknownField(_) => "rectification.unknown-field",
            RectificationValueInvalid(_) => "rectification.value-invalid",
            RectificationNoChange(_) => "rectification.no-change",
            JusticeIncomplete(_) => "justice.incomplete",
        }
    }

    /// The values the code's text names, by placeholder.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        use RuleViolation::*;
        let one = |name, value: &str| vec![(name, value.to_owned())];
        match self {
            MoveNotAllowed { from, to, allowed } => vec![
                ("from", (*from).to_owned()),
                ("to", (*to).to_owned()),
                ("allowed", allowed.clone()),
            ],
            AlreadyThere(stage) | StageNotConflicted(stage) => one("stage", stage),
            StageWithoutGoal(stage) | StageWithoutSigning(stage) => one("stage", stage),
            Final { from, to } => vec![("from", (*from).to_owned()), ("to", (*to).to_owned())],
            StageConflicted(stages) => one("stages", stages),
            StageNotConcurrent { chosen, stages } => {
                vec![("chosen", (*chosen).to_owned()), ("stages", stages.clone())]
            }
            ScreeningConflicted { to, values } | DecisionConflicted { to, values } => {
                vec![("to", (*to).to_owned()), ("values", values.clone())]
            }
            ScreeningMissing { to, decision } | DecisionMissing { to, decision } => {
                vec![
                    ("to", (*to).to_owned()),
                    ("decision", (*decision).to_owned()),
                ]
            }
            RemoteWithoutConsent(mode) => one("mode", mode),
            EvaluationMissing(to) => one("to", to),
            SigningWithoutPlan(index) | SigningEmptyContract(index) => {
                one("index", &index.to_string())
            }
            SigningRemoteWithoutConsent(index, mode) => {
                vec![("index", index.to_string()), ("mode", (*mode).to_owned())]
            }
            EntryExists { path, .. } => one("path", path),
            ServiceNotListed(service) | ServiceRetired(service) => one("service", service),
            WrongKind { expected, found } => vec![
                ("expected", (*expected).to_owned()),
                ("found", (*found).to_owned()),
            ],
            UnknownHeads(head) => one("head", head),
            PhoneInvalid(phone) => one("phone", phone),
            ReferralIncomplete(field) | JusticeIncomplete(field) => one("field", field),
            ReferralAlreadyDecided(status) => one("status", status),
            ConsultationToNonMember(to) | ConsultationNotAddressed(to) => one("to", to),
            InviteeNotMember(institution) => one("institution", institution),
            MeetingFrozen(meeting) => one("meeting", meeting),
            AgreementIncomplete(part) => one("part", part),
            RectificationUnknownField(field)
            | RectificationValueInvalid(field)
            | RectificationNoChange(field) => one("field", field),
            ScreeningReasonRequired
            | DiagnosisEmpty
            | IppWithoutGoal
            | ContractNotSigned
            | ContractChangedSinceSigned
            | ContractEmpty
            | ContractWithoutGoal
            | NoSigner
            | HandoverWithoutTarget
            | HandedOverWithoutTarget
            | SpliceTooLong
            | AddressInvalid
            | ReferralDeclineReasonRequired
            | MeetingLinkInvalid
            | MinutesEmpty
            | AgreementFrozen
            | AgreementDatesOrder
            | RectificationReasonRequired => Vec::new(),
        }
    }

    /// One value of every kind, for the tests that hold the catalogue to the codes.
    pub fn examples() -> Vec<RuleViolation> {
        use RuleViolation::*;
        let (s, t) = ("screening", "diagnosis");
        vec![
            MoveNotAllowed {
                from: s,
                to: "ipp",
                allowed: "diagnosis, closed".to_owned(),
            },
            AlreadyThere(s),
            Final {
                from: "closed",
                to: t,
            },
            StageConflicted("delivery, diagnosis".to_owned()),
            StageNotConflicted(s),
            StageNotConcurrent {
                chosen: t,
                stages: "ipp, screening".to_owned(),
            },
            ScreeningReasonRequired,
            ScreeningConflicted {
                to: t,
                values: "not_qualified, qualified".to_owned(),
            },
            ScreeningMissing {
                to: t,
                decision: "qualified",
            },
            DiagnosisEmpty,
            IppWithoutGoal,
            ContractNotSigned,
            ContractChangedSinceSigned,
            ContractEmpty,
            ContractWithoutGoal,
            NoSigner,
            RemoteWithoutConsent("phone"),
            DecisionConflicted {
                to: "closed",
                values: "continue, end".to_owned(),
            },
            DecisionMissing {
                to: "closed",
                decision: "end",
            },
            EvaluationMissing("closed"),
            HandoverWithoutTarget,
            SigningWithoutPlan(0),
            SigningEmptyContract(1),
            SigningRemoteWithoutConsent(0, "video"),
            StageWithoutGoal("contract"),
            StageWithoutSigning("delivery"),
            HandedOverWithoutTarget,
            EntryExists {
                what: "monitoring note",
                path: "monitoring/n1".to_owned(),
            },
            ServiceNotListed("s1".to_owned()),
            ServiceRetired("s1".to_owned()),
            WrongKind {
                expected: "case",
                found: "pzk",
            },
            UnknownHeads("00".repeat(32)),
            SpliceTooLong,
            AddressInvalid,
            PhoneInvalid("12345".to_owned()),
            ReferralIncomplete("reason"),
            ReferralAlreadyDecided("accepted"),
            ReferralDeclineReasonRequired,
            ConsultationToNonMember("policja".to_owned()),
            ConsultationNotAddressed("szkola".to_owned()),
            MeetingLinkInvalid,
            InviteeNotMember("policja".to_owned()),
            MeetingFrozen("m1".to_owned()),
            MinutesEmpty,
            AgreementFrozen,
            AgreementIncomplete("signatories"),
            AgreementDatesOrder,
            RectificationReasonRequired,
            RectificationUnknownField("goals/g1".to_owned()),
            RectificationValueInvalid("household/p1/birthDate".to_owned()),
            RectificationNoChange("householdPhone".to_owned()),
            JusticeIncomplete("content"),
        ]
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RuleViolation::*;
        match self {
            MoveNotAllowed { from, to, allowed } => write!(
                f,
                "a case cannot move from {from} to {to}; from {from} it may move to {allowed}"
            ),
            AlreadyThere(stage) => write!(f, "the case is already at stage {stage}"),
            Final { from, to } => {
                write!(f, "a case at stage {from} is final and cannot move to {to}")
            }
            StageConflicted(stages) => write!(
                f,
                "the stage is in conflict ({stages}); confirm one with resolve_stage before moving the case"
            ),
            StageNotConflicted(stage) => write!(
                f,
                "the stage is {stage} and not in conflict; move the case with a transition"
            ),
            StageNotConcurrent { chosen, stages } => write!(
                f,
                "{chosen} is not one of the concurrent stages ({stages}); confirm one of them"
            ),
            ScreeningReasonRequired => {
                f.write_str("a screening decision needs its reason in the notes")
            }
            ScreeningConflicted { to, values } => write!(
                f,
                "the screening decision is in conflict ({values}); settle it before moving to {to}"
            ),
            ScreeningMissing { to, decision } => {
                let words = match *decision {
                    "qualified" => "to proceed (qualified)",
                    _ => "not to proceed (not_qualified)",
                };
                write!(
                    f,
                    "moving from screening to {to} needs a screening decision {words}"
                )
            }
            DiagnosisEmpty => f.write_str(
                "the IPP is written on a diagnosis: write at least one diagnosis sector first",
            ),
            IppWithoutGoal => f.write_str("the contract stage needs an IPP with at least one goal"),
            ContractNotSigned => f.write_str("delivery starts once the contract is signed"),
            ContractChangedSinceSigned => f.write_str(
                "the contract was changed since it was signed: sign the current text before delivery",
            ),
            ContractEmpty => f.write_str("a contract without text cannot be signed"),
            ContractWithoutGoal => {
                f.write_str("a contract cannot be signed before the IPP has a goal")
            }
            NoSigner => f.write_str("a signing must name who signed"),
            RemoteWithoutConsent(mode) => write!(
                f,
                "a contract accepted remotely ({mode}) needs the recorded consent"
            ),
            DecisionConflicted { to, values } => write!(
                f,
                "the PZK decision (9.2) is in conflict ({values}); settle it before moving to {to}"
            ),
            DecisionMissing { to, decision } => write!(
                f,
                "moving from evaluation to {to} needs the PZK decision (9.2) to {decision}"
            ),
            EvaluationMissing(to) => write!(f, "moving to {to} needs the evaluation (9.1) written"),
            HandoverWithoutTarget => {
                f.write_str("a hand-over needs its target: record it with set_handover first")
            }
            SigningWithoutPlan(index) => write!(
                f,
                "contract signing {index} was made without a plan: the IPP had no goal"
            ),
            SigningEmptyContract(index) => {
                write!(f, "contract signing {index} was made on an empty contract")
            }
            SigningRemoteWithoutConsent(index, mode) => write!(
                f,
                "contract signing {index} was accepted remotely ({mode}) without a recorded consent"
            ),
            StageWithoutGoal(stage) => write!(f, "a case at stage {stage} has no IPP goal"),
            StageWithoutSigning(stage) => {
                write!(f, "a case at stage {stage} has no signed contract")
            }
            HandedOverWithoutTarget => {
                f.write_str("a case at stage handed_over has no hand-over target")
            }
            EntryExists { what, path } => {
                write!(f, "{what} {path} already exists and is append-only")
            }
            ServiceNotListed(service) => write!(
                f,
                "service {service} is not on the PZK's list of activities and services"
            ),
            ServiceRetired(service) => write!(
                f,
                "service {service} is retired from the PZK's list and is no longer offered"
            ),
            WrongKind { expected, found } => write!(
                f,
                "expected a {expected} document, found a {found} document"
            ),
            UnknownHeads(head) => write!(
                f,
                "version {head} is not in this document (not synced yet, or of another document)"
            ),
            SpliceTooLong => f.write_str("splice too long"),
            AddressInvalid => f.write_str("the address must be one line of at most 200 characters"),
            PhoneInvalid(phone) => write!(f, "{phone:?} is not a Polish or international phone number"),
            ReferralIncomplete(field) => write!(f, "a referral needs its {field}"),
            ReferralAlreadyDecided(status) => write!(f, "the referral is already {status}"),
            ReferralDeclineReasonRequired => f.write_str("declining a referral needs a reason"),
            ConsultationToNonMember(to) => write!(f, "{to} is not a member of the PZK team"),
            ConsultationNotAddressed(to) => {
                write!(f, "the consultation is addressed to {to}; only its members answer it")
            }
            MeetingLinkInvalid => f.write_str(
                "a meeting's link must be an https:// address of at most 2048 characters, without spaces",
            ),
            InviteeNotMember(institution) => write!(
                f,
                "institution {institution} is not a member of the team and cannot be invited"
            ),
            MeetingFrozen(meeting) => write!(
                f,
                "the minutes of meeting {meeting} are approved: the meeting can no longer change"
            ),
            MinutesEmpty => f.write_str("empty minutes cannot be approved"),
            AgreementFrozen => f.write_str(
                "the agreement is signed: its text and parties are frozen as signed",
            ),
            AgreementIncomplete(part) => write!(f, "the agreement needs its {part}"),
            AgreementDatesOrder => {
                f.write_str("the agreement cannot end before it comes into force")
            }
            RectificationReasonRequired => {
                f.write_str("a rectification needs its reason (at most 1000 characters)")
            }
            RectificationUnknownField(field) => {
                write!(f, "{field} is no field of the case a rectification corrects")
            }
            RectificationValueInvalid(field) => {
                write!(f, "the new value is no valid value of {field}")
            }
            RectificationNoChange(field) => {
                write!(f, "the rectification of {field} changes nothing")
            }
            JusticeIncomplete(field) => {
                write!(f, "police or court information needs its {field}")
            }
        }
    }
}
