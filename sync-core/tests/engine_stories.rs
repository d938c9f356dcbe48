//! The sync engine, told as stories on a deterministic in-memory network.

use crate::harness;

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::ReadDoc;
use harness::{obj, seed_doc, text_of, Net, TestPolicy};
use sync_core::engine::{Access, Effect, Event, Input, Millis, Rejection};
use sync_core::wire::{self, DocMessage, Message};
use sync_core::{DecodeError, DocumentId, PeerId};

fn case_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// A server "rops" where each (user, document) pair listed has its access; creating an unknown
/// document is allowed to everyone.
fn server_with_rules(net: &mut Net, rules: &[(&str, DocumentId, Access)]) -> usize {
    let rules: HashMap<_, _> = rules
        .iter()
        .map(|(user, case, access)| ((user.to_string(), *case), *access))
        .collect();
    net.server(
        "rops",
        TestPolicy {
            rules: Some(rules),
            invalid_status: None,
            ..TestPolicy::default()
        },
    )
}

/// The `tablet` connects to `server` as `user`, creates `case`, and the case reaches the server.
fn opens_case(net: &mut Net, tablet: usize, server: usize, user: &str, case: DocumentId) {
    net.connect(tablet, server, user);
    net.create(tablet, case, seed_doc);
    net.run();
}

/// The `tablet` connects to `server` as `user` and asks for `case`, and the server answers.
fn fetches_case(net: &mut Net, tablet: usize, server: usize, user: &str, case: DocumentId) {
    net.connect(tablet, server, user);
    net.find(tablet, case);
    net.run();
}

/// The heads of what `server` has stored of `case`, loaded back from its store (sorted).
fn stored_heads(net: &Net, server: usize, case: DocumentId) -> Vec<automerge::ChangeHash> {
    let stored = net.nodes[server]
        .store
        .load_now(case)
        .expect("load")
        .expect("stored");
    let mut heads = sync_core::engine::load_stored(&stored)
        .expect("loads")
        .get_heads();
    heads.sort();
    heads
}

/// `node` sets the case's root `status` (one change).
fn set_status(net: &mut Net, node: usize, case: &DocumentId, status: &str) {
    net.edit(node, case, |d| {
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "status", status)
        })
        .expect("edit");
    });
}

/// Anna's tablet creates `case` on `server`, and Jan's tablet (another institution) opens it.
fn worker_and_partner_share(net: &mut Net, server: usize, case: DocumentId) -> (usize, usize) {
    let worker = net.tablet("tablet-1");
    let partner = net.tablet("tablet-2");
    net.connect(worker, server, "anna");
    net.connect(partner, server, "jan");
    net.create(worker, case, seed_doc);
    net.run();
    net.find(partner, case);
    net.run();
    (worker, partner)
}

#[test]
fn worker_and_school_edit_the_same_diagnosis_offline_and_converge() {
    let mut net = Net::new(1);
    let server = net.server("rops", TestPolicy::default());
    let worker = net.tablet("tablet-gops");
    let school = net.tablet("tablet-szkola");
    let case = case_id(1);

    // The social worker opens the case at the office and it reaches the server.
    opens_case(&mut net, worker, server, "anna", case);
    // The school's representative fetches it.
    fetches_case(&mut net, school, server, "jan", case);
    assert_eq!(net.heads(school, &case), net.heads(worker, &case));

    // Both go offline and write in the same section.
    net.disconnect(worker);
    net.disconnect(school);
    net.edit(worker, &case, |d| {
        let notes = obj(d, "notes");
        let mut tx = d.transaction();
        tx.splice_text(&notes, 0, 0, "Rodzina mieszka w trudnych warunkach. ")
            .expect("splice");
        tx.put(automerge::ROOT, "status", "diagnosis").expect("put");
        tx.commit();
    });
    net.edit(school, &case, |d| {
        let notes = obj(d, "notes");
        let mut tx = d.transaction();
        tx.splice_text(&notes, 0, 0, "Dziecko opuszcza lekcje.")
            .expect("splice");
        tx.put(automerge::ROOT, "status", "plan").expect("put");
        tx.commit();
    });
    net.run();
    assert_ne!(net.heads(worker, &case), net.heads(school, &case));

    // Both reconnect.
    net.connect(worker, server, "anna");
    net.connect(school, server, "jan");
    net.run();
    let heads = net.heads(server, &case);
    assert_eq!(net.heads(worker, &case), heads);
    assert_eq!(net.heads(school, &case), heads);
    let text = text_of(net.doc(worker, &case), "notes");
    assert!(
        text.contains("Rodzina mieszka") && text.contains("Dziecko opuszcza"),
        "{text}"
    );
    // The concurrent status values are both kept, as a conflict the UI must show.
    let statuses = net
        .doc(school, &case)
        .get_all(automerge::ROOT, "status")
        .expect("get_all");
    assert_eq!(statuses.len(), 2);
}

