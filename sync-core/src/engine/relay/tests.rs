//! The relay path's pieces without an engine: which changes classify as relay changes, and the
//! lag, which keeps relay changes already applied so that a peer whose heads are behind the op
//! set is still answered without it, exactly as automerge would answer from the whole document.

use std::collections::HashSet;

use automerge::sync::{BloomFilter, Capability, Have, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};

use super::classify::classify;
use super::{emulate, Lag, TextId};

/// A document with an empty `notes` text and a history of twenty visits (automerge sends a
/// young document whole rather than a third of its changes), then `words` typed into it one
/// change each: the document before the typing, the typing changes' bytes, the heads after
/// each, and `notes`.
fn typed(words: &[&str]) -> (Automerge, Vec<Vec<u8>>, Vec<Vec<ChangeHash>>, TextId) {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let notes = tx.put_object(ROOT, "notes", ObjType::Text).expect("text");
    tx.commit();
    for visit in 0..20 {
        let mut tx = doc.transaction();
        tx.put(ROOT, "wizyta", visit).expect("put");
        tx.commit();
    }
    let base = doc.clone();
    let (mut changes, mut heads) = (Vec::new(), Vec::new());
    for word in words {
        let at = doc.length(&notes);
        let mut tx = doc.transaction();
        tx.splice_text(&notes, at, 0, word).expect("splice");
        tx.commit();
        let last = doc.get_last_local_change().expect("a change");
        changes.push(last.raw_bytes().to_vec());
        heads.push(doc.get_heads());
    }
    let ObjId::Id(counter, actor, _) = notes else {
        panic!("notes is not the root");
    };
    (base, changes, heads, (counter, actor))
}

/// A peer that said its heads are `heads`, with nothing more in its bloom filter.
fn peer_at(heads: &[ChangeHash]) -> State {
    let mut state = State::new();
    state.their_heads = Some(heads.to_vec());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![Have {
        last_sync: heads.to_vec(),
        bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
    }]);
    state.shared_heads = heads.to_vec();
    state.their_capabilities = Some(vec![Capability::MessageV2]);
    state
}

#[test]
fn a_peer_behind_the_applied_changes_is_answered_as_automerge_would() {
    let words = ["Rodzina ", "zgłosiła ", "się ", "po ", "pomoc."];
    let (mut server, changes, heads, notes) = typed(&words);
    let texts: HashSet<TextId> = [notes].into_iter().collect();
    let mut lag = Lag::default();
    let push = |lag: &mut Lag, server: &Automerge, bytes: &[u8]| {
        let known = |h: &ChangeHash| lag.has_pending(h) || server.get_change_by_hash(h).is_some();
        let change = classify(bytes, &texts, known).expect("a relay change");
        lag.push(change);
    };
    // Three changes relayed, then applied (a host read needed the op set), then two more.
    lag.rebase(&server.get_heads());
    for bytes in &changes[..3] {
        push(&mut lag, &server, bytes);
    }
    server
        .load_incremental(&changes[..3].concat())
        .expect("applies");
    lag.mark_applied();
    lag.rebase(&server.get_heads());
    assert!(!lag.is_lagging());
    for bytes in &changes[3..] {
        push(&mut lag, &server, bytes);
    }
    assert_eq!(
        lag.step_of(&heads[0]),
        Some(1),
        "the applied steps are kept"
    );
    assert_eq!(lag.heads(), Some(heads[4].as_slice()));

    // A watcher that acknowledged the first word only.
    let known = |h: &ChangeHash| lag.has_pending(h) || server.get_change_by_hash(h).is_some();
    let mut ours = peer_at(&heads[0]);
    let composed = emulate::generate(&lag, &mut ours, known)
        .expect("composed without the op set")
        .expect("something to send");
    let mut whole = server.clone();
    whole
        .load_incremental(&changes[3..].concat())
        .expect("applies");
    let mut theirs = peer_at(&heads[0]);
    let expected = whole.generate_sync_message(&mut theirs).expect("a message");
    assert_eq!(composed.encode(), expected.encode());
    assert_eq!(ours.sent_hashes, theirs.sent_hashes);
    assert_eq!(ours.last_sent_heads, theirs.last_sent_heads);
}

#[test]
fn another_change_to_the_op_set_starts_the_lag_afresh() {
    let (mut server, changes, heads, notes) = typed(&["jeden ", "dwa"]);
    let texts: HashSet<TextId> = [notes].into_iter().collect();
    let mut lag = Lag::default();
    lag.rebase(&server.get_heads());
    let change = classify(&changes[0], &texts, |h| {
        server.get_change_by_hash(h).is_some()
    })
    .expect("a relay change");
    lag.push(change);
    server.load_incremental(&changes[0]).expect("applies");
    lag.mark_applied();
    // The op set moves on by another path (the full path applied the second change).
    server.load_incremental(&changes[1]).expect("applies");
    lag.rebase(&server.get_heads());
    assert_eq!(lag.len(), 0, "nothing kept");
    assert_eq!(lag.step_of(&heads[0]), None);
    assert_eq!(lag.step_of(&heads[1]), Some(0));
}

#[test]
fn a_change_is_relayed_only_if_it_splices_a_known_text_on_known_dependencies() {
    use super::classify::FullPath;
    let (server, changes, _heads, notes) = typed(&["jeden ", "dwa"]);
    let texts: HashSet<TextId> = [notes.clone()].into_iter().collect();
    let in_server = |h: &ChangeHash| server.get_change_by_hash(h).is_some();

    // The second word without the first: its dependency is missing.
    assert_eq!(
        classify(&changes[1], &texts, in_server).err(),
        Some(FullPath::MissingDependency)
    );
    // The first word is relayed; once the server has it, it is a duplicate.
    let first = classify(&changes[0], &texts, in_server).expect("a relay change");
    assert_eq!(
        classify(&changes[0], &texts, |h| in_server(h) || *h == first.hash).err(),
        Some(FullPath::Duplicate)
    );
    // The same splice into a text the index does not know.
    assert_eq!(
        classify(&changes[0], &HashSet::new(), in_server).err(),
        Some(FullPath::UnknownObject)
    );
    // A map write beside the text.
    let mut doc = server.clone();
    let mut tx = doc.transaction();
    tx.put(ROOT, "telefon", "600 100 200").expect("put");
    tx.commit();
    let put = doc
        .get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec();
    assert_eq!(
        classify(&put, &texts, in_server).err(),
        Some(FullPath::UnknownObject),
        "the root is no text"
    );
    // Damaged bytes.
    let mut damaged = changes[0].clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    assert_eq!(
        classify(&damaged, &texts, in_server).err(),
        Some(FullPath::NotPlainChanges)
    );
}
