//! The vectors: case states written by Rust, and what workers do to them. Each is a small
//! story; the stage-moves table is checked in every state.

use automerge::Automerge;
use kooperacja_test_support::case_fixture::{walk_to, CaseFixture};
use kooperacja_test_support::case_story::{self, anna, fork_as, march, merge};
use serde_json::{json, Value};
use sync_core::model::case::{self, workflow, PzkDecision, ScreeningOutcome, Stage};

use super::ops::op;

/// One vector before it is run: its name, what it tells, its document, the PZK document its
/// listed services come from, the referral a new case is created from, and the operations.
pub struct Story {
    pub name: String,
    pub tells: &'static str,
    pub doc: Automerge,
    pub pzk: Option<Automerge>,
    pub create: Option<Value>,
    pub ops: Vec<Value>,
}

fn story(name: &str, tells: &'static str, doc: Automerge, ops: Vec<Value>) -> Story {
    Story {
        name: name.to_owned(),
        tells,
        doc,
        pzk: None,
        create: None,
        ops,
    }
}

const ANNA: (&str, &str) = ("anna", "gops");
const JAN: (&str, &str) = ("jan", "sp-1");
const PIOTR: (&str, &str) = ("piotr", "policja");

/// Every vector, in the order of the files.
pub fn all() -> Vec<Story> {
    let mut stories = vec![whole_case()];
    for stage in Stage::ALL {
        stories.push(story(
            &format!("stage-{}", stage.as_str().replace('_', "-")),
            "the Nowak family's case walked to this stage: the stage-moves table",
            walk_to(*stage),
            Vec::new(),
        ));
    }
    stories.extend([
        stage_conflict(),
        screening_conflict(),
        decision_conflict(),
        invalid_state(Stage::Ipp, Stage::Contract, "invalid-contract-without-goal"),
        invalid_state(
            Stage::Contract,
            Stage::Delivery,
            "invalid-delivery-without-signing",
        ),
        invalid_state(
            Stage::Evaluation,
            Stage::HandedOver,
            "invalid-handed-over-without-target",
        ),
        sign_before_plan(),
        listed_services(),
        not_a_case(),
    ]);
    stories
}

/// The referral Anna enters, as both sides create it.
fn create() -> Value {
    json!({
        "owner": "anna",
        "leadInstitution": "gops",
        "referral": {
            "by": "jan",
            "institution": "sp-1",
            "reason": "Kuba misses school often; his mother is ill.",
            "at": "2021-03-01T08:00:00.000Z",
        },
        "household": {
            "p1": { "name": "Maria Nowak", "relation": "self", "birthDate": "1988-05-02" },
            "p2": { "name": "Kuba Nowak", "relation": "son", "birthDate": "2010-09-14" },
        },
        "by": ["anna", "gops"],
        "at": "2021-03-01T09:00:00.000Z",
    })
}

fn goal(measurable: &str, services: &[&str]) -> Value {
    json!({
        "specific": "Kuba attends school every day",
        "measurable": measurable,
        "achievable": "Day centre after school",
        "relevant": "Kuba wants to pass the year",
        "deadline": "2021-06-25",
        "responsible": "sp-1",
        "services": services,
    })
}