#[test]
fn server_advertises_heads_only_after_they_are_durable() {
    let mut net = Net::new(2);
    let server = net.server("rops", TestPolicy::default());
    let case = case_id(2);
    let (worker, partner) = worker_and_partner_share(&mut net, server, case);
    let before = net.heads(partner, &case);

    // The server's store stops answering: a change arrives but never becomes durable.
    net.nodes[server].hold_storage = true;
    set_status(&mut net, worker, &case, "screening");
    for _ in 0..200 {
        net.step();
    }
    let new_heads = net.heads(worker, &case);
    assert_ne!(new_heads, before);
    // Nobody learns of the new heads: not the partner, and not even the sender as an ack.
    assert_eq!(net.heads(partner, &case), before);
    let advertised_new = net.log.iter().any(|(from, _, m)| {
        *from == server
            && matches!(m, Message::Sync(DocMessage { data, .. })
                if automerge::sync::Message::decode(data).is_ok_and(|s| s.heads == new_heads))
    });
    assert!(
        !advertised_new,
        "heads were advertised before they were durable"
    );
    assert!(net.nodes[server]
        .engine
        .durable_heads(&case)
        .is_some_and(|h| h != new_heads.as_slice()));

    // Once the store answers, the change is acknowledged and reaches the partner.
    net.release_storage(server);
    net.run();
    assert_eq!(net.heads(partner, &case), new_heads);
    let on_disk = stored_heads(&net, server, case);
    assert_eq!(on_disk, new_heads, "what was advertised is what is on disk");
}

#[test]
fn a_new_case_is_stored_as_a_snapshot_and_its_edits_as_increments() {
    let case = case_id(14);
    let mut net = Net::new(14);
    let server = net.server("rops", TestPolicy::default());
    let worker = net.tablet("tablet-1");
    opens_case(&mut net, worker, server, "anna", case);
    let kinds = |net: &Net| -> Vec<sync_core::storage::ChunkKind> {
        net.nodes[server]
            .store
            .load_now(case)
            .expect("load")
            .expect("stored")
            .chunks
            .iter()
            .map(|(k, _)| k.kind)
            .collect()
    };
    assert_eq!(
        kinds(&net),
        vec![sync_core::storage::ChunkKind::Snapshot],
        "a new document is written whole, as a snapshot"
    );
    net.edit(worker, &case, |d| {
        let notes = obj(d, "notes");
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.splice_text(&notes, 0, 0, "wizyta domowa")
        })
        .expect("edit");
    });
    net.run();
    let after = kinds(&net);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&sync_core::storage::ChunkKind::Incremental));
    let heads = stored_heads(&net, server, case);
    assert_eq!(
        heads,
        net.heads(worker, &case),
        "the store holds every change"
    );
}

#[test]
fn a_tablets_changes_are_stored_as_they_arrived_and_load_back_whole() {
    let case = case_id(15);
    let mut net = Net::new(15);
    let server = net.server(
        "rops",
        TestPolicy {
            inspect: true,
            ..TestPolicy::default()
        },
    );
    let (worker, school) = worker_and_partner_share(&mut net, server, case);
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for (i, t) in [worker, school, worker].into_iter().enumerate() {
        net.edit(t, &case, |d| {
            let notes = obj(d, "notes");
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.splice_text(&notes, 0, 0, &format!("wpis {i}; "))
            })
            .expect("edit");
        });
        let change = net
            .doc(t, &case)
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec();
        sent.push(change);
        net.run();
    }
    let stored = net.nodes[server]
        .store
        .load_now(case)
        .expect("load")
        .expect("stored");
    let increments: Vec<&Vec<u8>> = stored
        .chunks
        .iter()
        .filter(|(k, _)| k.kind == sync_core::storage::ChunkKind::Incremental)
        .map(|(_, b)| b)
        .collect();
    // The first edit of a two-change document travels as a whole document (automerge sends
    // that when the peer lacks a third of the changes): the server rebuilds that increment.
    for change in &sent[1..] {
        assert!(
            increments.iter().any(|b| b == &change),
            "each later edit stored byte for byte as the tablet sent it"
        );
    }
    let mut heads = sync_core::engine::load_stored(&stored)
        .expect("loads")
        .get_heads();
    heads.sort();
    assert_eq!(heads, net.heads(worker, &case));
    assert_eq!(heads, net.heads(school, &case));
    assert_eq!(
        text_of(net.doc(school, &case), "notes"),
        text_of(net.doc(worker, &case), "notes")
    );
}

