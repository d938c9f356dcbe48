//! Documents the case app's browser stories start from: the team's PZK document with its member
//! institutions (their sectors) and services list, and a family's case that its owner has
//! already taken to the delivery of services on her tablet, every change hers.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, Automerge};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sync_core::model::case::{
    self, workflow, CaseInit, DiagnosisSector, GoalPlan, HouseholdMember, Referral,
    ScreeningOutcome, Signature, SigningMode, Stage,
};
use sync_core::model::pzk::{
    self, InstitutionSector, Member, MemberRole, Representative, ServiceEntry,
};
use sync_core::model::Editor;

use crate::documents::new_team_doc;

/// The PZK service the stories put in a family's basket.
pub const TUTORING: &str = "korepetycje";

/// Team `pzk1`'s PZK document as its animator keeps it: the member institutions with their
/// sectors (the school's sector is what it writes in a diagnosis) and the services list.
pub fn app_team_document() -> Automerge {
    let mut doc = new_team_doc();
    let by = Editor::new("animator1", "gops").expect("editor");
    let at = Utc::now();
    for (id, name, sector, role) in [
        (
            "gops",
            "GOPS Przykładowo",
            InstitutionSector::SocialAssistance,
            MemberRole::Lead,
        ),
        (
            "szkola",
            "Szkoła Podstawowa nr 1",
            InstitutionSector::Education,
            MemberRole::Member,
        ),
        (
            "policja",
            "Komenda Powiatowa Policji",
            InstitutionSector::Police,
            MemberRole::Member,
        ),
    ] {
        let member = Member {
            name: name.into(),
            sector,
            role,
        };
        pzk::upsert_member(&mut doc, id, &member, &by, at).expect("member");
    }
    let tutoring = ServiceEntry {
        description: "Korepetycje z matematyki w świetlicy szkolnej".into(),
        provider: "szkola".into(),
        sector: InstitutionSector::Education,
        capacity: Some(12),
        remote_capable: false,
    };
    pzk::upsert_service(&mut doc, TUTORING, &tutoring, &by, at).expect("service");
    doc
}

/// Team `pzk1`'s document ([`app_team_document`]) with each member institution's representative
/// named under their login (the team's attendance list): the animator for the GOPS, the
/// school's pedagogue and the police's community officer.
pub fn meeting_team_document() -> Automerge {
    let mut doc = app_team_document();
    let by = Editor::new("animator1", "gops").expect("editor");
    for (institution, login, name, function) in [
        ("gops", "animator1", "Anna Animatorska", "animatorka PZK"),
        ("szkola", "szkola-rep", "Ewa Nowicka", "pedagog szkolny"),
        ("policja", "policja-rep", "Jan Kowal", "dzielnicowy"),
    ] {
        let representative = Representative {
            name: name.into(),
            function: function.into(),
        };
        pzk::set_representative(
            &mut doc,
            institution,
            login,
            &representative,
            &by,
            Utc::now(),
        )
        .expect("representative");
    }
    doc
}

/// A case of `owner` (of the GOPS) for the family of `person`, entered `days_ago` days ago and
/// taken by her alone to the delivery of services: qualified, the social sector diagnosed, one
/// IPP goal (`goal`, due on `deadline`), the contract signed in person; no monitoring note yet,
/// and the next visit planned on `next_visit`.
pub fn case_in_delivery(
    owner: &str,
    person: &str,
    goal: &str,
    deadline: NaiveDate,
    next_visit: Option<NaiveDate>,
    days_ago: i64,
) -> Automerge {
    let by = Editor::new(owner, "gops").expect("editor");
    let start: DateTime<Utc> = Utc::now() - Duration::days(days_ago);
    let mut household = BTreeMap::new();
    household.insert(
        "p1".to_owned(),
        HouseholdMember {
            name: person.into(),
            relation: "osoba zgłoszona".into(),
            birth_date: None,
        },
    );
    let init = CaseInit {
        actor: ActorId::random(),
        owner: owner.into(),
        lead_institution: "gops".into(),
        referral: Referral {
            by: owner.into(),
            institution: "gops".into(),
            reason: "Zaległości czynszowe; syn opuszcza lekcje.".into(),
            at: start,
        },
        household,
    };
    let mut doc = case::new_case(&init, &by, start).expect("a case");
    let step = |minutes: i64| start + Duration::minutes(minutes);
    let to = |doc: &mut Automerge, stage: Stage, at| {
        workflow::transition(doc, stage, &by, at).expect("a move the rules allow");
    };
    to(&mut doc, Stage::Screening, step(1));
    case::set_screening(
        &mut doc,
        ScreeningOutcome::Qualified,
        "Rodzina chce współpracy.",
        &by,
        step(2),
    )
    .expect("screening");
    to(&mut doc, Stage::Diagnosis, step(3));
    let diagnosis = "Matka bez pracy, zaległości w czynszu.";
    case::set_diagnosis_section(&mut doc, DiagnosisSector::Social, diagnosis, &by, step(4))
        .expect("diagnosis");
    to(&mut doc, Stage::Ipp, step(5));
    let plan = GoalPlan {
        specific: goal.into(),
        measurable: "Brak nowych zaległości przez trzy miesiące.".into(),
        achievable: "Doradztwo GOPS i dodatek mieszkaniowy.".into(),
        relevant: "Rodzinie grozi eksmisja.".into(),
        deadline,
        responsible: "gops".into(),
        services: BTreeSet::new(),
    };
    case::upsert_goal(&mut doc, "cel1", &plan, &by, step(6)).expect("goal");
    to(&mut doc, Stage::Contract, step(7));
    let text = "Matka spłaca zaległości w ratach; GOPS pomaga w sprawie dodatku.";
    case::set_contract_text(&mut doc, text, &by, step(8)).expect("contract text");
    let signature = Signature {
        signer: person.into(),
        mode: SigningMode::InPerson,
        consent_note: String::new(),
    };
    case::sign_contract(&mut doc, &signature, &by, step(9)).expect("signed");
    to(&mut doc, Stage::Delivery, step(10));
    if next_visit.is_some() {
        case::set_next_visit(&mut doc, next_visit, &by, step(11)).expect("next visit");
    }
    doc
}