fn whole_case() -> Story {
    let t = |day: u32, hour: u32| format!("2021-03-{day:02}T{hour:02}:00:00.000Z");
    let a = |name: &str, when: String, args: Value| op(name, ANNA, &when, args);
    let move_to = |to: &str, when: String| a("transition", when, json!({ "to": to }));
    let sign = |signer: &str, mode: &str, note: &str, when: String| {
        a(
            "signContract",
            when,
            json!({ "signer": signer, "mode": mode, "consentNote": note }),
        )
    };
    let ops = vec![
        move_to("diagnosis", t(1, 10)),
        move_to("referral", t(1, 10)),
        a(
            "addHouseholdMember",
            t(1, 10),
            json!({ "personId": "p3", "name": "Ola Nowak", "relation": "daughter", "birthDate": null }),
        ),
        a(
            "addHouseholdMember",
            t(1, 10),
            json!({ "personId": "p1", "name": "Maria Nowak-Kowalska", "relation": "self", "birthDate": null }),
        ),
        a(
            "addHouseholdMember",
            t(1, 10),
            json!({ "personId": "a/b", "name": "X", "relation": "son", "birthDate": null }),
        ),
        move_to("screening", t(1, 11)),
        move_to("diagnosis", t(1, 12)),
        a(
            "setScreening",
            t(1, 12),
            json!({ "outcome": "qualified", "notes": "  " }),
        ),
        a(
            "setScreening",
            t(1, 12),
            json!({ "outcome": "qualified", "notes": "The family agrees to work with us." }),
        ),
        move_to("diagnosis", t(1, 13)),
        move_to("ipp", t(2, 9)),
        a(
            "setDiagnosis",
            t(2, 9),
            json!({ "sector": "family", "text": "Maria is ill; Kuba cares for her." }),
        ),
        op(
            "setDiagnosis",
            JAN,
            &t(2, 10),
            json!({ "sector": "education", "text": "Kuba missed 30% of lessons." }),
        ),
        move_to("ipp", t(2, 11)),
        move_to("contract", t(2, 11)),
        a(
            "upsertGoal",
            t(2, 12),
            json!({ "goalId": "g1", "plan": goal("Absences under 10%", &[]) }),
        ),
        a(
            "upsertGoal",
            t(2, 12),
            json!({ "goalId": "g1", "plan": goal("Absences under 5%", &["svc-day-centre"]) }),
        ),
        a(
            "upsertGoal",
            t(2, 12),
            json!({ "goalId": "g/2", "plan": goal("x", &[]) }),
        ),
        move_to("contract", t(2, 13)),
        sign("p1", "in_person", "", t(3, 9)),
        a(
            "setContractText",
            t(3, 9),
            json!({ "text": "Maria and Kuba: school every day." }),
        ),
        sign("p1", "phone", " ", t(3, 10)),
        sign(" ", "in_person", "", t(3, 10)),
        move_to("delivery", t(3, 10)),
        sign(
            "p1",
            "video",
            "Read aloud in a video call; Maria accepts it.",
            t(3, 11),
        ),
        a(
            "setContractText",
            t(3, 12),
            json!({ "text": "Maria and Kuba: school every day, day centre on Mondays." }),
        ),
        move_to("delivery", t(3, 12)),
        sign("p1", "in_person", "", t(3, 13)),
        move_to("delivery", t(3, 14)),
        a(
            "addService",
            t(4, 9),
            json!({ "serviceId": "svc-day-centre", "provider": "swietlica" }),
        ),
        a(
            "addService",
            t(4, 9),
            json!({ "serviceId": "svc-day-centre", "provider": "swietlica" }),
        ),
        a(
            "setServiceStatus",
            t(4, 10),
            json!({ "serviceId": "svc-day-centre", "status": "active" }),
        ),
        a(
            "setGoalStatus",
            t(4, 10),
            json!({ "goalId": "g1", "status": "in_progress" }),
        ),
        a(
            "setGoalStatus",
            t(4, 10),
            json!({ "goalId": "g9", "status": "achieved" }),
        ),
        a(
            "appendMonitoringNote",
            t(5, 9),
            json!({ "noteId": "n1", "mode": "home_visit", "text": "Kuba was at school all week." }),
        ),
        a(
            "appendMonitoringNote",
            t(5, 9),
            json!({ "noteId": "n1", "mode": "phone", "text": "again" }),
        ),
        a(
            "openConsultation",
            t(5, 10),
            json!({ "id": "c1", "question": "Any incidents at home?" }),
        ),
        op(
            "answerConsultation",
            PIOTR,
            &t(5, 11),
            json!({ "id": "c1", "answerId": "a1", "text": "None reported." }),
        ),
        op(
            "answerConsultation",
            PIOTR,
            &t(5, 11),
            json!({ "id": "c9", "answerId": "a1", "text": "?" }),
        ),
        a(
            "recordConsent",
            t(5, 12),
            json!({ "id": "k1", "institution": "policja", "purpose": "consultation", "state": "given", "person": "p1" }),
        ),
        a(
            "recordConsent",
            t(5, 12),
            json!({ "id": "k1", "institution": "policja", "purpose": "consultation", "state": "withdrawn", "person": "p1" }),
        ),
        a("setNextVisit", t(5, 13), json!({ "day": "2021-03-20" })),
        a("setNextVisit", t(5, 13), json!({ "day": null })),
        a("setNextVisit", t(5, 14), json!({ "day": "2021-04-01" })),
        a(
            "setHouseholdContact",
            t(5, 15),
            json!({ "address": "  ul. Lipowa 5 m. 3, 00-001 Przykładowo ", "phone": "601 234 567" }),
        ),
        a(
            "setHouseholdContact",
            t(5, 15),
            json!({ "address": "ul. Lipowa 5 m. 3, 00-001 Przykładowo", "phone": "60123456" }),
        ),
        a(
            "setHouseholdContact",
            t(5, 15),
            json!({ "address": "ul. Lipowa 5\n00-001 Przykładowo", "phone": null }),
        ),
        a(
            "setHouseholdContact",
            t(5, 16),
            json!({ "address": "ul. Lipowa 5 m. 3, 00-001 Przykładowo", "phone": "+380 67 123 4567" }),
        ),
        a(
            "setHouseholdContact",
            t(5, 16),
            json!({ "address": "ul. Lipowa 5 m. 3, 00-001 Przykładowo", "phone": "0048 22 123 45 67" }),
        ),
        move_to("evaluation", t(20, 9)),
        move_to("closed", t(20, 10)),
        a(
            "setEvaluation",
            t(20, 10),
            json!({ "text": "Attendance is back to normal." }),
        ),
        move_to("closed", t(20, 11)),
        a(
            "setPzkDecision",
            t(21, 9),
            json!({ "decision": "continue", "meeting": "m1" }),
        ),
        move_to("delivery", t(21, 10)),
        move_to("evaluation", t(25, 9)),
        a(
            "setPzkDecision",
            t(26, 9),
            json!({ "decision": "end", "meeting": null }),
        ),
        move_to("handed_over", t(26, 10)),
        a(
            "setHandover",
            t(26, 11),
            json!({ "institution": "pcpr", "worker": "ewa", "note": "PCPR takes the family over." }),
        ),
        move_to("handed_over", t(26, 12)),
        move_to("closed", t(26, 13)),
        a("resolveStage", t(26, 13), json!({ "chosen": "closed" })),
    ];
    let mut whole = story(
        "whole-case",
        "a case created by each side, then taken from referral to hand-over with every rule broken once on the way",
        CaseFixture::nowak().build(),
        ops,
    );
    whole.create = Some(create());
    whole
}