#[test]
fn many_frames_for_one_document_in_a_tick_are_applied_and_stored_once() {
    let mut net = Net::new(3);
    let server = net.server("rops", TestPolicy::default());
    let case = case_id(3);
    let mut peers = Vec::new();
    for i in 0..8 {
        let t = net.tablet(&format!("tablet-{i}"));
        net.connect(t, server, "anna");
        peers.push(t);
    }
    net.create(peers[0], case, seed_doc);
    net.run();
    for t in &peers[1..] {
        net.find(*t, case);
    }
    net.run();
    // Every tablet edits; their frames all reach the server before its next tick.
    for (i, t) in peers.iter().enumerate() {
        net.edit(*t, &case, |d| {
            let notes = obj(d, "notes");
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.splice_text(&notes, 0, 0, &format!("{i}"))
            })
            .expect("edit");
        });
        net.input(*t, Input::Tick);
    }
    net.nodes[server].hold_storage = true;
    net.step();
    net.step();
    let writes = net.nodes[server].held.len();
    assert_eq!(
        writes, 1,
        "one write for all the frames of one document in one tick"
    );
    net.release_storage(server);
    net.run();
    let heads = net.heads(server, &case);
    for t in &peers {
        assert_eq!(net.heads(*t, &case), heads);
    }
    assert_eq!(text_of(net.doc(peers[3], &case), "notes").len(), 8);
}

#[test]
fn a_peer_without_access_cannot_tell_a_forbidden_document_from_an_unknown_one() {
    let secret = case_id(4);
    let unknown = case_id(5);
    let mut net = Net::new(4);
    let server = server_with_rules(&mut net, &[("anna", secret, Access::ReadWrite)]);
    let owner = net.tablet("tablet-anna");
    opens_case(&mut net, owner, server, "anna", secret);

    let forbidden = eve_asks(&mut net, server, secret);
    let missing = eve_asks(&mut net, server, unknown);
    assert_eq!(forbidden, vec!["doc-unavailable same-doc=true".to_string()]);
    assert_eq!(
        forbidden, missing,
        "forbidden and unknown must look the same"
    );
}

/// Eve's new tablet connects to `server` and asks for `id`: what the server answers her.
fn eve_asks(net: &mut Net, server: usize, id: DocumentId) -> Vec<String> {
    let eve = net.tablet(&format!("tablet-eve-{id}"));
    net.connect(eve, server, "eve");
    net.run();
    let start = net.log.len();
    net.find(eve, id);
    net.run();
    net.log[start..]
        .iter()
        .filter(|(from, ..)| *from == server)
        .map(|(_, _, m)| match m {
            Message::DocUnavailable { document_id, .. } => {
                format!("doc-unavailable same-doc={}", *document_id == id)
            }
            other => other.type_name().to_string(),
        })
        .collect()
}

