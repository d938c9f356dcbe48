//! A pedagogue refers a family; the GOPS accepts or declines; decisions are taken once.

use automerge::Automerge;

use super::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::testing::{actor, at, editor, fork_as, merged};
use crate::model::{self, DocumentKind};

fn init() -> ReferralInit {
    ReferralInit {
        actor: actor("pedagog-tablet"),
        to: "gops".to_owned(),
        by: "pedagog".to_owned(),
        institution: "sp-1".to_owned(),
        subject_kind: SubjectKind::Family,
        subject_name: "Rodzina Nowaków".to_owned(),
        reason: "Dzieci często nieobecne, głodne.".to_owned(),
        urgency: Urgency::Soon,
        contact: "Matka, tel. 600 100 200".to_owned(),
        basis: LegalBasis::Consent,
        basis_note: "Zgoda ustna matki, 1.03.".to_owned(),
    }
}

fn submitted() -> Automerge {
    new_referral(&init(), &editor("pedagog"), at(9)).expect("a referral is written")
}

fn rule(result: Result<impl std::fmt::Debug, SchemaError>) -> RuleViolation {
    match result {
        Err(SchemaError::Rule(v)) => v,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

#[test]
fn a_pedagogue_writes_a_referral_that_validates_and_reads_back() {
    let doc = submitted();
    assert_eq!(
        model::validate(&doc).expect("valid"),
        DocumentKind::Referral
    );
    let view = read_referral(&doc).expect("reads");
    assert_eq!(view.to, "gops");
    assert_eq!(view.by, "pedagog");
    assert_eq!(view.subject_kind, SubjectKind::Family);
    assert_eq!(view.urgency, Urgency::Soon);
    assert_eq!(view.basis, LegalBasis::Consent);
    assert_eq!(view.status.value, ReferralStatus::Submitted);
    assert_eq!(view.decision, None);
}

#[test]
fn a_referral_needs_who_why_and_how_to_reach_them() {
    for (field, blank) in [
        (
            "to",
            (|i: &mut ReferralInit| i.to.clear()) as fn(&mut ReferralInit),
        ),
        ("subject", |i| i.subject_name.clear()),
        ("reason", |i| i.reason = "  ".to_owned()),
        ("contact", |i| i.contact.clear()),
    ] {
        let mut init = init();
        blank(&mut init);
        assert_eq!(
            rule(new_referral(&init, &editor("pedagog"), at(9))),
            RuleViolation::ReferralIncomplete(field)
        );
    }
}

#[test]
fn a_referral_is_written_by_its_referrer_only() {
    let result = new_referral(&init(), &editor("jan"), at(9));
    assert!(
        matches!(result, Err(SchemaError::Field { .. })),
        "{result:?}"
    );
}

#[test]
fn the_gops_accepts_once_and_the_decision_names_the_case() {
    let mut doc = fork_as(&submitted(), "ewa-tablet");
    accept_referral(&mut doc, "case-1", &editor("ewa"), at(10)).expect("accepted");
    let view = read_referral(&doc).expect("reads");
    assert_eq!(view.status.value, ReferralStatus::Accepted);
    let decision = view.decision.expect("decided");
    assert_eq!((decision.by.as_str(), decision.at), ("ewa", at(10)));
    assert_eq!(decision.case.as_deref(), Some("case-1"));
    assert_eq!(
        rule(decline_referral(&mut doc, "no", &editor("ewa"), at(11))),
        RuleViolation::ReferralAlreadyDecided("accepted")
    );
}

#[test]
fn declining_needs_a_reason_the_referrer_reads() {
    let mut doc = fork_as(&submitted(), "ewa-tablet");
    assert_eq!(
        rule(decline_referral(&mut doc, " ", &editor("ewa"), at(10))),
        RuleViolation::ReferralDeclineReasonRequired
    );
    decline_referral(
        &mut doc,
        "Rodzina jest już pod opieką MOPS.",
        &editor("ewa"),
        at(10),
    )
    .expect("declined");
    let view = read_referral(&doc).expect("reads");
    assert_eq!(view.status.value, ReferralStatus::Declined);
    assert_eq!(
        view.decision.and_then(|d| d.reason).as_deref(),
        Some("Rodzina jest już pod opieką MOPS.")
    );
}

#[test]
fn two_workers_deciding_offline_see_a_conflict_and_a_new_decision_settles_it() {
    let base = submitted();
    let mut ewa = fork_as(&base, "ewa-tablet");
    let mut anna = fork_as(&base, "anna-tablet");
    accept_referral(&mut ewa, "case-1", &editor("ewa"), at(10)).expect("accepted");
    decline_referral(&mut anna, "Poza naszym terenem.", &editor("anna"), at(10)).expect("declined");
    let mut both = merged(&ewa, &anna);
    model::validate(&both).expect("a merge of valid decisions is valid");
    let view = read_referral(&both).expect("reads");
    assert_eq!(view.conflicts(), vec!["status".to_owned()]);
    accept_referral(&mut both, "case-1", &editor("ewa"), at(11)).expect("settles");
    let view = read_referral(&both).expect("reads");
    assert!(!view.status.is_conflicted());
    assert_eq!(view.status.value, ReferralStatus::Accepted);
}

#[test]
fn a_decided_status_without_its_decision_is_refused() {
    use automerge::transaction::Transactable;
    let mut doc = submitted();
    doc.transact(|tx| tx.put(automerge::ROOT, "status", "declined"))
        .expect("raw edit");
    assert!(matches!(
        model::validate(&doc),
        Err(SchemaError::Field { ref path, .. }) if path == "decision"
    ));
}
