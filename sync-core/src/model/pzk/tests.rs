//! Tests of the PZK document's edits and readers: the team, its plan, services and meetings,
//! consultations by pseudonym, and concurrent edits.

use automerge::transaction::Transactable;
use automerge::Automerge;

use super::layout::{key, open_pzk};
use super::*;
use crate::error::SchemaError;
use crate::model::consultation::{Answer, ConsultationRequest};
use crate::model::testing::{at, editor, fork_as, merged, new_case, new_pzk};
use crate::model::validate;
use crate::model::Conflict;

fn view(doc: &Automerge) -> PzkView {
    read_pzk(doc).expect("the PZK document reads back")
}

fn school() -> Member {
    Member {
        name: "Szkoła Podstawowa nr 1".to_owned(),
        sector: InstitutionSector::Education,
        role: MemberRole::Member,
    }
}

fn day_centre() -> ServiceEntry {
    ServiceEntry {
        description: "Afternoon homework club.".to_owned(),
        provider: "swietlica".to_owned(),
        sector: InstitutionSector::DayCentre,
        capacity: Some(12),
        remote_capable: false,
    }
}

fn with_meeting() -> Automerge {
    let mut doc = new_pzk();
    let plan = MeetingPlan {
        date: at(14),
        mode: MeetingMode::Remote,
        link: Some("https://meet.example.pl/pzk-m1".to_owned()),
    };
    schedule_meeting(&mut doc, "m1", &plan, &editor("ewa"), at(10)).expect("scheduled");
    doc
}

fn request() -> ConsultationRequest {
    ConsultationRequest {
        asked_by: "anna".to_owned(),
        institution: "gops".to_owned(),
        question: "Who can offer tutoring?".to_owned(),
    }
}

