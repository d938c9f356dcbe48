//! The PZK meetings' TypeScript twin (`web/src/model/pzk/meetings.ts`, issue #19) held to the
//! Rust model: Node (`web/model-test/meetings.mjs`) reads a team document Rust wrote, with a
//! scheduled meeting, exactly as Rust reads it; refuses a plain `http://` link, the invitation
//! of an institution outside the team and an empty approval... with Rust's codes; then records
//! attendance, writes the minutes and approves them, and refuses an edit after the approval
//! (`meeting.frozen`). Rust then validates what TypeScript wrote (the frozen rule and the
//! approval's author binding included) and refuses its own edit of the approved meeting.

use std::process::Command;

use chrono::{TimeZone, Utc};
use kooperacja_test_support::*;
use serde_json::{json, Value};
use sync_core::model::pzk::{self, Attendance, InstitutionSector, Member, MemberRole};
use sync_core::model::{self, Editor};
use sync_core::{RuleViolation, SchemaError};

/// The team of `pzk1` with the school and the police as members and meeting `s1` scheduled
/// (remote, with its link, the school invited, two agenda items).
fn team_with_meeting() -> automerge::Automerge {
    let mut doc = new_team_doc();
    let animator = Editor::new("animator1", "gops").expect("editor");
    let at = Utc
        .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("a time");
    for (id, name, sector) in [
        (
            "szkola",
            "Szkoła Podstawowa nr 1",
            InstitutionSector::Education,
        ),
        ("policja", "Komisariat Policji", InstitutionSector::Police),
    ] {
        let member = Member {
            name: name.into(),
            sector,
            role: MemberRole::Member,
        };
        pzk::upsert_member(&mut doc, id, &member, &animator, at).expect("member");
    }
    schedule_remote_meeting(
        &mut doc,
        &animator,
        "s1",
        (2026, 3, 4, 10),
        &["Rodziny", "Usługi"],
    );
    let plan = pzk::MeetingPlan {
        date: Utc
            .with_ymd_and_hms(2026, 3, 4, 10, 0, 0)
            .single()
            .expect("a date"),
        mode: pzk::MeetingMode::Mixed,
        link: Some("https://meet.example.pl/pzk-marzec".into()),
    };
    pzk::schedule_meeting(&mut doc, "s1", &plan, &animator, at).expect("moved");
    pzk::invite_institution(&mut doc, "s1", "szkola", &animator, at).expect("invited");
    doc
}

/// A meeting as canonical JSON, the shape `meetings.mjs` prints.
fn canonical(view: &pzk::MeetingView) -> Value {
    let stamp = |s: &pzk::Stamp| json!({"by": s.by, "at": s.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
    json!({
        "date": view.plan.date.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "mode": view.plan.mode.as_str(),
        "link": view.plan.link,
        "agenda": view.agenda.iter().map(|(k, a)| (k.clone(), json!({"title": a.title, "order": a.order}))).collect::<serde_json::Map<_, _>>(),
        "attendance": view.attendance.iter().map(|(k, a)| (k.clone(), json!(a.value.as_str()))).collect::<serde_json::Map<_, _>>(),
        "minutes": view.minutes,
        "invitations": view.invitations.iter().map(|(k, s)| (k.clone(), stamp(s))).collect::<serde_json::Map<_, _>>(),
        "minutesApproved": view.minutes_approved.as_ref().map(stamp),
    })
}

#[test]
fn typescript_runs_a_meeting_as_rust_does() {
    let web = workspace_root().join("web");
    compile_web_model(&web);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (input, output) = (dir.path().join("team.am"), dir.path().join("after.am"));
    let mut doc = team_with_meeting();
    std::fs::write(&input, doc.save()).expect("saved");
    let report = run_node(
        Command::new("node")
            .current_dir(&web)
            .arg("model-test/meetings.mjs")
            .arg(&input)
            .arg(&output),
        "the TypeScript meetings on a Rust team (web/model-test/meetings.mjs)",
    );
    let report: Value = serde_json::from_str(&report).expect("the script's JSON");
    let rust_view = pzk::read_pzk(&doc).expect("read").meetings["s1"].clone();
    assert_eq!(report["before"], canonical(&rust_view), "read alike");
    assert_eq!(
        report["refused"],
        json!({
            "httpLink": "meeting.link-invalid",
            "stranger": "meeting.invitee-not-member",
            "emptyMinutes": "meeting.minutes-empty",
            "afterApproval": "meeting.frozen",
        })
    );

    // What TypeScript wrote passes the server's validation and reads as it should in Rust.
    let written =
        automerge::Automerge::load(&std::fs::read(&output).expect("written")).expect("loads");
    model::validate(&written).expect("valid, approval author bound");
    let view = pzk::read_pzk(&written).expect("read").meetings["s1"].clone();
    assert_eq!(
        report["after"],
        canonical(&view),
        "TypeScript's meeting as Rust reads it"
    );
    assert_eq!(view.minutes, "Omówiono rodziny i usługi.");
    // An agenda item added by TypeScript keeps its order a number (not a map).
    assert_eq!(view.agenda["p3"].order, 3);
    assert_eq!(view.agenda["p3"].title, "Wolne wnioski");
    let second = pzk::read_pzk(&written).expect("read").meetings["s2"].clone();
    assert_eq!(report["second"], canonical(&second), "the second meeting");
    assert_eq!(second.agenda["p1"].order, 1);
    assert!(second.invitations.contains_key("szkola"));
    assert_eq!(second.decisions["u1"].text, "Spotkanie w szkole.");
    assert_eq!(view.attendance["policja-rep"].value, Attendance::Video);
    assert_eq!(
        view.minutes_approved.as_ref().map(|s| s.by.as_str()),
        Some("animator1")
    );
    doc.merge(&mut written.clone()).expect("merged");
    let school = Editor::new("szkola-rep", "szkola").expect("editor");
    let late = pzk::set_minutes(&mut doc, "s1", "Inaczej.", &school, Utc::now());
    assert!(
        matches!(late, Err(SchemaError::Rule(RuleViolation::MeetingFrozen(ref m))) if m == "s1"),
        "{late:?}"
    );
}