#[test]
fn a_forbidden_case_not_in_memory_is_refused_without_loading_it() {
    let secret = case_id(14);
    let unknown = case_id(15);
    let rules = [
        ("anna", secret, Access::ReadWrite),
        // The server's tables know the case: eve may not see it, whatever the store holds.
        ("eve", secret, Access::None),
    ];
    let mut net = Net::new(14);
    let before = server_with_rules(&mut net, &rules);
    let owner = net.tablet("tablet-anna");
    opens_case(&mut net, owner, before, "anna", secret);
    // The server restarts on the same store: the case is no longer in its memory.
    let server = server_with_rules(&mut net, &rules);
    net.nodes[server].store = net.nodes[before].store.clone();

    // Eve asks for the case, then for an id nobody used.
    let forbidden = eve_asks(&mut net, server, secret);
    assert!(
        net.nodes[server].loads.is_empty(),
        "the forbidden case was not loaded"
    );
    let missing = eve_asks(&mut net, server, unknown);
    assert_eq!(forbidden, vec!["doc-unavailable same-doc=true".to_string()]);
    assert_eq!(
        forbidden, missing,
        "forbidden and unknown look the same on the wire"
    );
    assert_eq!(
        net.nodes[server].loads,
        vec![unknown],
        "only the lookup of the unknown id"
    );

    // Meanwhile anna opens her case on the restarted server: it is loaded for her.
    let anna = net.tablet("tablet-anna-2");
    fetches_case(&mut net, anna, server, "anna", secret);
    assert_eq!(net.heads(anna, &secret), net.heads(owner, &secret));
    assert_eq!(net.nodes[server].loads, vec![unknown, secret]);
}

#[test]
fn a_read_only_peer_gets_the_document_but_its_changes_are_refused() {
    let case = case_id(6);
    let mut net = Net::new(5);
    let server = server_with_rules(
        &mut net,
        &[
            ("anna", case, Access::ReadWrite),
            ("koordynator", case, Access::Read),
        ],
    );
    let owner = net.tablet("tablet-anna");
    let reader = net.tablet("tablet-rops");
    opens_case(&mut net, owner, server, "anna", case);
    fetches_case(&mut net, reader, server, "koordynator", case);
    let heads = net.heads(server, &case);
    assert_eq!(
        net.heads(reader, &case),
        heads,
        "a reader receives the document"
    );

    set_status(&mut net, reader, &case, "closed");
    net.run();
    assert_eq!(
        net.heads(server, &case),
        heads,
        "the reader's change was not applied"
    );
    let events = net.events(server);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Rejected {
            reason: Rejection::ReadOnly,
            ..
        }
    )));
    assert_eq!(net.heads(owner, &case), heads);
}

