//! Tests of consultations addressed to an institution through the PZK.

use automerge::Automerge;

use super::addressed::{addressed_entries, ask_institution};
use super::case::read_case;
use super::consultation::{Answer, ConsultationRequest};
use super::pzk::{self, answer_consultation, read_pzk, InstitutionSector, Member, MemberRole};
use super::testing::{actor, at, editor, fork_as, new_case, new_pzk};
use crate::error::SchemaError;
use crate::violation::RuleViolation;
use crate::DocumentId;

const CASE: [u8; 16] = [7; 16];
const PZK: [u8; 16] = [9; 16];

fn request() -> ConsultationRequest {
    ConsultationRequest {
        asked_by: "anna".to_owned(),
        institution: "gops".to_owned(),
        question: "Czy Ola bywa w szkole głodna?".to_owned(),
    }
}

/// A PZK document whose team has the school `sp-1`.
fn team() -> Automerge {
    let mut doc = new_pzk();
    let school = Member {
        name: "Szkoła Podstawowa nr 1".to_owned(),
        sector: InstitutionSector::Education,
        role: MemberRole::Member,
    };
    pzk::upsert_member(&mut doc, "sp-1", &school, &editor("ewa"), at(9)).expect("member");
    doc
}

fn asked() -> (Automerge, Automerge) {
    let (mut case, mut pzk) = (new_case(), team());
    let (case_id, pzk_id) = (DocumentId::from_bytes(CASE), DocumentId::from_bytes(PZK));
    ask_institution(
        &mut case,
        &case_id,
        &mut pzk,
        &pzk_id,
        "k1",
        "sp-1",
        &request(),
        at(10),
    )
    .expect("asked");
    (case, pzk)
}

fn rule(err: SchemaError) -> RuleViolation {
    match err {
        SchemaError::Rule(rule) => rule,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

#[test]
fn a_consultation_asked_of_an_institution_is_linked_and_names_the_case_by_its_id_only() {
    let (case, pzk) = asked();
    let in_pzk = &read_pzk(&pzk).expect("reads").consultations["k1"];
    assert_eq!(in_pzk.case_ref, DocumentId::from_bytes(CASE).to_string());
    assert_eq!(in_pzk.to.as_deref(), Some("sp-1"));
    assert_eq!(in_pzk.consultation.request, request());
    let in_case = &read_case(&case).expect("reads").consultations["k1"];
    let link = in_case.addressed.as_ref().expect("linked");
    assert_eq!(
        (
            link.pzk.as_str(),
            link.consultation.as_str(),
            link.to.as_str()
        ),
        (
            DocumentId::from_bytes(PZK).to_string().as_str(),
            "k1",
            "sp-1"
        )
    );
    assert!(super::validate(&case).is_ok() && super::validate(&pzk).is_ok());
}

#[test]
fn only_a_member_institution_is_asked_and_nothing_is_written_otherwise() {
    let (mut case, mut pzk) = (new_case(), team());
    let (case_heads, pzk_heads) = (case.get_heads(), pzk.get_heads());
    let (case_id, pzk_id) = (DocumentId::from_bytes(CASE), DocumentId::from_bytes(PZK));
    let err = ask_institution(
        &mut case,
        &case_id,
        &mut pzk,
        &pzk_id,
        "k1",
        "policja",
        &request(),
        at(10),
    )
    .expect_err("not a member");
    assert_eq!(
        rule(err),
        RuleViolation::ConsultationToNonMember("policja".to_owned())
    );
    assert_eq!((case.get_heads(), pzk.get_heads()), (case_heads, pzk_heads));
}

#[test]
fn only_the_institution_asked_answers_and_the_server_sees_who_wrote_each_entry() {
    let (_, pzk) = asked();
    let mut school = fork_as(&pzk, "pedagog-phone");
    let mut gops = fork_as(&pzk, "anna-tablet");
    let answer = |by: &str, institution: &str| Answer {
        by: by.to_owned(),
        institution: institution.to_owned(),
        text: "Tak, od października.".to_owned(),
    };
    let err = answer_consultation(&mut gops, "k1", "a1", &answer("anna", "gops"), at(11))
        .expect_err("not addressed to the GOPS");
    assert_eq!(
        rule(err),
        RuleViolation::ConsultationNotAddressed("sp-1".to_owned())
    );
    answer_consultation(&mut school, "k1", "a1", &answer("pedagog", "sp-1"), at(11))
        .expect("answered");
    let view = read_pzk(&school).expect("reads");
    assert_eq!(
        view.consultations["k1"].consultation.answers["a1"]
            .answer
            .by,
        "pedagog"
    );

    let entries = addressed_entries(&school).expect("entries");
    let keys: Vec<(&str, &str, bool)> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.by.as_str(), e.answer))
        .collect();
    assert_eq!(keys, [("k1", "anna", false), ("k1/a1", "pedagog", true)]);
    assert_eq!(entries[1].actor, Some(actor("pedagog-phone")));
    assert!(entries.iter().all(|e| e.to == "sp-1"));
}
