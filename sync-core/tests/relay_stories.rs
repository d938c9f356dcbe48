//! Relay without re-materialising (issue #23), told as stories: typing into a free-text field
//! is stored and forwarded without applying it to the server's op set; everything else takes
//! the full path; whatever path a change took, every peer ends with the same document.

use crate::harness;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ReadDoc};
use harness::{obj, seed_doc, text_of, Net, TestPolicy};
use sync_core::engine::RelayStats;
use sync_core::DocumentId;

fn case_id() -> DocumentId {
    DocumentId::from_bytes([23; 16])
}

/// A relaying server whose `notes` is a free-text field, tablets `anna` and `ola` following
/// the case `anna` created.
fn relaying_net(policy: TestPolicy) -> (Net, usize, usize, usize) {
    let mut net = Net::new(23);
    let server = net.server_with(
        "rops",
        TestPolicy {
            relay_texts: vec!["notes"],
            ..policy
        },
        |c| c.relay = true,
    );
    let anna = net.tablet("anna");
    let ola = net.tablet("ola");
    net.connect(anna, server, "anna");
    net.create(anna, case_id(), seed_doc);
    net.run();
    net.connect(ola, server, "ola");
    net.find(ola, case_id());
    net.run();
    // A document of a few changes: automerge sends a whole small document instead of its
    // changes (more than a third of them), and such a message takes the full path.
    // (Empty splices make no change: the history is grown with map edits.)
    for n in 0..6 {
        net.edit(anna, &case_id(), move |doc: &mut Automerge| {
            let fields = obj(doc, "fields");
            let mut tx = doc.transaction();
            tx.put(&fields, "wizyta", n).expect("put");
            tx.commit();
        });
        net.run();
    }
    net.nodes[server].engine.materialise_document(&case_id());
    (net, server, anna, ola)
}

fn type_into_notes(net: &mut Net, tablet: usize, text: &str) {
    let text = text.to_owned();
    net.edit(tablet, &case_id(), move |doc: &mut Automerge| {
        let notes = obj(doc, "notes");
        let len = doc.length(&notes);
        let mut tx = doc.transaction();
        tx.splice_text(&notes, len, 0, &text).expect("splice");
        tx.commit();
    });
    net.run();
}

fn stats(net: &Net, server: usize) -> RelayStats {
    net.nodes[server].engine.relay_stats()
}

/// What the server stored of the case, loaded back.
fn stored(net: &Net, server: usize) -> Automerge {
    let chunks = net.nodes[server]
        .store
        .load_now(case_id())
        .expect("load")
        .expect("stored");
    sync_core::engine::load_stored(&chunks).expect("loads")
}

#[test]
fn typing_into_a_known_text_is_relayed_without_materialising() {
    let (mut net, server, anna, ola) = relaying_net(TestPolicy::default());
    type_into_notes(&mut net, anna, "Rodzina zgłosiła się ");
    type_into_notes(&mut net, ola, "z prośbą o pomoc.");
    type_into_notes(&mut net, anna, " Wizyta w czwartek.");
    let s = stats(&net, server);
    assert_eq!(s.relayed, 3, "{s:?}");
    assert_eq!(s.batches_applied, 0, "{s:?}");
    assert!(s.composed > 0, "{s:?}");
    let want = "Rodzina zgłosiła się z prośbą o pomoc. Wizyta w czwartek.";
    assert_eq!(text_of(net.doc(anna, &case_id()), "notes"), want);
    assert_eq!(text_of(net.doc(ola, &case_id()), "notes"), want);
    assert_eq!(net.heads(anna, &case_id()), net.heads(ola, &case_id()));
    // Durable as today: the store has every relayed change.
    let mut stored_heads = stored(&net, server).get_heads();
    stored_heads.sort();
    assert_eq!(stored_heads, net.heads(anna, &case_id()));
}

#[test]
fn materialising_after_relayed_changes_equals_applying_them_one_by_one() {
    let (mut net, server, anna, _ola) = relaying_net(TestPolicy::default());
    for word in ["jeden ", "dwa ", "trzy ", "cztery ", "pięć"] {
        type_into_notes(&mut net, anna, word);
    }
    assert_eq!(stats(&net, server).relayed, 5);
    assert_eq!(stats(&net, server).batches_applied, 0);
    net.nodes[server].engine.materialise_document(&case_id());
    let s = stats(&net, server);
    assert_eq!((s.batches_applied, s.changes_applied), (1, 5), "{s:?}");
    assert_eq!(s.applied_for_host, 1, "the host's read needed them: {s:?}");
    // One by one: every change of the tablet applied on its own to a fresh document.
    let mut one_by_one = Automerge::new();
    for change in net.doc(anna, &case_id()).get_changes(&[]) {
        one_by_one
            .load_incremental(change.raw_bytes())
            .expect("applies");
    }
    let server_doc = net.doc(server, &case_id());
    assert_eq!(server_doc.get_heads(), one_by_one.get_heads());
    assert_eq!(text_of(server_doc, "notes"), "jeden dwa trzy cztery pięć");
    assert_eq!(text_of(&one_by_one, "notes"), text_of(server_doc, "notes"));
}

