//! The justice document's TypeScript twin (`web/src/model/justice.ts`, issue #22) held to the
//! Rust model: Node (`web/model-test/justice.mjs`) reads a justice document Rust wrote exactly
//! as Rust reads it, links it from a case Rust wrote, refuses an entry without content or
//! without who informed, an entry written twice, a second link and a case read as a justice
//! document with Rust's codes, arguments and Polish texts; then writes an entry of its own and
//! a new justice document. Rust validates what TypeScript wrote, reads it alike, and every
//! change names its author as the server requires.

use std::process::Command;

use automerge::Automerge;
use chrono::{NaiveDate, TimeZone, Utc};
use kooperacja_test_support::*;
use serde_json::{json, Value};
use sync_core::model::justice::{self, JusticeEntry, JusticeProcedure, JusticeView};
use sync_core::model::{self, case, editor, DocumentKind, Editor};
use sync_core::{Coded, RuleViolation};

/// A justice document of the case `CaseOne1` with anna's entry `j1`.
fn justice_with_entry() -> Automerge {
    let anna = Editor::new("anna", "gops").expect("editor");
    let at = Utc
        .with_ymd_and_hms(2026, 3, 4, 9, 0, 0)
        .single()
        .expect("a time");
    let mut doc = justice::new_justice("CaseOne1", automerge::ActorId::random(), &anna, at)
        .expect("a justice document");
    let entry = JusticeEntry {
        procedure: JusticeProcedure::BlueCard,
        number: "NK-3/2026".into(),
        informed_by: "policja".into(),
        date: NaiveDate::from_ymd_opt(2026, 3, 3).expect("a day"),
        content: "Interwencja domowa; wszczęto procedurę „Niebieskie Karty”.".into(),
    };
    justice::add_justice_entry(&mut doc, "j1", &entry, &anna, at).expect("an entry");
    doc
}

/// A justice document as canonical JSON, the shape `justice.mjs` prints.
fn canonical(view: &JusticeView) -> Value {
    let entries = view.entries.iter().map(|(id, e)| {
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let entry = json!({
            "procedure": e.entry.procedure.as_str(),
            "number": e.entry.number,
            "informedBy": e.entry.informed_by,
            "date": e.entry.date.to_string(),
            "content": e.entry.content,
            "author": e.author,
            "institution": e.institution,
            "at": at,
        });
        (id.clone(), entry)
    });
    json!({ "case": view.case, "entries": entries.collect::<serde_json::Map<_, _>>() })
}

/// What a refusal looks like in the script's JSON: code, arguments, Polish text.
fn refused(violation: RuleViolation) -> Value {
    let args: serde_json::Map<String, Value> = violation
        .args()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    json!({ "code": violation.code(), "args": args, "text": violation.message_pl() })
}

/// Every change of `doc` after `since` names `login` as its author, as the server requires.
fn authored_by(doc: &Automerge, since: &[automerge::ChangeHash], login: &str, institution: &str) {
    let changes = doc.get_changes(since);
    assert!(!changes.is_empty(), "TypeScript made no change");
    for change in changes {
        let checked =
            editor::check_authorship(change.hash(), change.message(), login, Some(institution));
        assert_eq!(checked, Ok(()), "{:?}", change.message());
    }
}

#[test]
fn typescript_keeps_police_and_court_information_as_rust_does() {
    let web = workspace_root().join("web");
    compile_web_model(&web);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (case_file, justice_file) = (dir.path().join("case.am"), dir.path().join("justice.in"));
    let mut family = new_family_case("anna");
    let mut doc = justice_with_entry();
    std::fs::write(&case_file, family.save()).expect("saved");
    std::fs::write(&justice_file, doc.save()).expect("saved");
    let report = run_node(
        Command::new("node")
            .current_dir(&web)
            .arg("model-test/justice.mjs")
            .arg(&case_file)
            .arg(&justice_file)
            .arg(dir.path()),
        "the TypeScript justice document (web/model-test/justice.mjs)",
    );
    let report: Value = serde_json::from_str(&report).expect("the script's JSON");
    let view = justice::read_justice(&doc).expect("read");
    assert_eq!(report["before"], canonical(&view), "read alike");
    assert_eq!(report["unlinked"], Value::Null);
    assert_eq!(report["link"], "JusticeDoc1");
    let exists = |path: &str| RuleViolation::EntryExists {
        what: "entry",
        path: path.to_owned(),
    };
    assert_eq!(
        report["refused"],
        json!({
            "empty": refused(RuleViolation::JusticeIncomplete("content")),
            "nobody": refused(RuleViolation::JusticeIncomplete("informedBy")),
            "again": refused(exists("entries/j1")),
            "relink": refused(exists("justiceDocument")),
            "notJustice": refused(RuleViolation::WrongKind { expected: "justice", found: "case" }),
        })
    );

    // What TypeScript wrote passes the server's validation and reads alike in Rust.
    let load = |name: &str| {
        Automerge::load(&std::fs::read(dir.path().join(name)).expect("written")).expect("loads")
    };
    let written = load("justice.am");
    assert_eq!(
        model::validate(&written).expect("valid"),
        DocumentKind::Justice
    );
    let after = justice::read_justice(&written).expect("read");
    assert_eq!(
        report["after"],
        canonical(&after),
        "TypeScript's entry as Rust reads it"
    );
    assert_eq!(
        after.entries["j2"].entry.procedure,
        JusticeProcedure::FamilyCourt
    );
    assert_eq!(after.entries["j2"].institution, "policja");
    authored_by(&written, &doc.get_heads(), "policja-rep", "policja");
    let created = load("created.am");
    assert_eq!(
        model::validate(&created).expect("valid"),
        DocumentKind::Justice
    );
    let fresh = justice::read_justice(&created).expect("read");
    assert_eq!((fresh.case.as_str(), fresh.entries.len()), ("CaseTwo1", 1));
    authored_by(&created, &[], "anna", "gops");
    let linked = load("linked.am");
    assert_eq!(model::validate(&linked).expect("valid"), DocumentKind::Case);
    assert_eq!(
        case::justice_document(&linked).expect("read").as_deref(),
        Some("JusticeDoc1")
    );
    authored_by(&linked, &family.get_heads(), "anna", "gops");
    // Rust refuses what TypeScript refused.
    let anna = Editor::new("anna", "gops").expect("editor");
    let mut linked = linked;
    assert!(case::link_justice_document(&mut linked, "Other1", &anna, Utc::now()).is_err());
    doc.merge(&mut written.clone()).expect("merged");
    family.merge(&mut linked).expect("merged");
}
