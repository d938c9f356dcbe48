//! Tests of the agreement (parties, signatories, dates, scan, signing that freezes it), the
//! leader, and categorised recommendations.

use automerge::Automerge;

use super::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::testing::{at, day, editor, fork_as, merged, new_pzk};
use crate::model::validate;

fn rule(err: SchemaError) -> RuleViolation {
    match err {
        SchemaError::Rule(rule) => rule,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

fn mayor() -> Signatory {
    Signatory {
        person: "Jan Kowalski".to_owned(),
        institution: "Gmina Przykładowo".to_owned(),
        function: "Wójt".to_owned(),
        signed_at: at(11),
    }
}

/// A draft agreement with two parties and a signatory, ready to sign.
fn ready_to_sign() -> Automerge {
    let mut doc = new_pzk();
    let ewa = editor("ewa");
    set_agreement_party(&mut doc, "gmina", "Gmina Przykładowo", &ewa, at(10)).expect("party");
    set_agreement_party(&mut doc, "szkola", "Szkoła Podstawowa nr 1", &ewa, at(10)).expect("party");
    set_signatory(&mut doc, "s1", &mayor(), &ewa, at(11)).expect("signatory");
    doc
}

fn signed() -> Automerge {
    let mut doc = ready_to_sign();
    set_agreement_status(&mut doc, AgreementStatus::Signed, &editor("ewa"), at(12))
        .expect("signed");
    doc
}

#[test]
fn parties_signatories_and_dates_are_recorded() {
    let mut doc = ready_to_sign();
    let dates = AgreementDates {
        concluded_on: Some(day(3, 1)),
        valid_from: Some(day(3, 1)),
        valid_to: Some(day(12, 31)),
    };
    set_agreement_dates(&mut doc, &dates, &editor("ewa"), at(12)).expect("dates");
    let agreement = read_pzk(&doc).expect("reads").agreement;
    assert_eq!(agreement.parties.len(), 2);
    assert_eq!(agreement.parties["szkola"], "Szkoła Podstawowa nr 1");
    assert_eq!(agreement.signatories["s1"], mayor());
    assert_eq!(agreement.dates, dates);
    assert_eq!(agreement.signed, None);
    validate(&doc).expect("valid");
}

#[test]
fn an_agreement_ending_before_it_starts_is_refused() {
    let mut doc = new_pzk();
    let dates = AgreementDates {
        concluded_on: None,
        valid_from: Some(day(6, 1)),
        valid_to: Some(day(5, 31)),
    };
    let err = set_agreement_dates(&mut doc, &dates, &editor("ewa"), at(12)).expect_err("order");
    assert_eq!(rule(err), RuleViolation::AgreementDatesOrder);
}

#[test]
fn signing_needs_text_parties_and_a_signatory() {
    let mut doc = new_pzk();
    let ewa = editor("ewa");
    let sign = |doc: &mut Automerge| {
        set_agreement_status(doc, AgreementStatus::Signed, &ewa, at(12)).expect_err("refused")
    };
    assert_eq!(
        rule(sign(&mut doc)),
        RuleViolation::AgreementIncomplete("parties")
    );
    set_agreement_party(&mut doc, "gmina", "Gmina", &ewa, at(10)).expect("party");
    assert_eq!(
        rule(sign(&mut doc)),
        RuleViolation::AgreementIncomplete("signatories")
    );
    set_signatory(&mut doc, "s1", &mayor(), &ewa, at(11)).expect("signatory");
    set_agreement_text(&mut doc, "  ", &ewa, at(11)).expect("text");
    assert_eq!(
        rule(sign(&mut doc)),
        RuleViolation::AgreementIncomplete("text")
    );
}

#[test]
fn the_signed_version_is_frozen() {
    let mut doc = signed();
    let ewa = editor("ewa");
    let agreement = read_pzk(&doc).expect("reads").agreement;
    let version = agreement.signed.expect("a signed version");
    assert_eq!(version.text, "Porozumienie o współpracy.");
    assert_eq!(version.parties, agreement.parties);
    assert_eq!((version.by.as_str(), version.at), ("ewa", at(12)));

    let refused = [
        set_agreement_text(&mut doc, "Inna treść.", &ewa, at(13)),
        set_agreement_party(&mut doc, "policja", "KPP", &ewa, at(13)),
        set_agreement_party(&mut doc, "gmina", "Gmina Inna", &ewa, at(13)),
        remove_agreement_party(&mut doc, "szkola", &ewa, at(13)),
    ];
    for result in refused {
        assert_eq!(
            rule(result.expect_err("frozen")),
            RuleViolation::AgreementFrozen
        );
    }
    // Signing again changes nothing of the signed version.
    set_agreement_status(&mut doc, AgreementStatus::Signed, &ewa, at(14)).expect("again");
    assert_eq!(
        read_pzk(&doc)
            .expect("reads")
            .agreement
            .signed
            .expect("signed")
            .at,
        at(12)
    );
}

#[test]
fn signatories_dates_and_the_scan_may_follow_the_signing() {
    let mut doc = signed();
    let ewa = editor("ewa");
    let second = Signatory {
        person: "Anna Nowak".to_owned(),
        institution: "Szkoła Podstawowa nr 1".to_owned(),
        function: "Dyrektor".to_owned(),
        signed_at: at(15),
    };
    set_signatory(&mut doc, "s2", &second, &ewa, at(15)).expect("second signatory");
    let scan = AgreementScan {
        sha256: "ab".repeat(32),
        mime: "application/pdf".to_owned(),
        size: 120_000,
        name: "porozumienie.pdf".to_owned(),
    };
    attach_agreement_scan(&mut doc, &scan, &ewa, at(16)).expect("scan");
    let view = read_pzk(&doc).expect("reads");
    assert_eq!(view.agreement.signatories.len(), 2);
    assert_eq!(view.agreement.scan, Some(scan));
    assert_eq!(
        referenced_blobs(&doc).expect("blobs"),
        vec!["ab".repeat(32)]
    );
    validate(&doc).expect("valid");
}

#[test]
fn a_scan_that_is_not_a_pdf_or_photo_is_refused() {
    let mut doc = new_pzk();
    let scan = AgreementScan {
        sha256: "ab".repeat(32),
        mime: "application/zip".to_owned(),
        size: 10,
        name: "x.zip".to_owned(),
    };
    let err = attach_agreement_scan(&mut doc, &scan, &editor("ewa"), at(16)).expect_err("zip");
    assert!(matches!(err, SchemaError::Field { .. }), "{err:?}");
}

#[test]
fn an_offline_edit_merged_after_signing_breaks_the_document() {
    let base = ready_to_sign();
    let mut offline = fork_as(&base, "offline-tablet");
    set_agreement_text(&mut offline, "Zmieniona treść.", &editor("ewa"), at(13))
        .expect("edited offline before seeing the signing");
    let mut signing = fork_as(&base, "ewa-laptop-2");
    set_agreement_status(
        &mut signing,
        AgreementStatus::Signed,
        &editor("ewa"),
        at(12),
    )
    .expect("signed");
    validate(&signing).expect("the signed document is valid");
    let merged = merged(&signing, &offline);
    let err = validate(&merged).expect_err("the signed version changed");
    assert_eq!(rule(err), RuleViolation::AgreementFrozen);
    assert_eq!(err_code(&merged), "agreement.frozen");
}

fn err_code(doc: &Automerge) -> &'static str {
    use crate::catalogue::Coded;
    validate(doc).expect_err("invalid").code()
}

#[test]
fn the_leader_is_named_without_being_a_user() {
    let mut doc = new_pzk();
    let ewa = editor("ewa");
    let leader = Leader {
        label: "Rodzina liderska z Przykładowa".to_owned(),
        note: "Prowadzi grupę wsparcia rodziców.".to_owned(),
    };
    set_leader(&mut doc, &leader, &ewa, at(10)).expect("named");
    assert_eq!(read_pzk(&doc).expect("reads").leader, Some(leader));
    let two_lines = Leader {
        label: "Kowalscy\nul. Polna 1".to_owned(),
        note: String::new(),
    };
    assert!(set_leader(&mut doc, &two_lines, &ewa, at(11)).is_err());
    let too_long = Leader {
        label: "x".repeat(MAX_LEADER_LABEL + 1),
        note: String::new(),
    };
    assert!(set_leader(&mut doc, &too_long, &ewa, at(11)).is_err());
    clear_leader(&mut doc, &ewa, at(12)).expect("removed");
    assert_eq!(read_pzk(&doc).expect("reads").leader, None);
}

#[test]
fn recommendations_carry_a_category_and_the_9_2_link() {
    let mut doc = new_pzk();
    let ewa = editor("ewa");
    for (id, category, decision_9_2) in [
        ("r1", RecommendationCategory::Legal, false),
        ("r2", RecommendationCategory::Organisational, true),
    ] {
        let recommendation = Recommendation {
            text: format!("Rekomendacja {id}"),
            category,
            decision_9_2,
        };
        add_recommendation(&mut doc, id, &recommendation, &ewa, at(10)).expect("added");
    }
    let view = read_pzk(&doc).expect("reads");
    assert_eq!(
        view.recommendations["r1"].category,
        Some(RecommendationCategory::Legal)
    );
    assert!(!view.recommendations["r1"].decision_9_2);
    assert!(view.recommendations["r2"].decision_9_2);
}

#[test]
fn a_29_month_schedule_fits_the_work_plan() {
    let mut doc = new_pzk();
    let step = Milestone {
        step: "K6.2".to_owned(),
        month: 29,
        title: "Ewaluacja po przedłużeniu (COVID)".to_owned(),
    };
    upsert_milestone(&mut doc, "w29", &step, &editor("ewa"), at(10)).expect("month 29");
    assert_eq!(
        read_pzk(&doc).expect("reads").work_plan["w29"]
            .milestone
            .month,
        29
    );
}