#[test]
fn a_change_to_anything_else_takes_the_full_path() {
    let (mut net, server, anna, ola) = relaying_net(TestPolicy::default());
    type_into_notes(&mut net, anna, "notatka");
    net.edit(anna, &case_id(), |doc: &mut Automerge| {
        let fields = obj(doc, "fields");
        let mut tx = doc.transaction();
        tx.put(&fields, "telefon", "600 100 200").expect("put");
        tx.commit();
    });
    net.run();
    let s = stats(&net, server);
    assert_eq!(s.relayed, 1, "only the splice: {s:?}");
    assert_eq!(
        (s.batches_applied, s.applied_for_batch),
        (1, 1),
        "the map edit needed the op set: {s:?}"
    );
    let ola_doc = net.doc(ola, &case_id());
    let fields = obj(ola_doc, "fields");
    let phone = ola_doc
        .get(&fields, "telefon")
        .expect("get")
        .map(|(v, _)| v.to_string());
    assert_eq!(phone.as_deref(), Some("\"600 100 200\""));
    assert_eq!(text_of(ola_doc, "notes"), "notatka");
}

#[test]
fn a_splice_into_an_unknown_text_takes_the_full_path() {
    let (mut net, server, anna, ola) = relaying_net(TestPolicy::default());
    // A Text object the index does not name (e.g. a signed contract's text).
    net.edit(anna, &case_id(), |doc: &mut Automerge| {
        let mut tx = doc.transaction();
        tx.put_object(automerge::ROOT, "contract", automerge::ObjType::Text)
            .expect("text");
        tx.commit();
    });
    net.run();
    net.edit(anna, &case_id(), |doc: &mut Automerge| {
        let contract = obj(doc, "contract");
        let mut tx = doc.transaction();
        tx.splice_text(&contract, 0, 0, "umowa").expect("splice");
        tx.commit();
    });
    net.run();
    assert_eq!(stats(&net, server).relayed, 0);
    assert_eq!(text_of(net.doc(ola, &case_id()), "contract"), "umowa");
}

#[test]
fn a_change_whose_author_the_policy_refuses_takes_the_full_path_and_is_refused() {
    let (mut net, server, anna, _ola) = relaying_net(TestPolicy {
        inspect: true,
        refuse_message: Some("podpisane: ktoś inny"),
        ..TestPolicy::default()
    });
    net.edit(anna, &case_id(), |doc: &mut Automerge| {
        let notes = obj(doc, "notes");
        let mut tx = doc.transaction();
        tx.splice_text(&notes, 0, 0, "fałsz").expect("splice");
        tx.commit_with(CommitOptions::default().with_message("podpisane: ktoś inny"));
    });
    net.run();
    assert_eq!(stats(&net, server).relayed, 0);
    assert_eq!(text_of(&stored(&net, server), "notes"), "", "never stored");
}

#[test]
fn a_peer_out_of_step_gets_a_correct_sync() {
    let (mut net, server, anna, ola) = relaying_net(TestPolicy::default());
    type_into_notes(&mut net, anna, "przed ");
    // Ola goes offline, Anna types on; a third tablet joins with nothing.
    net.disconnect(ola);
    net.run();
    type_into_notes(&mut net, anna, "w trakcie ");
    let basia = net.tablet("basia");
    net.connect(basia, server, "basia");
    net.find(basia, case_id());
    net.run();
    net.connect(ola, server, "ola");
    net.run();
    type_into_notes(&mut net, ola, "po");
    net.run();
    let want = "przed w trakcie po";
    for tablet in [anna, ola, basia] {
        assert_eq!(text_of(net.doc(tablet, &case_id()), "notes"), want);
    }
    assert_eq!(net.heads(anna, &case_id()), net.heads(basia, &case_id()));
    assert!(
        stats(&net, server).relayed >= 2,
        "{:?}",
        stats(&net, server)
    );
}