fn stage_conflict() -> Story {
    let base = walk_to(Stage::Contract);
    let mut back = fork_as(&base, "anna-phone");
    let mut other = fork_as(&base, "anna-laptop");
    workflow::transition(&mut back, Stage::Ipp, &anna(), march(5, 9)).expect("back to the IPP");
    workflow::transition(&mut other, Stage::Diagnosis, &anna(), march(5, 9)).expect("return");
    merge(&mut back, &other);
    let a = |name: &str, args: Value| op(name, ANNA, "2021-03-05T10:00:00.000Z", args);
    story(
        "stage-conflict",
        "two devices moved the case at once (to ipp and to diagnosis): every move waits for one to be confirmed",
        back,
        vec![
            a("transition", json!({ "to": "delivery" })),
            a("resolveStage", json!({ "chosen": "delivery" })),
            a("resolveStage", json!({ "chosen": "diagnosis" })),
            a("transition", json!({ "to": "ipp" })),
        ],
    )
}

fn screening_conflict() -> Story {
    let base = walk_to(Stage::Screening);
    let mut yes = fork_as(&base, "anna-phone");
    let mut no = fork_as(&base, "anna-laptop");
    let notes = "Decided at the visit.";
    case::set_screening(
        &mut yes,
        ScreeningOutcome::Qualified,
        notes,
        &anna(),
        march(2, 9),
    )
    .expect("qualified");
    case::set_screening(
        &mut no,
        ScreeningOutcome::NotQualified,
        notes,
        &anna(),
        march(2, 9),
    )
    .expect("not qualified");
    merge(&mut yes, &no);
    let a = |name: &str, args: Value| op(name, ANNA, "2021-03-02T10:00:00.000Z", args);
    story(
        "screening-conflict",
        "the screening decision written at once both ways: no move out of the screening until it is settled",
        yes,
        vec![
            a("transition", json!({ "to": "closed" })),
            a("setScreening", json!({ "outcome": "qualified", "notes": "Confirmed with the team." })),
            a("transition", json!({ "to": "diagnosis" })),
        ],
    )
}

