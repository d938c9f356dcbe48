//! Tests of the case's attachment entries: written once, checked when written and when read,
//! kept whole through concurrent edits.

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};

use super::*;
use crate::error::SchemaError;
use crate::model::testing::{at, editor, fork_as, merged, new_case};
use crate::model::validate;

const SCAN: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn scan() -> Attachment {
    Attachment {
        sha256: SCAN.to_owned(),
        mime: "application/pdf".to_owned(),
        size: 182_304,
        kind: AttachmentKind::SignedContract,
        link: None,
        caption: "Kontrakt podpisany 1 marca".to_owned(),
    }
}

fn photo(sha: char) -> Attachment {
    Attachment {
        sha256: sha.to_string().repeat(64),
        mime: "image/jpeg".to_owned(),
        size: 2_000_000,
        kind: AttachmentKind::Photo,
        link: None,
        caption: String::new(),
    }
}

fn consent_given(doc: &mut Automerge, id: &str) {
    let event = ConsentEvent {
        institution: "sp-1".to_owned(),
        purpose: "school support".to_owned(),
        state: ConsentState::Given,
        by: "mother".to_owned(),
    };
    record_consent(doc, id, &event, &editor("anna"), at(10)).expect("consent recorded");
}

#[test]
fn a_scan_of_the_signed_contract_is_attached_and_read_back() {
    let mut doc = new_case();
    attach_file(&mut doc, "a1", &scan(), &editor("anna"), at(12)).expect("attached");
    let all = read_attachments(&doc).expect("read");
    let entry = &all["a1"];
    assert_eq!(entry.attachment, scan());
    assert_eq!(entry.author, "anna");
    assert_eq!(entry.institution, "gops");
    assert_eq!(entry.at, at(12));
    assert_eq!(referenced_blobs(&doc).expect("read"), vec![SCAN.to_owned()]);
    let message = doc
        .get_last_local_change()
        .and_then(|c| c.message().map(str::to_owned))
        .unwrap_or_default();
    assert!(message.starts_with("attachments/a1: signed_contract application/pdf"));
    validate(&doc).expect("valid");
}

#[test]
fn an_attachment_id_is_written_once() {
    let mut doc = new_case();
    attach_file(&mut doc, "a1", &scan(), &editor("anna"), at(12)).expect("attached");
    let heads = doc.get_heads();
    let err = attach_file(&mut doc, "a1", &photo('b'), &editor("anna"), at(13))
        .expect_err("the id is taken");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    assert_eq!(doc.get_heads(), heads, "nothing written");
}

/// A change that rewrites a field of an existing entry, past the model's own edits (as a
/// hostile client could send it), makes the case invalid: the entry names the field, so a
/// server refuses it whoever sends it; a concurrent rewrite the same.
#[test]
fn an_entry_rewritten_past_the_model_is_refused() {
    let mut doc = new_case();
    attach_file(&mut doc, "a1", &scan(), &editor("anna"), at(12)).expect("attached");
    validate(&doc).expect("valid");
    let rewrite = |doc: &mut Automerge, field: &str, value: &str| {
        let map = doc
            .get(ROOT, "attachments")
            .expect("read")
            .and_then(|(_, m)| doc.get(&m, "a1").expect("read"))
            .map(|(_, e)| e)
            .expect("the entry");
        let mut tx = doc.transaction();
        tx.put(&map, field, value).expect("written");
        tx.commit();
    };
    for (field, value) in [("caption", "Inny podpis"), ("sha256", &*"b".repeat(64))] {
        let mut later = doc.fork();
        rewrite(&mut later, field, value);
        let err = read_attachments(&later).expect_err("a rewritten entry");
        assert!(
            matches!(&err, SchemaError::Field { path, .. } if path.ends_with(field)),
            "{field}: {err:?}"
        );
        assert!(validate(&later).is_err(), "{field}");
    }
    let mut concurrent = fork_as(&doc, "bartek");
    rewrite(&mut concurrent, "caption", "Podpis Bartka");
    let both = merged(&doc, &concurrent);
    assert!(read_attachments(&both).is_err(), "a concurrent rewrite too");
}

