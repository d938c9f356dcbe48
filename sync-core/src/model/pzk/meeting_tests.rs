//! Tests of the meetings' link, invitations and approved (frozen) minutes.

use automerge::transaction::Transactable;
use automerge::Automerge;

use super::layout::{key, open_pzk};
use super::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::message_by_login;
use crate::model::testing::{at, editor, fork_as, merged, new_pzk};
use crate::model::validate;

const LINK: &str = "https://meet.example.pl/pzk-m1?pwd=abc";

fn plan(link: Option<&str>) -> MeetingPlan {
    MeetingPlan {
        date: at(14),
        mode: MeetingMode::Remote,
        link: link.map(str::to_owned),
    }
}

fn rule(result: Result<(), SchemaError>) -> RuleViolation {
    match result {
        Err(SchemaError::Rule(rule)) => rule,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

/// A team with the school `sp-1` as a member and meeting `m1` scheduled with a link.
fn team_with_meeting() -> Automerge {
    let mut doc = new_pzk();
    let school = Member {
        name: "Szkoła Podstawowa nr 1".to_owned(),
        sector: InstitutionSector::Education,
        role: MemberRole::Member,
    };
    upsert_member(&mut doc, "sp-1", &school, &editor("ewa"), at(10)).expect("member");
    schedule_meeting(&mut doc, "m1", &plan(Some(LINK)), &editor("ewa"), at(10)).expect("m1");
    doc
}

/// [`team_with_meeting`] with minutes written and approved by the animator.
fn approved() -> Automerge {
    let mut doc = team_with_meeting();
    set_minutes(
        &mut doc,
        "m1",
        "Omówiono plan pracy.",
        &editor("ewa"),
        at(11),
    )
    .expect("minutes");
    approve_minutes(&mut doc, "m1", &editor("ewa"), at(12)).expect("approved");
    doc
}

/// The meeting node `m1`, for raw edits below the API.
fn m1(doc: &Automerge) -> crate::model::reader::Node<'_> {
    open_pzk(doc)
        .and_then(|root| root.map(key::MEETINGS))
        .and_then(|meetings| meetings.map("m1"))
        .expect("meeting m1")
}

fn meeting_view(doc: &Automerge) -> MeetingView {
    read_pzk(doc).expect("reads").meetings["m1"].clone()
}

#[test]
fn a_meeting_keeps_its_https_link_and_drops_it_when_moved_without_one() {
    let mut doc = team_with_meeting();
    assert_eq!(meeting_view(&doc).plan.link.as_deref(), Some(LINK));
    schedule_meeting(&mut doc, "m1", &plan(None), &editor("ewa"), at(11)).expect("moved");
    assert_eq!(meeting_view(&doc).plan.link, None);
    validate(&doc).expect("valid");
}

#[test]
fn only_https_links_are_accepted() {
    for bad in [
        "http://meet.example.pl/pzk",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://meet.example.pl/pzk m1",
        "https://meet.example.pl/\npzk",
        "meet.example.pl/pzk",
    ] {
        let mut doc = team_with_meeting();
        let refused = schedule_meeting(&mut doc, "m2", &plan(Some(bad)), &editor("ewa"), at(11));
        assert_eq!(rule(refused), RuleViolation::MeetingLinkInvalid, "{bad:?}");
        assert!(!is_meeting_link(bad), "{bad:?}");
    }
    assert!(!is_meeting_link(&format!(
        "https://a.pl/{}",
        "x".repeat(MAX_LINK_LEN)
    )));
    assert!(is_meeting_link(
        "https://teams.microsoft.com/l/meetup-join/19%3a"
    ));
}

#[test]
fn a_link_written_below_the_api_is_refused_by_validation() {
    let mut doc = team_with_meeting();
    let m1 = m1(&doc).id();
    doc.transact(|tx| tx.put(&m1, key::LINK, "http://phish.example/pzk"))
        .expect("raw edit");
    assert_eq!(
        rule(validate(&doc).map(|_| ())),
        RuleViolation::MeetingLinkInvalid
    );
}

#[test]
fn member_institutions_are_invited_once_and_others_are_refused() {
    let mut doc = team_with_meeting();
    invite_institution(&mut doc, "m1", "sp-1", &editor("ewa"), at(11)).expect("invited");
    invite_institution(&mut doc, "m1", "sp-1", &editor("ewa"), at(12)).expect("again");
    let invited = &meeting_view(&doc).invitations["sp-1"];
    assert_eq!((invited.by.as_str(), invited.at), ("ewa", at(11)));
    let refused = invite_institution(&mut doc, "m1", "policja", &editor("ewa"), at(12));
    assert_eq!(
        rule(refused),
        RuleViolation::InviteeNotMember("policja".to_owned())
    );
    assert_eq!(meeting_view(&doc).invitations.len(), 1);
}

#[test]
fn an_invitation_of_a_non_member_written_below_the_api_is_refused_by_validation() {
    let mut doc = team_with_meeting();
    let m1 = m1(&doc);
    let invitations = m1.map(key::INVITATIONS).expect("invitations").id();
    doc.transact(|tx| {
        let stamp = tx.put_object(&invitations, "policja", automerge::ObjType::Map)?;
        tx.put(&stamp, key::BY, "ewa")?;
        tx.put(&stamp, key::AT, automerge::ScalarValue::Timestamp(0))
    })
    .expect("raw edit");
    assert_eq!(
        rule(validate(&doc).map(|_| ())),
        RuleViolation::InviteeNotMember("policja".to_owned())
    );
}

#[test]
fn empty_minutes_are_not_approved() {
    let mut doc = team_with_meeting();
    let refused = approve_minutes(&mut doc, "m1", &editor("ewa"), at(12));
    assert_eq!(rule(refused), RuleViolation::MinutesEmpty);
}

#[test]
fn approved_minutes_freeze_the_meeting_for_every_edit() {
    let mut doc = approved();
    let approval = meeting_view(&doc).minutes_approved.expect("approved");
    assert_eq!((approval.by.as_str(), approval.at), ("ewa", at(12)));
    validate(&doc).expect("an approved meeting is valid");
    let frozen = RuleViolation::MeetingFrozen("m1".to_owned());
    let (ewa, at13) = (editor("ewa"), at(13));
    let item = AgendaItem {
        title: "Wolne wnioski".to_owned(),
        order: 9,
    };
    let edits: Vec<Result<(), SchemaError>> = vec![
        set_minutes(&mut doc, "m1", "Inna treść.", &ewa, at13),
        record_attendance(&mut doc, "m1", "p1", Attendance::Video, &ewa, at13),
        set_agenda_item(&mut doc, "m1", "a9", &item, &ewa, at13),
        record_decision(&mut doc, "m1", "d1", "Ustalono.", &ewa, at13),
        invite_institution(&mut doc, "m1", "sp-1", &ewa, at13),
        schedule_meeting(&mut doc, "m1", &plan(None), &ewa, at13),
        approve_minutes(&mut doc, "m1", &ewa, at13),
    ];
    for edit in edits {
        assert_eq!(rule(edit), frozen);
    }
    // Another meeting is still open.
    schedule_meeting(&mut doc, "m2", &plan(None), &ewa, at13).expect("m2");
    set_minutes(&mut doc, "m2", "Nowe spotkanie.", &ewa, at13).expect("m2 minutes");
    validate(&doc).expect("valid");
}

#[test]
fn a_change_after_the_approval_written_below_the_api_is_refused_by_validation() {
    let mut doc = approved();
    let minutes = m1(&doc);
    let minutes = minutes.text_obj(key::MINUTES).expect("minutes").id();
    let message = message_by_login("meetings/m1/minutes: updated", "jan");
    let mut tx = doc.transaction();
    tx.splice_text(&minutes, 0, 0, "Dopisek. ").expect("splice");
    tx.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
    assert_eq!(
        rule(validate(&doc).map(|_| ())),
        RuleViolation::MeetingFrozen("m1".to_owned())
    );
}

#[test]
fn an_offline_edit_concurrent_with_the_approval_is_refused_when_merged() {
    let mut before = team_with_meeting();
    set_minutes(&mut before, "m1", "Omówiono plan.", &editor("ewa"), at(11)).expect("minutes");
    let mut member = fork_as(&before, "jan-laptop");
    record_attendance(
        &mut member,
        "m1",
        "p1",
        Attendance::Video,
        &editor("jan"),
        at(12),
    )
    .expect("offline attendance");
    let mut animator = before.clone();
    approve_minutes(&mut animator, "m1", &editor("ewa"), at(12)).expect("approved");
    let both = merged(&animator, &member);
    assert_eq!(
        rule(validate(&both).map(|_| ())),
        RuleViolation::MeetingFrozen("m1".to_owned())
    );
    // What the member did before the approval was synced is part of what was approved.
    let mut synced = merged(&before, &member);
    approve_minutes(&mut synced, "m1", &editor("ewa"), at(14)).expect("approved");
    validate(&synced).expect("valid");
}

#[test]
fn an_approval_in_someone_elses_name_is_refused_by_validation() {
    let mut doc = team_with_meeting();
    set_minutes(&mut doc, "m1", "Omówiono plan.", &editor("ewa"), at(11)).expect("minutes");
    let m1 = m1(&doc).id();
    let message = message_by_login("meetings/m1/minutes: approved", "jan");
    let mut tx = doc.transaction();
    let stamp = tx
        .put_object(&m1, key::MINUTES_APPROVED, automerge::ObjType::Map)
        .expect("raw");
    tx.put(&stamp, key::BY, "ewa").expect("raw");
    tx.put(&stamp, key::AT, automerge::ScalarValue::Timestamp(0))
        .expect("raw");
    tx.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
    match validate(&doc) {
        Err(SchemaError::Field { path, .. }) => {
            assert_eq!(path, "meetings/m1/minutesApproved/by");
        }
        other => panic!("expected the forged approval refused, got {other:?}"),
    }
}
