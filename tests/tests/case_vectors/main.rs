//! The shared test vectors of the case model (issue #17, "one set of rules"): the Rust model
//! (sync-core) and the case app's TypeScript model (`web/src/model`) held to the same answers.
//!
//! `tests/vectors/case/*.json` each hold a case saved by Rust (base64), what reading it gives
//! (the case, the stage bar's moves, a move to every stage, the state rules) and operations a
//! worker makes, each with the error code it is refused with or `null`, then the same after
//! them. Then:
//!
//! 1. [`the_vectors_are_what_rust_writes`]: the files are exactly what the Rust model writes
//!    now; a change of the model that moves them fails here. Regenerate them with
//!    `KOOPERACJA_WRITE_VECTORS=1 cargo test -p kooperacja-tests --test stories case_vectors::`
//!    and review the diff.
//! 2. [`typescript_reads_writes_and_refuses_alike`]: Node runs the same files through the
//!    TypeScript model (`web/model-test/vectors.mjs`, on `web/src/model` compiled with
//!    `web/tsconfig.model.json`): it reads every Rust document identically, refuses every
//!    operation with the same code and arguments, and saves what its own edits made. This test
//!    then reads those TypeScript documents with the Rust model: they pass the server's schema
//!    validation, read as what Rust's own edits made, and every change names its author as
//!    the server requires.
//!
//! Needs Node >= 20 and `web/node_modules` (`cd web && npm ci`; CI installs them).

mod justice;
mod meetings;
mod ops;
mod pzk;
mod states;
mod view;

use std::path::PathBuf;
use std::process::Command;

use automerge::Automerge;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use kooperacja_test_support::{compile_web_model, run_node, workspace_root};
use serde_json::{json, Value};
use sync_core::model::editor;
use sync_core::RuleViolation;

fn vectors_dir() -> PathBuf {
    workspace_root().join("tests/vectors/case")
}

fn encode(doc: &mut Automerge) -> String {
    BASE64.encode(doc.save())
}

fn decode(text: &str) -> Automerge {
    let bytes = BASE64.decode(text).expect("base64 in a vector");
    Automerge::load(&bytes).expect("a document in a vector")
}

/// Runs a story's operations on its document with the Rust model: the vector.
fn vector(mut story: states::Story) -> Value {
    let document = encode(&mut story.doc);
    let before = view::all(&story.doc);
    let mut ops = Vec::new();
    for mut op in story.ops {
        let result = ops::apply(&mut story.doc, &op, story.pzk.as_ref());
        op["expect"] = match result {
            Ok(()) => Value::Null,
            Err(e) => view::error(&e),
        };
        ops.push(op);
    }
    json!({
        "name": story.name,
        "tells": story.tells,
        "document": document,
        "pzk": story.pzk.as_mut().map(encode),
        "create": story.create,
        "before": before,
        "operations": ops,
        "after": view::all(&story.doc),
    })
}

/// The codes the Rust model raises, which the TypeScript model's lists must equal.
fn codes() -> Value {
    let rules: Vec<&str> = RuleViolation::examples()
        .iter()
        .map(RuleViolation::code)
        .collect();
    json!({
        "rules": rules,
        "schema": ["document.unknown-type", "document.unsupported-version", "field.invalid", "document.automerge"],
    })
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON");
    text.push('\n');
    text
}

/// Every file the vectors are: name → content.
fn generated() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = states::all()
        .into_iter()
        .map(|story| {
            let vector = vector(story);
            let name = vector["name"].as_str().expect("a name").to_owned();
            (format!("{name}.json"), pretty(&vector))
        })
        .collect();
    files.push(("codes.json".to_owned(), pretty(&codes())));
    files
}

#[test]
fn the_vectors_are_what_rust_writes() {
    let dir = vectors_dir();
    let files = generated();
    if std::env::var_os("KOOPERACJA_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(&dir).expect("the vectors' folder");
        for entry in std::fs::read_dir(&dir).expect("the vectors' folder") {
            std::fs::remove_file(entry.expect("an entry").path()).expect("an old vector removed");
        }
        for (name, content) in &files {
            std::fs::write(dir.join(name), content).expect("a vector written");
        }
    }
    let mut stale = Vec::new();
    for (name, content) in &files {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(found) if &found == content => {}
            _ => stale.push(name.clone()),
        }
    }
    let count = std::fs::read_dir(&dir).map_or(0, |entries| entries.count());
    assert!(
        stale.is_empty() && count == files.len(),
        "tests/vectors/case differs from what the Rust model writes now ({stale:?}, {count} \
         files for {} vectors): regenerate with KOOPERACJA_WRITE_VECTORS=1 and review the diff",
        files.len()
    );
}

/// What TypeScript's edits made of a vector's document: it reads as Rust's edits made it, and
/// its new changes name, in order, the authors of the operations that succeeded.
fn check_typescript_document(vector: &Value, written: &Automerge) {
    let name = &vector["name"];
    assert_eq!(
        view::all(written),
        vector["after"],
        "{name}: as TypeScript wrote it"
    );
    let original = decode(vector["document"].as_str().expect("a document"));
    let authors: Vec<editor::Editor> = vector["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter(|op| op["expect"].is_null())
        .map(ops::editor)
        .collect();
    let changes = written.get_changes(&original.get_heads());
    assert_eq!(changes.len(), authors.len(), "{name}: one change per edit");
    for (change, by) in changes.iter().zip(&authors) {
        let message = change.message();
        let checked =
            editor::check_authorship(change.hash(), message, by.login(), Some(by.institution()));
        assert_eq!(checked, Ok(()), "{name}: {message:?}");
        let parsed = editor::parse(message.unwrap_or_default());
        assert_eq!(
            parsed.author.as_deref(),
            Some(by.login()),
            "{name}: {message:?}"
        );
    }
}

#[test]
fn typescript_reads_writes_and_refuses_alike() {
    let web = workspace_root().join("web");
    compile_web_model(&web);
    let out = tempfile::tempdir().expect("a temporary folder");
    let report = run_node(
        Command::new("node")
            .current_dir(&web)
            .arg("model-test/vectors.mjs")
            .arg(vectors_dir())
            .arg(out.path()),
        "the TypeScript model on the vectors (web/model-test/vectors.mjs)",
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(vectors_dir()).expect("the vectors") {
        let path = entry.expect("an entry").path();
        if path.file_name().is_some_and(|n| n == "codes.json") {
            continue;
        }
        let vector: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("a vector");
        let name = vector["name"].as_str().expect("a name");
        let written = std::fs::read_to_string(out.path().join(format!("{name}.b64")))
            .unwrap_or_else(|e| panic!("TypeScript wrote no document for {name} ({e}): {report}"));
        check_typescript_document(&vector, &decode(written.trim()));
        if !vector["create"].is_null() {
            let created = std::fs::read_to_string(out.path().join(format!("{name}.created.b64")))
                .expect("the case TypeScript created");
            let created = decode(created.trim());
            assert_eq!(
                view::all(&created),
                vector["before"],
                "{name}: created by TypeScript"
            );
            let first = created.get_changes(&[]);
            let message = first[0].message();
            assert_eq!(
                editor::parse(message.unwrap_or_default()).author.as_deref(),
                Some("anna")
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vectors were run: {report}");
}
