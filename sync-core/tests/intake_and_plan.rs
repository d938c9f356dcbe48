//! The case workflow (Model Kooperacji, K7.2 to 7.4), from referral to plan: the referral with
//! its household, screening and its decision, the diagnosis written by each sector at once, and
//! the IPP's SMART goals. The Nowak family's story and fixtures live in
//! `kooperacja-test-support` (`nowak`).

use kooperacja_test_support::nowak::*;
use sync_core::model::case::{self, DiagnosisSector, GoalStatus, ScreeningOutcome, Stage};
use sync_core::model::{validate, workflow, Conflict, DocumentKind};

// Operations

#[test]
fn referral_records_who_why_when_and_the_household() {
    let doc = referral();
    let view = case::read_case(&doc).expect("reads");
    assert_eq!(view.stage, Conflict::settled(Stage::Referral));
    assert_eq!(
        (
            view.referral.by.as_str(),
            view.referral.institution.as_str()
        ),
        ("jan", "sp-1")
    );
    assert_eq!(
        view.referral.reason,
        "Kuba misses school often; his mother is ill."
    );
    assert_eq!(view.referral.at, march(1, 8));
    assert_eq!(view.household, household());
    assert_eq!(validate(&doc).expect("valid"), DocumentKind::Case);
}

#[test]
fn screening_records_the_decision_with_its_reason() {
    let mut doc = walk_to(Stage::Screening);
    let reason = rule_reason(case::set_screening(
        &mut doc,
        ScreeningOutcome::Qualified,
        "  ",
        &anna(),
        march(1, 10),
    ));
    assert!(reason.contains("reason"), "{reason}");
    qualify(&mut doc);
    let screening = case::read_case(&doc).expect("reads").screening;
    assert_eq!(
        screening.outcome,
        Some(Conflict::settled(ScreeningOutcome::Qualified))
    );
    assert_eq!(
        screening.notes,
        "Several needs; the family agrees to work with the PZK."
    );
    assert_eq!(
        (screening.by.as_deref(), screening.at),
        (Some("anna"), Some(march(1, 10)))
    );
}

#[test]
fn a_screening_decision_in_conflict_blocks_the_move_until_settled() {
    let base = walk_to(Stage::Screening);
    let mut gops = fork_as(&base, "anna-tablet-2");
    let mut school = fork_as(&base, "jan-tablet");
    qualify(&mut gops);
    case::set_screening(
        &mut school,
        ScreeningOutcome::NotQualified,
        "The school can help alone.",
        &jan(),
        march(1, 10),
    )
    .expect("screened");
    merge(&mut gops, &school);
    let reason = rule_reason(workflow::transition(
        &mut gops,
        Stage::Diagnosis,
        &anna(),
        march(1, 11),
    ));
    assert!(
        reason.contains("screening decision is in conflict"),
        "{reason}"
    );

    qualify(&mut gops);
    workflow::transition(&mut gops, Stage::Diagnosis, &anna(), march(1, 12)).expect("moved");
    validate(&gops).expect("valid");
}

#[test]
fn diagnosis_sections_are_written_concurrently_by_each_sector() {
    let base = walk_to(Stage::Diagnosis);
    let mut gops = fork_as(&base, "anna-tablet-2");
    let mut school = fork_as(&base, "jan-tablet");
    let mut health = fork_as(&base, "ola-tablet");
    case::set_diagnosis_section(
        &mut gops,
        DiagnosisSector::Family,
        "Single mother, one son.",
        &anna(),
        march(2, 9),
    )
    .expect("family");
    case::set_diagnosis_section(
        &mut school,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        march(2, 9),
    )
    .expect("education");
    case::set_diagnosis_section(
        &mut health,
        DiagnosisSector::Health,
        "Mother: chronic illness.",
        &ola(),
        march(2, 9),
    )
    .expect("health");
    merge(&mut gops, &school);
    merge(&mut gops, &health);
    let diagnosis = case::read_case(&gops).expect("reads").diagnosis;
    assert_eq!(
        diagnosis[&DiagnosisSector::Family],
        "Single mother, one son."
    );
    assert_eq!(
        diagnosis[&DiagnosisSector::Education],
        "Absent 30% of days."
    );
    assert_eq!(
        diagnosis[&DiagnosisSector::Health],
        "Mother: chronic illness."
    );
}

#[test]
fn ipp_goals_are_smart_with_responsible_status_and_services() {
    let mut doc = walk_to(Stage::Ipp);
    add_goal(&mut doc);
    case::set_goal_status(
        &mut doc,
        "g-school",
        GoalStatus::InProgress,
        &jan(),
        march(2, 9),
    )
    .expect("status");
    let goal_view = &case::read_case(&doc).expect("reads").goals["g-school"];
    assert_eq!(goal_view.plan, goal("Regular school attendance", "sp-1"));
    assert_eq!(goal_view.plan.deadline, date(6, 25));
    assert_eq!(goal_view.status, Conflict::settled(GoalStatus::InProgress));
    assert!(goal_view.plan.services.contains("svc-day-centre"));
}