fn decision_conflict() -> Story {
    let mut base = walk_to(Stage::Evaluation);
    case_story::evaluate(&mut base);
    let mut keep = fork_as(&base, "anna-phone");
    let mut end = fork_as(&base, "marta-laptop");
    case_story::decide(&mut keep, PzkDecision::Continue);
    case_story::decide(&mut end, PzkDecision::End);
    merge(&mut keep, &end);
    let a = |name: &str, args: Value| op(name, ANNA, "2021-03-22T10:00:00.000Z", args);
    story(
        "decision-conflict",
        "the 9.2 decision written at once both ways: neither closing nor continuing until it is settled",
        keep,
        vec![
            a("transition", json!({ "to": "delivery" })),
            a("setPzkDecision", json!({ "decision": "end", "meeting": "m2" })),
            a("transition", json!({ "to": "closed" })),
        ],
    )
}

/// A case walked to `from`, then set to `to` without the workflow's rules: a state the server
/// refuses (the repair function writes it; no edit of the workflow can).
fn invalid_state(from: Stage, to: Stage, name: &str) -> Story {
    let mut doc = walk_to(from);
    case::set_stage_raw(&mut doc, to, &anna(), march(25, 9)).expect("set without rules");
    story(
        name,
        "a stage set without the workflow's rules breaks a rule every state keeps",
        doc,
        Vec::new(),
    )
}

fn sign_before_plan() -> Story {
    let a = |name: &str, args: Value| op(name, ANNA, "2021-03-03T09:00:00.000Z", args);
    story(
        "sign-before-plan",
        "a contract with text but no IPP goal yet cannot be signed",
        walk_to(Stage::Ipp),
        vec![
            a(
                "setContractText",
                json!({ "text": "Maria and Kuba: school every day." }),
            ),
            a(
                "signContract",
                json!({ "signer": "p1", "mode": "in_person", "consentNote": "" }),
            ),
        ],
    )
}

fn listed_services() -> Story {
    let a = |name: &str, id: &str| {
        op(
            name,
            ANNA,
            "2021-03-03T09:00:00.000Z",
            json!({ "serviceId": id }),
        )
    };
    let mut listed = story(
        "listed-services",
        "services from the PZK's list: a listed one joins the basket, a retired or unknown one is refused",
        walk_to(Stage::Ipp),
        vec![
            a("addListedService", "svc-day-centre"),
            a("addListedService", "svc-tutor"),
            a("addListedService", "svc-unknown"),
        ],
    );
    listed.pzk = Some(case_story::pzk_with_services());
    listed
}

fn not_a_case() -> Story {
    story(
        "not-a-case",
        "a PZK document is not a case: reading it or editing it as one is refused",
        case_story::pzk_with_services(),
        vec![op(
            "setEvaluation",
            ANNA,
            "2021-03-03T09:00:00.000Z",
            json!({ "text": "x" }),
        )],
    )
}
