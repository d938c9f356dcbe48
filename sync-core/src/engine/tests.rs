//! Unit tests of the engine's private helpers.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};

use super::chunks::{change_hashes, stored_as_received};

/// A document and the raw bytes of its last change (a splice into `notes`).
fn doc_with_edit() -> (Automerge, Vec<u8>) {
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let notes = tx.put_object(ROOT, "notes", ObjType::Text)?;
        tx.splice_text(&notes, 0, 0, "wywiad środowiskowy")
    })
    .expect("seed");
    let notes = doc.get(ROOT, "notes").expect("read").expect("notes").1;
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&notes, 0, 0, "pilne: "))
        .expect("edit");
    let change = doc
        .get_last_local_change()
        .expect("change")
        .raw_bytes()
        .to_vec();
    (doc, change)
}

#[test]
fn a_sound_change_is_stored_as_it_arrived() {
    let (doc, change) = doc_with_edit();
    let hash = doc.get_heads()[0];
    assert_eq!(
        stored_as_received(&doc, std::slice::from_ref(&change), &[hash]),
        Some(change)
    );
}

#[test]
fn trailing_bytes_after_a_change_are_never_stored_as_received() {
    let (doc, mut change) = doc_with_edit();
    let hash = doc.get_heads()[0];
    change.extend_from_slice(&[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]);
    assert_eq!(stored_as_received(&doc, &[change], &[hash]), None);
}

#[test]
fn a_damaged_change_is_never_stored_as_received() {
    let (doc, mut change) = doc_with_edit();
    let hash = doc.get_heads()[0];
    let last = change.len() - 1;
    change[last] ^= 0x20;
    assert_eq!(stored_as_received(&doc, &[change], &[hash]), None);
}

#[test]
fn a_whole_document_or_a_missing_new_change_falls_back_to_automerge() {
    let (mut doc, change) = doc_with_edit();
    let hash = doc.get_heads()[0];
    let whole = doc.save();
    assert_eq!(stored_as_received(&doc, &[whole], &[hash]), None);
    let other = {
        let notes = doc.get(ROOT, "notes").expect("read").expect("notes").1;
        doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&notes, 0, 0, "x"))
            .expect("edit");
        doc.get_heads()[0]
    };
    assert_eq!(
        stored_as_received(&doc, &[change], &[hash, other]),
        None,
        "a new change that did not come in this batch"
    );
}

#[test]
fn change_hashes_match_automerges_for_one_or_several_changes() {
    let (doc, change) = doc_with_edit();
    let all = doc.get_changes(&[]);
    let hashes: Vec<_> = all.iter().map(|c| c.hash()).collect();
    let concatenated: Vec<u8> = all.iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
    assert_eq!(change_hashes(&concatenated), Some(hashes.clone()));
    assert_eq!(change_hashes(&change), Some(vec![hashes[1]]));
    assert_eq!(change_hashes(&doc.save()), None, "a document chunk");
    assert_eq!(change_hashes(&concatenated[..concatenated.len() - 1]), None);
    assert_eq!(
        stored_as_received(&doc, std::slice::from_ref(&concatenated), &hashes),
        Some(concatenated),
        "several changes in one chunk, as sync messages v2 carry them"
    );
}

#[test]
fn a_resent_change_stored_again_with_a_new_one_loads_back_the_same() {
    let (mut doc, old) = doc_with_edit();
    let durable = doc.save();
    let notes = doc.get(ROOT, "notes").expect("read").expect("notes").1;
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&notes, 0, 0, "nowe: "))
        .expect("edit");
    let new = doc
        .get_last_local_change()
        .expect("change")
        .raw_bytes()
        .to_vec();
    let new_hash = doc.get_heads()[0];
    // One peer's bytes: the resent (already durable) change and the new one.
    let sent = [old, new].concat();
    let increment = stored_as_received(&doc, &[sent], &[new_hash]).expect("stored as received");
    let loaded = Automerge::load(&[durable, increment].concat()).expect("loads");
    assert_eq!(loaded.get_heads(), doc.get_heads());
}