#[test]
fn malformed_frames_close_only_that_connection_and_change_nothing() {
    let case = case_id(7);
    let mut net = Net::new(6);
    let server = net.server("rops", TestPolicy::default());
    let good = net.tablet("tablet-good");
    opens_case(&mut net, good, server, "anna", case);
    let heads = net.heads(server, &case);

    let sync_with = |data: Vec<u8>, doc: &str| {
        let mut m = vec![];
        let value = ciborium::Value::Map(vec![
            (
                ciborium::Value::Text("type".into()),
                ciborium::Value::Text("sync".into()),
            ),
            (
                ciborium::Value::Text("senderId".into()),
                ciborium::Value::Text("tablet-bad".into()),
            ),
            (
                ciborium::Value::Text("targetId".into()),
                ciborium::Value::Text("rops".into()),
            ),
            (
                ciborium::Value::Text("documentId".into()),
                ciborium::Value::Text(doc.into()),
            ),
            (
                ciborium::Value::Text("data".into()),
                ciborium::Value::Bytes(data),
            ),
        ]);
        ciborium::into_writer(&value, &mut m).expect("encode");
        m
    };
    type Check = fn(&Rejection) -> bool;
    let table: Vec<(&str, Vec<u8>, Check)> = vec![
        ("truncated CBOR", vec![0xb9, 0x00, 0x04, 0x64], |r| {
            matches!(r, Rejection::Malformed(DecodeError::Cbor(_)))
        }),
        ("wrong types", vec![0x83, 1, 2, 3], |r| {
            matches!(r, Rejection::Malformed(DecodeError::NotAMap))
        }),
        ("unknown type", wire_unknown(), |r| {
            matches!(r, Rejection::Malformed(DecodeError::UnknownType(_)))
        }),
        ("oversized", vec![0u8; 70 * 1024 * 1024], |r| {
            matches!(r, Rejection::Malformed(DecodeError::TooLarge { .. }))
        }),
        ("invalid document id", sync_with(vec![], "nope"), |r| {
            matches!(r, Rejection::Malformed(DecodeError::Id(_)))
        }),
        (
            "garbage sync payload",
            sync_with(vec![0x42, 0xff, 0x13], &case.to_string()),
            |r| matches!(r, Rejection::BadSyncData(_)),
        ),
    ];
    for (name, frame, check) in table {
        let bad = net.tablet("tablet-bad");
        net.connect(bad, server, "mallory");
        net.run();
        net.events(server);
        net.raw_frame(bad, frame);
        let events = net.events(server);
        let rejected = events.iter().find_map(|e| match e {
            Event::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        let reason = rejected.unwrap_or_else(|| panic!("{name}: no rejection in {events:?}"));
        assert!(check(&reason), "{name}: unexpected {reason:?}");
        assert!(
            net.server_conn_of(bad).is_none(),
            "{name}: the bad connection is closed"
        );
        assert_eq!(
            net.heads(server, &case),
            heads,
            "{name}: documents unchanged"
        );
        assert!(
            net.server_conn_of(good).is_some(),
            "{name}: the good peer stays connected"
        );
    }
    // The good peer still syncs.
    set_status(&mut net, good, &case, "screening");
    net.run();
    assert_eq!(net.heads(server, &case), net.heads(good, &case));
}

fn wire_unknown() -> Vec<u8> {
    let value = ciborium::Value::Map(vec![(
        ciborium::Value::Text("type".into()),
        ciborium::Value::Text("teleport".into()),
    )]);
    let mut m = vec![];
    ciborium::into_writer(&value, &mut m).expect("encode");
    m
}

#[test]
fn a_full_disk_refuses_the_change_clearly_and_the_retry_succeeds() {
    let case = case_id(8);
    let mut net = Net::new(7);
    let server = net.server("rops", TestPolicy::default());
    let worker = net.tablet("tablet-1");
    opens_case(&mut net, worker, server, "anna", case);
    let durable = net.heads(server, &case);

    net.nodes[server].store.fail_writes(true);
    set_status(&mut net, worker, &case, "screening");
    net.run();
    let events = net.events(server);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::StorageFailed { .. })));
    let told = net.log.iter().any(|(from, to, m)| {
        *from == server
            && *to == worker
            && matches!(m, Message::Error { message } if message.contains("could not store"))
    });
    assert!(told, "the tablet is told its changes were not stored");
    assert!(net.server_conn_of(worker).is_none());
    let on_disk_heads = stored_heads(&net, server, case);
    assert_eq!(on_disk_heads, durable, "nothing half-stored");

    // Space returns; the tablet reconnects and its change lands.
    net.nodes[server].store.fail_writes(false);
    net.connect(worker, server, "anna");
    net.run();
    assert_eq!(net.heads(server, &case), net.heads(worker, &case));
    assert_eq!(
        net.doc(server, &case)
            .get(automerge::ROOT, "status")
            .expect("get")
            .map(|(v, _)| v.to_string()),
        Some("\"screening\"".to_string())
    );
}

#[test]
fn ephemeral_presence_is_relayed_once_to_readers_only() {
    let case = case_id(9);
    let mut net = Net::new(8);
    let server = server_with_rules(
        &mut net,
        &[
            ("anna", case, Access::ReadWrite),
            ("jan", case, Access::ReadWrite),
        ],
    );
    let a = net.tablet("tablet-a");
    let b = net.tablet("tablet-b");
    let c = net.tablet("tablet-c");
    net.connect(a, server, "anna");
    net.connect(b, server, "jan");
    net.connect(c, server, "eve");
    net.create(a, case, seed_doc);
    net.run();
    net.find(b, case);
    net.find(c, case);
    net.run();
    net.events(b);
    net.events(c);
    net.input(
        a,
        Input::Broadcast {
            document: case,
            data: vec![1, 2, 3],
        },
    );
    // The same frame arriving twice (a client echo) is relayed once.
    net.run();
    let got_b: Vec<Event> = net
        .events(b)
        .into_iter()
        .filter(|e| matches!(e, Event::Ephemeral { .. }))
        .collect();
    assert_eq!(got_b.len(), 1);
    assert!(
        matches!(&got_b[0], Event::Ephemeral { sender_id, data, .. } if sender_id.as_str() == "tablet-a" && data == &vec![1, 2, 3])
    );
    let got_c = net
        .events(c)
        .into_iter()
        .filter(|e| matches!(e, Event::Ephemeral { .. }))
        .count();
    assert_eq!(
        got_c, 0,
        "a peer who may not read the case gets no presence for it"
    );

    // A replayed copy (same sender, session and count) is dropped by the server.
    let replay = net
        .log
        .iter()
        .find_map(|(from, _, m)| match m {
            Message::Ephemeral(e) if *from == a => Some(e.clone()),
            _ => None,
        })
        .expect("a sent one");
    net.raw_frame(a, wire::encode(&Message::Ephemeral(replay)));
    net.run();
    assert_eq!(
        net.events(b)
            .iter()
            .filter(|e| matches!(e, Event::Ephemeral { .. }))
            .count(),
        0
    );
}

