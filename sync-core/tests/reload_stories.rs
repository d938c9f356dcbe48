//! Several server nodes on one store (PostgreSQL in production): a node told that another node
//! wrote a document reloads it and passes the news to everyone following it there, even when
//! that reload fails the first time.

mod harness;

use automerge::transaction::Transactable;
use harness::{obj, seed_doc, text_of, Net, TestPolicy};
use sync_core::engine::Input;
use sync_core::storage::StorageRequest;
use sync_core::{DocumentId, StorageError};

fn case_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

#[test]
fn a_failed_reload_still_owes_the_followers_the_other_nodes_changes() {
    let case = case_id(21);
    let mut net = Net::new(21);
    let node1 = net.server("rops-1", TestPolicy::default());
    let node2 = net.server("rops-2", TestPolicy::default());
    net.nodes[node2].store = net.nodes[node1].store.clone();
    let worker = net.tablet("tablet-gops");
    let school = net.tablet("tablet-szkola");
    net.connect(worker, node1, "anna");
    net.create(worker, case, seed_doc);
    net.run();
    net.connect(school, node2, "jan");
    net.find(school, case);
    net.run();
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));

    // The worker writes on node 1; node 2 is told, but its store does not answer the reload...
    net.edit(worker, &case, |d| {
        let notes = obj(d, "notes");
        let mut tx = d.transaction();
        tx.splice_text(&notes, 0, 0, "Wizyta domowa. ")
            .expect("splice");
        tx.commit();
    });
    net.run();
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
