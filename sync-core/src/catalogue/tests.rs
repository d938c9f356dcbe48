use std::collections::BTreeSet;

use super::*;
use crate::engine::{BatchRefusal, Rejection};
use crate::model::case::{
    AttachmentKind, ConsentState, ContactMode, DiagnosisSector, GoalStatus, PzkDecision,
    ScreeningOutcome, ServiceStatus, SigningMode, Stage,
};
use crate::model::justice::JusticeProcedure;
use crate::model::pzk::{
    AgreementStatus, Attendance, InstitutionSector, MeetingMode, MemberRole, MilestoneStatus,
    RecommendationCategory, TeamDecision,
};
use crate::model::DocumentKind;

/// The placeholder names in a text (`{name}` or `{name:kind}`).
fn placeholders(text: &str) -> Vec<String> {
    text.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .map(|(inside, _)| inside.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_catalogue_parses() {
    assert_eq!(catalogue_parses(), Ok(()));
}

#[test]
fn every_code_has_a_polish_text_and_every_text_a_code() {
    let mut raised: BTreeSet<&str> = examples().iter().map(|e| e.code()).collect();
    raised.extend([
        BATCH_DISCARDED,
        DOCUMENT_UNAVAILABLE,
        STORE_FAILED,
        DEVICE_REVOKED,
    ]);
    let written: BTreeSet<&str> = catalogue_codes().collect();
    let missing: Vec<_> = raised.difference(&written).collect();
    assert!(
        missing.is_empty(),
        "codes without a Polish text: {missing:?}"
    );
    // The SDK's own codes (`sdk.*`) are held to the catalogue by client-sdk's tests; the case
    // app's (`app.*`, its attachments' states) by the web app's browser tests.
    let unknown: Vec<_> = written
        .difference(&raised)
        .filter(|code| !code.starts_with("sdk.") && !code.starts_with("app."))
        .collect();
    assert!(
        unknown.is_empty(),
        "catalogue texts nobody raises: {unknown:?}"
    );
}

#[test]
fn every_placeholder_is_filled_and_every_argument_named() {
    for example in examples() {
        let text = &CATALOGUE.messages[example.code()];
        let names: BTreeSet<String> = placeholders(text).into_iter().collect();
        let args: BTreeSet<String> = example.args().iter().map(|(n, _)| n.to_string()).collect();
        for name in &names {
            assert!(
                args.contains(name),
                "{}: {{{name}}} has no argument",
                example.code()
            );
        }
        let rendered = example.message_pl();
        assert!(!rendered.contains('{'), "{}: {rendered}", example.code());
    }
}

#[test]
fn every_value_of_the_model_has_a_polish_label() {
    let kinds: [(&str, Vec<&str>); 20] = [
        (
            "attachmentKind",
            AttachmentKind::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("stage", Stage::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "screening",
            ScreeningOutcome::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "pzkDecision",
            PzkDecision::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "signingMode",
            SigningMode::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "contactMode",
            ContactMode::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "diagnosisSector",
            DiagnosisSector::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "goalStatus",
            GoalStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "serviceStatus",
            ServiceStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "consentState",
            ConsentState::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "documentKind",
            DocumentKind::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "justiceProcedure",
            JusticeProcedure::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "meetingMode",
            MeetingMode::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "attendance",
            Attendance::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "institutionSector",
            InstitutionSector::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "memberRole",
            MemberRole::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "milestoneStatus",
            MilestoneStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "agreementStatus",
            AgreementStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "recommendationCategory",
            RecommendationCategory::ALL
                .iter()
                .map(|v| v.as_str())
                .collect(),
        ),
        (
            "teamDecision",
            TeamDecision::ALL.iter().map(|v| v.as_str()).collect(),
        ),
    ];
    for (kind, values) in kinds {
        let labels: BTreeSet<&str> = CATALOGUE.labels[kind].keys().map(String::as_str).collect();
        assert_eq!(labels, values.into_iter().collect(), "labels of {kind}");
    }
}

#[test]
fn a_refused_move_reads_in_polish() {
    let refused = RuleViolation::MoveNotAllowed {
        from: "screening",
        to: "ipp",
        allowed: "diagnosis, closed".to_owned(),
    };
    assert_eq!(
        refused.message_pl(),
        "Sprawy na etapie „screening” nie można przenieść na etap „IPP”. \
         Z tego etapu można przejść do: diagnoza, zamknięta."
    );
    assert_eq!(
        SchemaError::Rule(refused.clone()).code(),
        "stage.move-not-allowed"
    );
    assert_eq!(
        Rejection::ChangesRefused(BatchRefusal::Document(Refusal::Invalid(SchemaError::Rule(
            refused
        ))))
        .code(),
        "stage.move-not-allowed"
    );
    assert_eq!(message_pl("no.such-code", &[]), "Błąd: no.such-code");
}

/// One value of every kind of schema error, refusal and rejection (rule violations: see
/// [`RuleViolation::examples`]), for the tests that hold the catalogue to the codes.
fn examples() -> Vec<Box<dyn Coded>> {
    let change = automerge::ChangeHash([0; 32]);
    let field = || SchemaError::Field {
        path: "stage".to_owned(),
        reason: "missing".to_owned(),
    };
    let mut all: Vec<Box<dyn Coded>> = RuleViolation::examples()
        .into_iter()
        .map(|v| Box::new(v) as Box<dyn Coded>)
        .collect();
    let schema = [
        SchemaError::UnknownType("x".to_owned()),
        SchemaError::UnsupportedVersion {
            found: 2,
            supported: 1,
        },
        field(),
        SchemaError::Automerge("x".to_owned()),
    ];
    all.extend(schema.into_iter().map(|e| Box::new(e) as Box<dyn Coded>));
    let refusals = [
        Refusal::ForgedActor {
            change,
            actor: automerge::ActorId::from(vec![1, 2, 3]),
        },
        Refusal::ForgedAuthor {
            change,
            claimed: "Author: mallory".to_owned(),
        },
        Refusal::ActorOfAnotherDevice,
        Refusal::Invalid(field()),
        Refusal::TypeChanged,
        Refusal::NoOwner,
        Refusal::UnknownUser,
        Refusal::NotTeamAnimator,
        Refusal::MayNotOpenCases,
        Refusal::PzkPartNotEditable("agreement".to_owned()),
        Refusal::ReferralNoPzkRelation,
        Refusal::ReferralNotToSocialServices,
        Refusal::ReferralChanged,
        Refusal::ConsultationNotCaseWriter,
        Refusal::ConsultationAnswerNotAddressed,
        Refusal::MinutesApprovalNotAllowed("s1".to_owned()),
        Refusal::JusticeNotAllowed,
        Refusal::JusticeCaseChanged,
        Refusal::Rule("x".to_owned()),
        Refusal::HostFailed("x".to_owned()),
    ];
    all.extend(refusals.into_iter().map(|e| Box::new(e) as Box<dyn Coded>));
    let rejections = [
        Rejection::Malformed(crate::DecodeError::NotAMap),
        Rejection::BadSyncData("x".to_owned()),
        Rejection::ProtocolViolation("x".to_owned()),
        Rejection::UnsupportedVersion(vec!["2".to_owned()]),
        Rejection::ReadOnly,
        Rejection::ChangesRefused(BatchRefusal::Undecodable("x".to_owned())),
        Rejection::ChangesRefused(BatchRefusal::TooManyMissingDeps { missing: 9 }),
        Rejection::ChangesRefused(BatchRefusal::Changes(Refusal::NoOwner)),
    ];
    all.extend(
        rejections
            .into_iter()
            .map(|e| Box::new(e) as Box<dyn Coded>),
    );
    all
}

#[test]
fn a_coded_message_gives_back_its_code() {
    let text = coded_text("stage.final", "a case at stage closed is final");
    assert_eq!(text, "[stage.final] a case at stage closed is final");
    assert_eq!(
        split_code(&text),
        (Some("stage.final"), "a case at stage closed is final")
    );
    assert_eq!(split_code("no code here"), (None, "no code here"));
    assert_eq!(split_code("[not a code] x"), (None, "[not a code] x"));
}

#[test]
fn a_quoted_refusal_still_gives_its_code() {
    let reason = "the server closed the connection (1008): [stage.final] a case at stage closed";
    assert_eq!(find_code(reason), Some("stage.final"));
    assert_eq!(find_code("[x] [not.a-code] words"), None);
    assert_eq!(find_code("no code"), None);
}