#[test]
fn handshake_rules() {
    use sync_core::engine::{ConnId, Direction, Engine, EngineConfig, Principal};
    use sync_core::wire::{Join, PeerMetadata};
    let mut server = Engine::new(
        EngineConfig::server(PeerId::new("rops").expect("id")),
        TestPolicy::default(),
    );
    let join = |versions: Vec<&str>, who: &str| {
        wire::encode(&Message::Join(Join {
            sender_id: PeerId::new(who).expect("id"),
            metadata: PeerMetadata::default(),
            supported_protocol_versions: versions.into_iter().map(String::from).collect(),
        }))
    };
    let connect = |server: &mut Engine<TestPolicy>, n: u64| {
        server.handle(
            Millis(0),
            Input::Connected {
                conn: ConnId(n),
                direction: Direction::Inbound,
                principal: Principal::new("anna", "t"),
            },
        )
    };
    // No common version: an error, then close (after the host heard of the refusal).
    connect(&mut server, 1);
    let effects: Vec<Effect> = server
        .handle(
            Millis(1),
            Input::Frame {
                conn: ConnId(1),
                bytes: join(vec!["2"], "x"),
            },
        )
        .into_iter()
        .filter(|e| !matches!(e, Effect::Event(_)))
        .collect();
    assert!(matches!(
        &effects[0],
        Effect::Send {
            message: Message::Error { .. },
            ..
        }
    ));
    assert!(matches!(
        &effects[1],
        Effect::Close {
            conn: ConnId(1),
            ..
        }
    ));
    // A sync before join is a protocol violation.
    connect(&mut server, 2);
    let early = wire::encode(&Message::Sync(DocMessage {
        sender_id: PeerId::new("x").expect("id"),
        target_id: PeerId::new("rops").expect("id"),
        document_id: case_id(1),
        data: vec![],
    }));
    let effects = server.handle(
        Millis(1),
        Input::Frame {
            conn: ConnId(2),
            bytes: early,
        },
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Close {
            conn: ConnId(2),
            ..
        }
    )));
    // A second join with the same senderId replaces the older socket.
    connect(&mut server, 3);
    connect(&mut server, 4);
    server.handle(
        Millis(2),
        Input::Frame {
            conn: ConnId(3),
            bytes: join(vec!["1"], "same"),
        },
    );
    let effects = server.handle(
        Millis(3),
        Input::Frame {
            conn: ConnId(4),
            bytes: join(vec!["1"], "same"),
        },
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Close {
            conn: ConnId(3),
            ..
        }
    )));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Send {
            conn: ConnId(4),
            message: Message::Peer(_)
        }
    )));
}

#[test]
fn the_sender_hears_its_own_changes_acknowledged() {
    let case = case_id(10);
    let mut net = Net::new(9);
    let server = net.server("rops", TestPolicy::default());
    let worker = net.tablet("tablet-1");
    opens_case(&mut net, worker, server, "anna", case);
    set_status(&mut net, worker, &case, "screening");
    net.run();
    let conn = sync_core::engine::ConnId(1);
    let mut acked = net.nodes[worker]
        .engine
        .peer_heads(conn, &case)
        .expect("server spoke");
    acked.sort();
    assert_eq!(
        acked,
        net.heads(worker, &case),
        "the server advertised the durable heads back"
    );
}

