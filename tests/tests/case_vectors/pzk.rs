//! The PZK document's TypeScript twin (`web/src/model/pzk/`, issue #19) held to the Rust model:
//! Node (`web/model-test/pzk.mjs`) reads a team Rust wrote (members with representatives, the
//! leader family, the seeds' 29-month work plan, services, a draft agreement with a party)
//! exactly as Rust reads it; refuses a month past the plan, a step outside K1..K10, signing
//! without a signatory, dates out of order, an empty leader and a recommendation written twice
//! with Rust's codes; then adds a member, a milestone in month 29, a service, edits and retires
//! services, records a signatory, signs (after which the text and the parties are refused with
//! `agreement.frozen`), attaches the scan, adds a recommendation and records the 9.2 decision.
//! Rust validates what TypeScript wrote, reads it as TypeScript does and refuses its own text
//! change of the signed agreement. A team document TypeScript creates passes Rust's validation.

use std::process::Command;

use chrono::{NaiveDate, SecondsFormat, TimeZone, Utc};
use kooperacja_test_support::*;
use serde_json::{json, Map, Value};
use sync_core::model::pzk::{self, InstitutionSector, Member, MemberRole, Milestone, ServiceEntry};
use sync_core::model::{self, Editor};
use sync_core::{RuleViolation, SchemaError};

fn time(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a time")
}

/// The work plan of the seeds, extended for COVID: 29 months, steps K1 to K10.
pub(super) const SEED_PLAN: [(&str, &str, u8, &str); 6] = [
    ("m01", "K5.2", 1, "Porozumienie o współpracy"),
    ("m03", "K6.2", 3, "Harmonogram działań"),
    ("m06", "K6.3", 6, "Lista aktywności i usług"),
    ("m12", "K7.2", 12, "Zgłaszanie rodzin"),
    ("m18", "K9.2", 18, "Decyzja o kontynuacji"),
    ("m29", "K10.2", 29, "Rekomendacje (przedłużenie COVID)"),
];

/// Team `pzk1` as Rust writes it for Node to read and edit.
fn team() -> automerge::Automerge {
    let mut doc = new_team_doc();
    let animator = Editor::new("animator1", "mops").expect("editor");
    let at = time(1, 9);
    let members = [
        (
            "mops",
            "MOPS w Przykładowie",
            InstitutionSector::SocialAssistance,
            MemberRole::Lead,
        ),
        (
            "poradnia",
            "Poradnia Psychologiczno-Pedagogiczna",
            InstitutionSector::Education,
            MemberRole::Member,
        ),
    ];
    for (id, name, sector, role) in members {
        let member = Member {
            name: name.into(),
            sector,
            role,
        };
        pzk::upsert_member(&mut doc, id, &member, &animator, at).expect("member");
    }
    let pedagog = pzk::Representative {
        name: "Anna Nowak".into(),
        function: "psycholog".into(),
    };
    pzk::set_representative(&mut doc, "poradnia", "anowak", &pedagog, &animator, at).expect("rep");
    let leader = pzk::Leader {
        label: "Rodzina liderska z Przykładowa".into(),
        note: "Dzieli się doświadczeniem".into(),
    };
    pzk::set_leader(&mut doc, &leader, &animator, at).expect("leader");
    for (id, step, month, title) in SEED_PLAN {
        let milestone = Milestone {
            step: step.into(),
            month,
            title: title.into(),
        };
        pzk::upsert_milestone(&mut doc, id, &milestone, &animator, at).expect("milestone");
    }
    pzk::set_milestone_status(&mut doc, "m01", pzk::MilestoneStatus::Done, &animator, at)
        .expect("status");
    for (id, description, capacity) in [("u1", "Korepetycje", Some(10)), ("u2", "Świetlica", None)]
    {
        let entry = ServiceEntry {
            description: description.into(),
            provider: "poradnia".into(),
            sector: InstitutionSector::Education,
            capacity,
            remote_capable: false,
        };
        pzk::upsert_service(&mut doc, id, &entry, &animator, at).expect("service");
    }
    pzk::set_agreement_party(&mut doc, "gmina", "Gmina Przykładowo", &animator, at).expect("party");
    doc
}

fn ms(at: &chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn status<T: Copy>(c: &model::Conflict<T>, s: impl Fn(T) -> &'static str) -> Value {
    json!({"value": s(c.value), "alternatives": c.alternatives.iter().map(|a| s(*a)).collect::<Vec<_>>()})
}

fn object<T>(map: &std::collections::BTreeMap<String, T>, f: impl Fn(&T) -> Value) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), f(v)))
            .collect::<Map<_, _>>(),
    )
}

