//! The case workflow's story (the Model Kooperacji, K7.2 to 9.3), as the sync-core tests tell
//! it: the Nowak family, referred by the school; Anna of the GOPS who owns the case, Jan of the
//! school, Ola of the health centre, Marta the PZK's animator; fixed times in 2021; and each
//! step a case takes on its way (screening, diagnosis, a goal, the contract, evaluation, the
//! PZK's decision, hand-over), each one Automerge change by a named person.
//!
//! [`CaseFixture`](crate::CaseFixture) builds cases from these; [`crate::nowak`] gathers the
//! story under one import.

use std::collections::BTreeMap;

use automerge::{ActorId, Automerge};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sync_core::model::case::{
    self, ContactMode, DiagnosisSector, GoalPlan, HandoverTarget, HouseholdMember, MonitoringNote,
    PzkDecision, ScreeningOutcome, Signature, SigningMode, Stage,
};
use sync_core::model::pzk::{self, InstitutionSector, PzkInit, ServiceEntry};
use sync_core::model::{validate, workflow, DocumentKind, Editor};
use sync_core::SchemaError;

/// A fixed time in 2021: `day` of `month` at `hour`:00 UTC.
pub fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, month, day, hour, 0, 0)
        .single()
        .expect("a valid fixed time")
}

/// A fixed time in March 2021 (winter time in Poland).
pub fn march(day: u32, hour: u32) -> DateTime<Utc> {
    at(3, day, hour)
}

pub fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, month, day).expect("a valid fixed date")
}

pub fn editor(login: &str, institution: &str) -> Editor {
    Editor::new(login, institution).expect("a valid editor")
}

/// Anna, the social worker (*pracownik socjalny*) of the GOPS who owns the case.
pub fn anna() -> Editor {
    editor("anna", "gops")
}

/// Jan, the school's pedagogue (*pedagog szkolny*) of primary school no. 1.
pub fn jan() -> Editor {
    editor("jan", "sp-1")
}

/// Ola, the nurse of the health centre (*POZ*).
pub fn ola() -> Editor {
    editor("ola", "poz")
}

/// Marta, the animator of the PZK.
pub fn marta() -> Editor {
    editor("marta", "gops")
}

pub fn actor(name: &str) -> ActorId {
    ActorId::from(name.as_bytes())
}

/// A copy of `doc` for another device, editing as `name`.
pub fn fork_as(doc: &Automerge, name: &str) -> Automerge {
    doc.fork().with_actor(actor(name))
}

/// Merges a copy of `from` into `into`, as a sync would, and checks the result as the server
/// does after every merge.
pub fn merge(into: &mut Automerge, from: &Automerge) {
    into.merge(&mut from.clone())
        .expect("forks of one case merge");
    assert_eq!(
        validate(into).expect("a merge of valid states is valid"),
        DocumentKind::Case
    );
}

/// Two devices sync both ways.
pub fn sync(a: &mut Automerge, b: &mut Automerge) {
    merge(a, b);
    merge(b, a);
    assert_eq!(a.get_heads(), b.get_heads());
}

/// Maria Nowak and her son Kuba.
pub fn household() -> BTreeMap<String, HouseholdMember> {
    [
        (
            "p1",
            HouseholdMember {
                name: "Maria Nowak".to_owned(),
                relation: "self".to_owned(),
                birth_date: Some(NaiveDate::from_ymd_opt(1988, 5, 2).expect("date")),
            },
        ),
        (
            "p2",
            HouseholdMember {
                name: "Kuba Nowak".to_owned(),
                relation: "son".to_owned(),
                birth_date: Some(NaiveDate::from_ymd_opt(2010, 9, 14).expect("date")),
            },
        ),
    ]
    .into_iter()
    .map(|(id, member)| (id.to_owned(), member))
    .collect()
}

pub fn goal(specific: &str, responsible: &str) -> GoalPlan {
    GoalPlan {
        specific: specific.to_owned(),
        measurable: "Absences under 10% a month".to_owned(),
        achievable: "Day centre after school, three days a week".to_owned(),
        relevant: "Kuba wants to pass the year with his class".to_owned(),
        deadline: date(6, 25),
        responsible: responsible.to_owned(),
        services: ["svc-day-centre".to_owned()].into(),
    }
}

pub fn in_person() -> Signature {
    Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::InPerson,
        consent_note: String::new(),
    }
}

pub fn by_video() -> Signature {
    Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::Video,
        consent_note: "Contract read aloud in a video call; Maria said she accepts it.".to_owned(),
    }
}

pub fn move_to(doc: &mut Automerge, to: Stage, hour: u32) {
    workflow::transition(doc, to, &anna(), march(2, hour))
        .unwrap_or_else(|err| panic!("move to {to}: {err}"));
}

/// Does what moving to `next` needs.
pub fn prepare_for(doc: &mut Automerge, next: Stage) {
    match next {
        Stage::Diagnosis => qualify(doc),
        Stage::Ipp => write_diagnosis(doc),
        Stage::Contract => add_goal(doc),
        Stage::Delivery => sign(doc),
        _ => {}
    }
}