#[test]
fn a_tablet_that_asked_too_early_gets_the_case_when_it_arrives() {
    let case = case_id(11);
    let mut net = Net::new(10);
    let server = net.server("rops", TestPolicy::default());
    let early = net.tablet("tablet-early");
    let author = net.tablet("tablet-author");
    fetches_case(&mut net, early, server, "anna", case);
    assert!(net
        .events(early)
        .iter()
        .any(|e| matches!(e, Event::DocumentUnavailable { .. })));
    // The author, offline until now, uploads the case.
    opens_case(&mut net, author, server, "anna", case);
    assert_eq!(net.heads(early, &case), net.heads(author, &case));
    assert!(!net.heads(early, &case).is_empty());
}

#[test]
fn changes_that_break_the_rules_are_refused_and_nothing_of_them_is_kept() {
    let case = case_id(12);
    let mut net = Net::new(11);
    let policy = TestPolicy {
        rules: None,
        invalid_status: Some("closed-without-plan"),
        ..TestPolicy::default()
    };
    let server = net.server("rops", policy);
    let (worker, partner) = worker_and_partner_share(&mut net, server, case);
    let good = net.heads(server, &case);

    set_status(&mut net, worker, &case, "closed-without-plan");
    net.run();
    let events = net.events(server);
    assert!(
        events.iter().any(|e| matches!(e,
        Event::Rejected { reason: Rejection::ChangesRefused(r), .. } if r.to_string().contains("not allowed")))
    );
    let told = net.log.iter().any(|(from, to, m)| {
        *from == server
            && *to == worker
            && matches!(m, Message::Error { message } if message.contains("not allowed"))
    });
    assert!(told, "the tablet is told why");
    assert_eq!(
        net.heads(partner, &case),
        good,
        "nobody received the refused change"
    );
    let on_disk = stored_heads(&net, server, case);
    assert_eq!(on_disk, good, "nothing of it was stored");
    // The partner keeps working with the server.
    set_status(&mut net, partner, &case, "screening");
    net.run();
    assert_eq!(net.heads(server, &case), net.heads(partner, &case));
}

#[test]
fn a_busy_case_is_compacted_without_losing_anything() {
    let case = case_id(13);
    let mut net = Net::new(12);
    let server = net.server_with("rops", TestPolicy::default(), |c| {
        c.compact_min_bytes = 0;
        c.compact_max_chunks = 4;
    });
    let worker = net.tablet("tablet-1");
    opens_case(&mut net, worker, server, "anna", case);
    for i in 0..40 {
        net.edit(worker, &case, |d| {
            let notes = obj(d, "notes");
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.splice_text(&notes, 0, 0, &format!("{i} "))
            })
            .expect("edit");
        });
        net.run();
    }
    let stored = net.nodes[server]
        .store
        .load_now(case)
        .expect("load")
        .expect("stored");
    let snapshots = stored
        .chunks
        .iter()
        .filter(|(k, _)| k.kind == sync_core::storage::ChunkKind::Snapshot)
        .count();
    assert!(
        snapshots >= 1,
        "the increments were compacted into a snapshot"
    );
    assert!(
        stored.chunks.len() <= 6,
        "{} chunks left",
        stored.chunks.len()
    );
    let mut reloaded = sync_core::engine::load_stored(&stored)
        .expect("loads")
        .get_heads();
    reloaded.sort();
    assert_eq!(
        reloaded,
        net.heads(worker, &case),
        "nothing lost in compaction"
    );
}

#[test]
fn a_flood_of_requests_for_made_up_documents_keeps_nothing_resident() {
    let mut net = Net::new(11);
    let server = net.server("rops", TestPolicy::default());
    let mallory = net.tablet("tablet-mallory");
    net.connect(mallory, server, "mallory");
    net.run();
    let flood = sync_core::engine::MAX_WAITING_PER_PEER + 2_000;
    for n in 0..flood {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&(n as u64).to_be_bytes());
        bytes[15] = 0xf1;
        net.find(mallory, DocumentId::from_bytes(bytes));
    }
    net.run();
    let unavailable = net
        .log
        .iter()
        .filter(|(from, _, m)| *from == server && matches!(m, Message::DocUnavailable { .. }))
        .count();
    assert_eq!(unavailable, flood, "every request is answered");
    let (_, resident, known) = net.nodes[server].engine.stats();
    assert_eq!(resident, 0, "no empty document stays in memory");
    assert!(
        known <= sync_core::engine::MAX_WAITING_PER_PEER,
        "the server remembers {known} documents for one peer"
    );
}