/// A team as canonical JSON, the shape `pzk.mjs` prints (meetings and consultations aside).
fn canonical(v: &pzk::PzkView) -> Value {
    let a = &v.agreement;
    let day = |d: &Option<NaiveDate>| d.map(|d| d.to_string());
    json!({
        "name": v.name,
        "animator": v.animator,
        "agreement": {
            "text": a.text,
            "status": status(&a.status, |s| s.as_str()),
            "parties": a.parties,
            "signatories": object(&a.signatories, |s| json!({"person": s.person, "institution": s.institution, "function": s.function, "signedAt": ms(&s.signed_at)})),
            "dates": {"concludedOn": day(&a.dates.concluded_on), "validFrom": day(&a.dates.valid_from), "validTo": day(&a.dates.valid_to)},
            "scan": a.scan.as_ref().map(|s| json!({"sha256": s.sha256, "mime": s.mime, "size": s.size, "name": s.name})),
            "signed": a.signed.as_ref().map(|s| json!({"text": s.text, "parties": s.parties, "by": s.by, "at": ms(&s.at)})),
        },
        "leader": v.leader.as_ref().map(|l| json!({"label": l.label, "note": l.note})),
        "members": object(&v.members, |m| json!({
            "name": m.member.name, "sector": m.member.sector.as_str(), "role": m.member.role.as_str(),
            "representatives": object(&m.representatives, |r| json!({"name": r.name, "function": r.function})),
        })),
        "workPlan": object(&v.work_plan, |m| json!({
            "step": m.milestone.step, "month": m.milestone.month, "title": m.milestone.title,
            "status": status(&m.status, |s| s.as_str()),
        })),
        "services": object(&v.services, |s| json!({
            "description": s.entry.description, "provider": s.entry.provider, "sector": s.entry.sector.as_str(),
            "capacity": s.entry.capacity, "remoteCapable": s.entry.remote_capable, "retired": s.retired,
        })),
        "decision92": v.decision_9_2.as_ref().map(|d| json!({
            "decision": status(&d.decision, |s| s.as_str()), "rationale": d.rationale,
            "meeting": d.meeting, "by": d.by, "at": ms(&d.at),
        })),
        "recommendations": object(&v.recommendations, |r| json!({
            "text": r.entry.text, "by": r.entry.by, "at": ms(&r.entry.at),
            "category": r.category.map(|c| c.as_str()), "decision92": r.decision_9_2,
        })),
    })
}

#[test]
fn typescript_runs_the_team_as_rust_does() {
    let web = workspace_root().join("web");
    compile_web_model(&web);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = |name: &str| dir.path().join(name);
    let mut doc = team();
    std::fs::write(path("team.am"), doc.save()).expect("saved");
    let report = run_node(
        Command::new("node")
            .current_dir(&web)
            .arg("model-test/pzk.mjs")
            .arg(path("team.am"))
            .arg(path("after.am"))
            .arg(path("new.am")),
        "the TypeScript PZK model on a Rust team (web/model-test/pzk.mjs)",
    );
    let report: Value = serde_json::from_str(&report).expect("the script's JSON");
    let before = pzk::read_pzk(&doc).expect("read");
    assert_eq!(report["before"], canonical(&before), "read alike");
    assert_eq!(report["before"]["workPlan"]["m29"]["month"], json!(29));
    assert_eq!(
        report["refused"],
        json!({
            "month121": "field.invalid",
            "stepK11": "field.invalid",
            "signWithoutSignatory": "agreement.incomplete",
            "datesOrder": "agreement.dates-order",
            "emptyLeader": "field.invalid",
            "recommendationTwice": "entry.exists",
            "textAfterSigning": "agreement.frozen",
            "partyAfterSigning": "agreement.frozen",
        })
    );

    // What TypeScript wrote passes the server's validation and reads as it should in Rust.
    let load = |name: &str| {
        automerge::Automerge::load(&std::fs::read(path(name)).expect("written")).expect("loads")
    };
    let written = load("after.am");
    model::validate(&written).expect("valid: signed agreement unchanged");
    let view = pzk::read_pzk(&written).expect("read");
    assert_eq!(
        report["after"],
        canonical(&view),
        "TypeScript's team as Rust reads it"
    );
    assert!(
        view.services["u2"].retired,
        "the retired service stays listed"
    );
    assert_eq!(view.work_plan.len(), SEED_PLAN.len() + 1);
    assert!(view.agreement.signed.is_some());
    assert_eq!(
        view.members["policja"].representatives["jkowal"].function,
        "dzielnicowy"
    );

    // Rust refuses what TypeScript refused: the signed agreement's text.
    doc.merge(&mut written.clone()).expect("merged");
    let animator = Editor::new("animator1", "mops").expect("editor");
    let late = pzk::set_agreement_text(&mut doc, "Inna treść.", &animator, Utc::now());
    assert!(
        matches!(late, Err(SchemaError::Rule(RuleViolation::AgreementFrozen))),
        "{late:?}"
    );

    // A team document TypeScript creates is one Rust validates and reads.
    let created = load("new.am");
    model::validate(&created).expect("a valid new team");
    let fresh = pzk::read_pzk(&created).expect("read");
    assert_eq!(report["created"], canonical(&fresh));
    assert_eq!(fresh.animator, "animator2");
}