fn field_path(err: &SchemaError) -> &str {
    match err {
        SchemaError::Field { path, .. } => path,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_new_pzk_has_a_draft_agreement_and_empty_containers() {
    let pzk = view(&new_pzk());
    assert_eq!(
        (pzk.name.as_str(), pzk.animator.as_str()),
        ("PZK Gminy Przykładowo", "ewa")
    );
    assert_eq!(pzk.agreement.text, "Porozumienie o współpracy.");
    assert_eq!(
        pzk.agreement.status,
        Conflict::settled(AgreementStatus::Draft)
    );
    assert!(pzk.members.is_empty() && pzk.work_plan.is_empty() && pzk.meetings.is_empty());
    assert_eq!((pzk.decision_9_2, pzk.created_at), (None, at(9)));
}

#[test]
fn the_agreement_is_edited_and_signed() {
    let mut doc = new_pzk();
    set_agreement_text(
        &mut doc,
        "Porozumienie o współpracy w PZK.",
        &editor("ewa"),
        at(10),
    )
    .expect("text");
    set_agreement_party(
        &mut doc,
        "gmina",
        "Gmina Przykładowo",
        &editor("ewa"),
        at(10),
    )
    .expect("party");
    let signatory = Signatory {
        person: "Jan Kowalski".to_owned(),
        institution: "Gmina Przykładowo".to_owned(),
        function: "Wójt".to_owned(),
        signed_at: at(11),
    };
    set_signatory(&mut doc, "s1", &signatory, &editor("ewa"), at(11)).expect("signatory");
    set_agreement_status(&mut doc, AgreementStatus::Signed, &editor("ewa"), at(11))
        .expect("status");
    let agreement = view(&doc).agreement;
    assert_eq!(agreement.text, "Porozumienie o współpracy w PZK.");
    assert_eq!(
        agreement_status(&doc).expect("status").value,
        AgreementStatus::Signed
    );
}

#[test]
fn members_and_representatives_are_kept_by_id() {
    let mut doc = new_pzk();
    upsert_member(&mut doc, "sp-1", &school(), &editor("ewa"), at(10)).expect("member");
    let rep = Representative {
        name: "Jan Nowak".to_owned(),
        function: "pedagog szkolny".to_owned(),
    };
    set_representative(&mut doc, "sp-1", "jan", &rep, &editor("ewa"), at(11))
        .expect("representative");
    set_representative(&mut doc, "sp-1", "ola", &rep, &editor("ewa"), at(11))
        .expect("representative");
    let mut changed = school();
    changed.role = MemberRole::Lead;
    upsert_member(&mut doc, "sp-1", &changed, &editor("ewa"), at(12)).expect("updated");
    remove_representative(&mut doc, "sp-1", "ola", &editor("ewa"), at(13)).expect("removed");
    let member = &view(&doc).members["sp-1"];
    assert_eq!(member.member, changed);
    assert_eq!(member.representatives.keys().collect::<Vec<_>>(), ["jan"]);
    assert_eq!(member.representatives["jan"], rep);
    assert!(remove_representative(&mut doc, "sp-1", "ola", &editor("ewa"), at(14)).is_err());
    assert!(set_representative(&mut doc, "police", "jan", &rep, &editor("ewa"), at(14)).is_err());
}

#[test]
fn milestones_follow_a_plan_of_any_length() {
    let mut doc = new_pzk();
    let mut milestone = Milestone {
        step: "K6.2".to_owned(),
        month: 1,
        title: "Work plan agreed".to_owned(),
    };
    upsert_milestone(&mut doc, "ms1", &milestone, &editor("ewa"), at(10)).expect("milestone");
    set_milestone_status(
        &mut doc,
        "ms1",
        MilestoneStatus::Done,
        &editor("ewa"),
        at(11),
    )
    .expect("done");
    milestone.month = 2;
    upsert_milestone(&mut doc, "ms1", &milestone, &editor("ewa"), at(12)).expect("moved");
    let view = &view(&doc).work_plan["ms1"];
    assert_eq!(view.milestone, milestone);
    assert_eq!(view.status, Conflict::settled(MilestoneStatus::Done));
    assert_eq!(
        milestone_status(&doc, "ms1").expect("status").value,
        MilestoneStatus::Done
    );

    // The seeds' schedule, extended for COVID, runs 29 months.
    milestone.month = 29;
    upsert_milestone(&mut doc, "ms29", &milestone, &editor("ewa"), at(13)).expect("month 29");
    let read = read_pzk(&doc).expect("reads");
    assert_eq!(read.work_plan["ms29"].milestone.month, 29);
    milestone.month = 0;
    let err =
        upsert_milestone(&mut doc, "ms2", &milestone, &editor("ewa"), at(13)).expect_err("month");
    assert_eq!(field_path(&err), "workPlan/ms2/month");
    milestone.month = 3;
    milestone.step = "step six".to_owned();
    let err =
        upsert_milestone(&mut doc, "ms2", &milestone, &editor("ewa"), at(13)).expect_err("step");
    assert_eq!(field_path(&err), "workPlan/ms2/step");
}

#[test]
fn steps_and_case_references_are_recognised() {
    for (step, ok) in [
        ("K1", true),
        ("K6.2", true),
        ("K7.2.8", true),
        ("K10", true),
        ("K11", false),
        ("K0", false),
        ("K06", false),
        ("K6.", false),
        ("6.2", false),
        ("K+1", false),
    ] {
        assert_eq!(is_step(step), ok, "{step}");
    }
    for (case_ref, ok) in [
        ("R-2021/017", true),
        ("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu", true),
        ("Jan Kowalski", false),
        ("", false),
        ("Łucja", false),
    ] {
        assert_eq!(is_case_ref(case_ref), ok, "{case_ref}");
    }
}

#[test]
fn services_are_updated_and_retired_never_deleted() {
    let mut doc = new_pzk();
    upsert_service(&mut doc, "svc-1", &day_centre(), &editor("ewa"), at(10)).expect("service");
    let mut entry = day_centre();
    entry.description = "Afternoon homework club, also online.".to_owned();
    entry.capacity = None;
    entry.remote_capable = true;
    upsert_service(&mut doc, "svc-1", &entry, &editor("ewa"), at(11)).expect("updated");
    retire_service(&mut doc, "svc-1", &editor("ewa"), at(12)).expect("retired");
    let service = &view(&doc).services["svc-1"];
    assert_eq!((&service.entry, service.retired), (&entry, true));
    assert!(retire_service(&mut doc, "svc-9", &editor("ewa"), at(12)).is_err());
}

#[test]
fn meetings_hold_agenda_attendance_minutes_and_decisions() {
    let mut doc = with_meeting();
    let item = AgendaItem {
        title: "Services list update".to_owned(),
        order: 1,
    };
    set_agenda_item(&mut doc, "m1", "i1", &item, &editor("ewa"), at(11)).expect("agenda");
    record_attendance(
        &mut doc,
        "m1",
        "jan",
        Attendance::Video,
        &editor("ewa"),
        at(14),
    )
    .expect("jan");
    record_attendance(
        &mut doc,
        "m1",
        "ola",
        Attendance::Absent,
        &editor("ewa"),
        at(14),
    )
    .expect("ola");
    set_minutes(
        &mut doc,
        "m1",
        "The list was updated.",
        &editor("ewa"),
        at(15),
    )
    .expect("minutes");
    record_decision(
        &mut doc,
        "m1",
        "d1",
        "Add tutoring.",
        &editor("ewa"),
        at(15),
    )
    .expect("decision");
    assert!(record_decision(&mut doc, "m1", "d1", "Again.", &editor("ewa"), at(15)).is_err());
    let moved = MeetingPlan {
        date: at(16),
        mode: MeetingMode::Mixed,
        link: None,
    };
    schedule_meeting(&mut doc, "m1", &moved, &editor("ewa"), at(12)).expect("moved");

    let meeting = &view(&doc).meetings["m1"];
    assert_eq!(meeting.plan, moved);
    assert_eq!(meeting.agenda["i1"], item);
    assert_eq!(
        meeting.attendance["jan"],
        Conflict::settled(Attendance::Video)
    );
    assert_eq!(meeting.attendance["ola"].value, Attendance::Absent);
    assert_eq!(meeting.minutes, "The list was updated.");
    assert_eq!(meeting.decisions["d1"].text, "Add tutoring.");
    assert_eq!(meeting.decisions["d1"].at, at(15));
}

#[test]
fn concurrent_attendance_records_are_a_conflict() {
    let base = with_meeting();
    let mut ewa = fork_as(&base, "ewa-laptop-2");
    let mut doradca = fork_as(&base, "doradca");
    record_attendance(
        &mut ewa,
        "m1",
        "jan",
        Attendance::Phone,
        &editor("ewa"),
        at(14),
    )
    .expect("ewa");
    record_attendance(
        &mut doradca,
        "m1",
        "jan",
        Attendance::Video,
        &editor("doradca"),
        at(14),
    )
    .expect("doradca");
    let one = view(&merged(&ewa, &doradca));
    let two = view(&merged(&doradca, &ewa));
    assert_eq!(one.meetings["m1"].attendance, two.meetings["m1"].attendance);
    assert_eq!(
        one.conflicts(),
        vec!["meetings/m1/attendance/jan".to_owned()]
    );
}

#[test]
fn consultations_name_cases_only_by_pseudonym() {
    let mut doc = with_meeting();
    let err = open_consultation(&mut doc, "k1", "Jan Kowalski", None, &request(), at(10))
        .expect_err("a name is not a pseudonym");
    assert_eq!(field_path(&err), "consultations/k1/caseRef");
    assert!(open_consultation(&mut doc, "k1", "R-017", Some("m9"), &request(), at(10)).is_err());
    open_consultation(&mut doc, "k1", "R-017", Some("m1"), &request(), at(10)).expect("opened");
    let answer = Answer {
        by: "jan".to_owned(),
        institution: "sp-1".to_owned(),
        text: "The school's volunteers.".to_owned(),
    };
    answer_consultation(&mut doc, "k1", "a1", &answer, at(11)).expect("answered");
    let consultation = &view(&doc).consultations["k1"];
    assert_eq!(
        (
            consultation.case_ref.as_str(),
            consultation.meeting.as_deref()
        ),
        ("R-017", Some("m1"))
    );
    assert_eq!(consultation.consultation.request, request());
    assert_eq!(consultation.consultation.answers["a1"].answer, answer);
    validate(&doc).expect("valid");
}

#[test]
fn the_9_2_decision_and_recommendations_are_recorded() {
    let mut doc = with_meeting();
    set_decision_9_2(
        &mut doc,
        TeamDecision::Continue,
        "Families need it.",
        Some("m1"),
        &editor("ewa"),
        at(12),
    )
    .expect("decided");
    let recommendation = Recommendation {
        text: "Fund the tutoring.".to_owned(),
        category: RecommendationCategory::Services,
        decision_9_2: true,
    };
    add_recommendation(&mut doc, "r1", &recommendation, &editor("ewa"), at(13)).expect("added");
    assert!(add_recommendation(&mut doc, "r1", &recommendation, &editor("ewa"), at(13)).is_err());
    let pzk = view(&doc);
    let decision = pzk.decision_9_2.expect("a decision");
    assert_eq!(decision.decision, Conflict::settled(TeamDecision::Continue));
    assert_eq!(
        (decision.rationale.as_str(), decision.meeting.as_deref()),
        ("Families need it.", Some("m1"))
    );
    let r1 = &pzk.recommendations["r1"];
    assert_eq!(
        (r1.entry.by.as_str(), r1.entry.text.as_str()),
        ("ewa", "Fund the tutoring.")
    );
    assert_eq!(r1.category, Some(RecommendationCategory::Services));
    assert!(r1.decision_9_2);
}

#[test]
fn pzk_edits_refuse_a_case() {
    let mut doc = new_case();
    let err =
        upsert_member(&mut doc, "sp-1", &school(), &editor("ewa"), at(10)).expect_err("a case");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
}

#[test]
fn a_month_out_of_range_written_raw_is_refused() {
    let mut doc = new_pzk();
    let milestone = Milestone {
        step: "K5".to_owned(),
        month: 5,
        title: "PZK set up".to_owned(),
    };
    upsert_milestone(&mut doc, "ms1", &milestone, &editor("ewa"), at(10)).expect("milestone");
    let map = open_pzk(&doc)
        .and_then(|root| root.map(key::WORK_PLAN)?.map("ms1"))
        .expect("the milestone's map")
        .id();
    doc.transact(|tx| tx.put(&map, key::MONTH, 121u64))
        .expect("raw edit");
    let err = validate(&doc).expect_err("month 121");
    assert_eq!(field_path(&err), "workPlan/ms1/month");
}