pub fn qualify(doc: &mut Automerge) {
    case::set_screening(
        doc,
        ScreeningOutcome::Qualified,
        "Several needs; the family agrees to work with the PZK.",
        &anna(),
        march(1, 10),
    )
    .expect("screened");
}

pub fn not_qualify(doc: &mut Automerge) {
    case::set_screening(
        doc,
        ScreeningOutcome::NotQualified,
        "One need only, met by the school alone.",
        &anna(),
        march(1, 10),
    )
    .expect("screened");
}

pub fn write_diagnosis(doc: &mut Automerge) {
    case::set_diagnosis_section(
        doc,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        march(1, 11),
    )
    .expect("diagnosis written");
}

pub fn add_goal(doc: &mut Automerge) {
    case::upsert_goal(
        doc,
        "g-school",
        &goal("Regular school attendance", "sp-1"),
        &anna(),
        march(1, 12),
    )
    .expect("goal added");
}

pub fn sign(doc: &mut Automerge) {
    case::set_contract_text(
        doc,
        "Maria and Kuba: school every day.",
        &anna(),
        march(1, 13),
    )
    .expect("contract text");
    case::sign_contract(doc, &in_person(), &anna(), march(1, 14)).expect("signed");
}

pub fn evaluate(doc: &mut Automerge) {
    case::set_evaluation(doc, "Attendance goal met.", &anna(), march(3, 9)).expect("evaluated");
}

pub fn decide(doc: &mut Automerge, decision: PzkDecision) {
    case::set_pzk_decision(doc, decision, Some("m-12"), &marta(), march(3, 10)).expect("decided");
}

pub fn end_support(doc: &mut Automerge) {
    evaluate(doc);
    decide(doc, PzkDecision::End);
}

pub fn set_target(doc: &mut Automerge) {
    let target = HandoverTarget {
        institution: "pcpr".to_owned(),
        worker: Some("piotr".to_owned()),
    };
    case::set_handover(
        doc,
        &target,
        "PCPR continues family support.",
        &anna(),
        march(3, 11),
    )
    .expect("hand-over agreed");
}

pub fn amend_contract(doc: &mut Automerge) {
    case::set_contract_text(
        doc,
        "Maria and Kuba: school every day, day centre on Mondays.",
        &anna(),
        march(1, 15),
    )
    .expect("amended");
}

pub fn rule_reason(result: Result<impl std::fmt::Debug, SchemaError>) -> String {
    match result {
        Err(SchemaError::Rule(reason)) => reason.to_string(),
        other => panic!("expected a broken rule, got {other:?}"),
    }
}

/// Walks a case from referral to `stage` along the workflow with what entering each stage needs,
/// and no more: at `screening` no decision yet, at `diagnosis` no sector written, at `ipp` no
/// goal, at `contract` no contract text, at `evaluation` no evaluation and no 9.2 decision.
pub fn walk(doc: &mut Automerge, stage: Stage) {
    let path = [
        Stage::Screening,
        Stage::Diagnosis,
        Stage::Ipp,
        Stage::Contract,
        Stage::Delivery,
        Stage::Evaluation,
    ];
    for (hour, next) in (1..).zip(path) {
        if stage < next {
            break;
        }
        prepare_for(doc, next);
        move_to(doc, next, hour);
    }
    match stage {
        Stage::Closed => {
            end_support(doc);
            move_to(doc, Stage::Closed, 20);
        }
        Stage::HandedOver => {
            end_support(doc);
            set_target(doc);
            move_to(doc, Stage::HandedOver, 20);
        }
        _ => {}
    }
    assert_eq!(case::stage(doc).expect("stage").value, stage);
}

/// The PZK's document with its service basket: a day centre listed, a tutor listed and
/// retired (Marta, 1 March 2021).
pub fn pzk_with_services() -> Automerge {
    let init = PzkInit {
        actor: actor("marta-laptop"),
        name: "PZK Gminy Przykładowo".to_owned(),
        animator: "marta".to_owned(),
        agreement_text: "Porozumienie o współpracy.".to_owned(),
    };
    let mut pzk_doc = pzk::new_pzk(&init, march(1, 7)).expect("a PZK");
    for (id, provider) in [("svc-day-centre", "swietlica"), ("svc-tutor", "sp-1")] {
        let entry = ServiceEntry {
            description: format!("{id} for children"),
            provider: provider.to_owned(),
            sector: InstitutionSector::Education,
            capacity: Some(20),
            remote_capable: false,
        };
        pzk::upsert_service(
            &mut pzk_doc,
            id,
            &entry,
            &sync_core::model::Editor::new("marta", "gops").expect("editor"),
            march(1, 7),
        )
        .expect("listed");
    }
    pzk::retire_service(
        &mut pzk_doc,
        "svc-tutor",
        &sync_core::model::Editor::new("marta", "gops").expect("editor"),
        march(1, 8),
    )
    .expect("retired");
    pzk_doc
}

/// A monitoring note by `author`.
pub fn note(author: &Editor, mode: ContactMode, text: &str) -> MonitoringNote {
    MonitoringNote {
        author: author.login().to_owned(),
        institution: author.institution().to_owned(),
        mode,
        text: text.to_owned(),
    }
}
