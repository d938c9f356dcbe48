//! Several server nodes on one store (PostgreSQL in production): a node told that another node
//! wrote a document reloads it and passes the news to everyone following it there, even when
//! that reload fails the first time.

use crate::harness;

use automerge::transaction::Transactable;
use harness::{obj, seed_doc, text_of, Net, TestPolicy};
use sync_core::engine::Input;
use sync_core::storage::StorageRequest;
use sync_core::{DocumentId, StorageError};

fn case_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// Two server nodes sharing one store; the worker's tablet on node 1 creates `case`, the
/// school's tablet on node 2 opens it. Returns `[node1, node2, worker, school]`.
fn two_nodes_one_store(net: &mut Net, case: DocumentId) -> [usize; 4] {
    let node1 = net.server("rops-1", TestPolicy::default());
    let node2 = net.server("rops-2", TestPolicy::default());
    // One store (PostgreSQL in production) behind both nodes.
    net.nodes[node2].store = net.nodes[node1].store.clone();
    let worker = net.tablet("tablet-1");
    let school = net.tablet("tablet-2");
    net.connect(worker, node1, "anna");
    net.create(worker, case, seed_doc);
    net.run();
    net.connect(school, node2, "jan");
    net.find(school, case);
    net.run();
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));
    [node1, node2, worker, school]
}

/// The worker writes a note of the home visit on her tablet and it reaches her node.
fn write_a_visit_note(net: &mut Net, worker: usize, case: DocumentId) {
    net.edit(worker, &case, |d| {
        let notes = obj(d, "notes");
        let mut tx = d.transaction();
        tx.splice_text(&notes, 0, 0, "Wizyta domowa. ")
            .expect("splice");
        tx.commit();
    });
    net.run();
}

#[test]
fn two_server_nodes_on_one_store_pass_changes_when_told_to_reload() {
    let case = case_id(12);
    let mut net = Net::new(12);
    let [node1, node2, worker, school] = two_nodes_one_store(&mut net, case);

    // The worker edits on node 1; node 2 hears of it (LISTEN/NOTIFY) and reloads.
    write_a_visit_note(&mut net, worker, case);
    assert_ne!(
        net.heads(school, &case),
        net.heads(worker, &case),
        "not told yet"
    );
    net.input(node2, Input::Reload { document: case });
    net.run();
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));
    assert!(text_of(net.doc(school, &case), "notes").starts_with("Wizyta domowa. "));

    // Both write at once on their nodes; each node is told of the other's write.
    net.edit(worker, &case, |d| {
        d.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(automerge::ROOT, "a", 1))
            .expect("edit");
    });
    net.edit(school, &case, |d| {
        d.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(automerge::ROOT, "b", 2))
            .expect("edit");
    });
    net.run();
    net.input(node1, Input::Reload { document: case });
    net.input(node2, Input::Reload { document: case });
    net.run();
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));
    assert_eq!(net.heads(node1, &case), net.heads(node2, &case));
    // A reload of a document a node does not hold does nothing.
    net.input(
        node2,
        Input::Reload {
            document: case_id(99),
        },
    );
    net.run();
    assert!(net.nodes[node2].engine.document(&case_id(99)).is_none());
}

#[test]
fn a_failed_reload_still_owes_the_followers_the_other_nodes_changes() {
    let case = case_id(21);
    let mut net = Net::new(21);
    let [_node1, node2, worker, school] = two_nodes_one_store(&mut net, case);

    // The worker writes on node 1; node 2 is told, but its store does not answer the reload...
    write_a_visit_note(&mut net, worker, case);
    net.nodes[node2].hold_storage = true;
    net.input(node2, Input::Reload { document: case });
    net.run();
    let held = std::mem::take(&mut net.nodes[node2].held);
    let [(task, StorageRequest::Load { document })] = held.as_slice() else {
        panic!("node 2 should have asked for one load, asked {held:?}");
    };
    assert_eq!(*document, case);
    // ...and then fails it (the database went away for a moment).
    net.nodes[node2].hold_storage = false;
    net.input(
        node2,
        Input::StorageDone {
            task: *task,
            result: Err(StorageError::Io("connection to the database lost".into())),
        },
    );
    net.run();
    assert_ne!(net.heads(school, &case), net.heads(worker, &case));

    // The next load of the document on node 2 (here the host asks for it) brings the school the
    // worker's note without the school having to say anything.
    net.input(node2, Input::Find { document: case });
    net.run();
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));
    assert!(text_of(net.doc(school, &case), "notes").starts_with("Wizyta domowa. "));
}
