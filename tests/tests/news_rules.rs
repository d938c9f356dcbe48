//! "Co nowego" and consultations asked through the PZK, in the TypeScript model the app runs
//! (`web/src/model/news.ts`, `web/src/model/consultation.ts`) and against the Rust model:
//!
//! 1. the unit tests of the derivation of what is new and of the consultation rules
//!    (`web/model-test/news.test.mjs`, run with `node --test`);
//! 2. the same script asks through the PZK about a case and answers as the school, on documents
//!    the Rust model wrote, and writes a "seen" document: the Rust model reads all three as the
//!    TypeScript side wrote them, the server's checks pass on them (each change names its
//!    author; the answer's writer is the actor that created it), and they validate.
//!
//! Needs Node >= 20 and `web/node_modules` (`cd web && npm ci`).

use std::path::Path;
use std::process::Command;

use automerge::{ActorId, Automerge};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use kooperacja_test_support::*;
use sync_core::model::addressed::addressed_entries;
use sync_core::model::pzk;
use sync_core::model::{self, case, editor, seen, DocumentKind};
use sync_core::DocumentId;

fn write_doc(dir: &Path, name: &str, doc: &mut Automerge) {
    std::fs::write(dir.join(name), BASE64.encode(doc.save())).expect("write");
}

fn read_doc(dir: &Path, name: &str) -> Automerge {
    let text = std::fs::read_to_string(dir.join(name)).expect("TypeScript wrote it");
    Automerge::load(&BASE64.decode(text.trim()).expect("base64")).expect("a document")
}

#[test]
fn typescript_derives_what_is_new_and_asks_through_the_pzk_as_rust_reads_it() {
    let web = workspace_root().join("web");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (case_id, pzk_id) = (
        DocumentId::from_bytes([3; 16]),
        DocumentId::from_bytes([5; 16]),
    );
    let mut family = new_family_case("anna");
    let mut team = app_team_document();
    write_doc(dir.path(), "case.b64", &mut family);
    write_doc(dir.path(), "pzk.b64", &mut team);
    let ids = serde_json::json!({ "case": case_id.to_string(), "pzk": pzk_id.to_string() });
    std::fs::write(dir.path().join("ids.json"), ids.to_string()).expect("ids");

    compile_web_model(&web);
    let report = run_node(
        Command::new("node")
            .current_dir(&web)
            .args(["--test", "model-test/news.test.mjs"])
            .env("NEWS_VECTORS", dir.path()),
        "node --test web/model-test/news.test.mjs",
    );
    assert!(
        report.contains("# fail 0") && report.contains("# skipped 0"),
        "{report}"
    );

    // The case: the consultation linked to the PZK's.
    let case_doc = read_doc(dir.path(), "case.out.b64");
    assert_eq!(
        model::validate(&case_doc).expect("valid"),
        DocumentKind::Case
    );
    let link = case::read_case(&case_doc).expect("reads").consultations["k1"]
        .addressed
        .clone()
        .expect("linked");
    assert_eq!(
        (link.pzk, link.consultation.as_str(), link.to.as_str()),
        (pzk_id.to_string(), "k1", "szkola")
    );
    // The PZK document: named by the case's id only, addressed to the school, answered by it,
    // the answer written by the actor the school's device used.
    let pzk_doc = read_doc(dir.path(), "pzk.out.b64");
    assert_eq!(model::validate(&pzk_doc).expect("valid"), DocumentKind::Pzk);
    let consultation = &pzk::read_pzk(&pzk_doc).expect("reads").consultations["k1"];
    assert_eq!(consultation.case_ref, case_id.to_string());
    assert_eq!(consultation.to.as_deref(), Some("szkola"));
    let entries = addressed_entries(&pzk_doc).expect("entries");
    let who: Vec<_> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.by.as_str()))
        .collect();
    assert_eq!(who, [("k1", "anna"), ("k1/a1", "szkola-rep")]);
    assert_eq!(entries[1].actor, Some(ActorId::from(vec![0xbb; 16])));
    for (doc, login, institution) in [
        (&case_doc, "anna", "gops"),
        (&pzk_doc, "szkola-rep", "szkola"),
    ] {
        let last = doc
            .get_changes(&[])
            .last()
            .map(|c| (c.hash(), c.message().map(str::to_owned)));
        let (hash, message) = last.expect("a change");
        editor::check_authorship(hash, message.as_deref(), login, Some(institution))
            .expect("names its author as the server requires");
    }
    // The "seen" document: the school's pedagogue's, with the item opened.
    let seen_doc = read_doc(dir.path(), "seen.out.b64");
    assert_eq!(
        model::validate(&seen_doc).expect("valid"),
        DocumentKind::Seen
    );
    let view = seen::read_seen(&seen_doc).expect("reads");
    assert_eq!(view.owner, "szkola-rep");
    assert_eq!(
        view.seen.keys().collect::<Vec<_>>(),
        [&format!("consultation:{pzk_id}:k1")]
    );
}