#[test]
fn bad_entries_are_refused_with_the_field() {
    let table: Vec<(&str, Attachment, &str)> = vec![
        (
            "hash not hex",
            Attachment {
                sha256: "xyz".into(),
                ..scan()
            },
            "attachments/a1/sha256",
        ),
        (
            "hash in capitals",
            Attachment {
                sha256: SCAN.to_uppercase(),
                ..scan()
            },
            "attachments/a1/sha256",
        ),
        (
            "html",
            Attachment {
                mime: "text/html".into(),
                ..scan()
            },
            "attachments/a1/mime",
        ),
        (
            "empty file",
            Attachment { size: 0, ..scan() },
            "attachments/a1/size",
        ),
        (
            "unknown consent",
            Attachment {
                link: Some(AttachmentLink::Consent("c9".into())),
                ..scan()
            },
            "attachments/a1/consent",
        ),
        (
            "unknown signature",
            Attachment {
                link: Some(AttachmentLink::Signature(0)),
                ..scan()
            },
            "attachments/a1/signature",
        ),
    ];
    for (name, entry, expected) in table {
        let mut doc = new_case();
        let heads = doc.get_heads();
        match attach_file(&mut doc, "a1", &entry, &editor("anna"), at(12)) {
            Err(SchemaError::Field { path, .. }) => assert_eq!(path, expected, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(doc.get_heads(), heads, "{name}: nothing written");
    }
}

#[test]
fn a_consent_form_links_its_consent_event() {
    let mut doc = new_case();
    consent_given(&mut doc, "c1");
    let form = Attachment {
        kind: AttachmentKind::Consent,
        link: Some(AttachmentLink::Consent("c1".into())),
        ..scan()
    };
    attach_file(&mut doc, "a1", &form, &editor("anna"), at(12)).expect("attached");
    assert_eq!(read_attachments(&doc).expect("read")["a1"].attachment, form);
    validate(&doc).expect("valid");
}

#[test]
fn photos_attached_offline_on_two_tablets_are_both_kept() {
    let base = new_case();
    let mut anna = fork_as(&base, "aa");
    let mut jan = fork_as(&base, "bb");
    attach_file(&mut anna, "anna-1", &photo('a'), &editor("anna"), at(12)).expect("anna");
    attach_file(&mut jan, "jan-1", &photo('b'), &editor("jan"), at(12)).expect("jan");
    let doc = merged(&anna, &jan);
    let all = read_attachments(&doc).expect("read");
    assert_eq!(all.len(), 2);
    assert_eq!(all["jan-1"].institution, "sp-1");
    validate(&doc).expect("valid");
}

#[test]
fn a_case_from_before_attachments_gets_the_map_with_its_first_entry() {
    let mut doc = new_case();
    doc.transact(|tx| tx.delete(ROOT, "attachments"))
        .expect("removed");
    assert!(read_attachments(&doc).expect("read").is_empty());
    attach_file(&mut doc, "a1", &scan(), &editor("anna"), at(12)).expect("attached");
    assert_eq!(read_attachments(&doc).expect("read").len(), 1);
}

#[test]
fn a_bad_entry_written_below_the_api_fails_validation() {
    let mut doc = new_case();
    attach_file(&mut doc, "a1", &scan(), &editor("anna"), at(12)).expect("attached");
    let (_, attachments) = doc.get(ROOT, "attachments").expect("read").expect("map");
    let (_, entry) = doc.get(&attachments, "a1").expect("read").expect("entry");
    doc.transact(|tx| tx.put(&entry, "mime", "application/x-msdownload"))
        .expect("raw edit");
    match validate(&doc) {
        Err(SchemaError::Field { path, .. }) => assert_eq!(path, "attachments/a1/mime"),
        other => panic!("{other:?}"),
    }
}
