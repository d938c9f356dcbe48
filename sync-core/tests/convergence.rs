//! Property: replicas that edit offline and then sync through the server over a network that
//! delays, reorders, duplicates and drops frames (with reconnects) all end with the same heads
//! and the same content.

use crate::harness;

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use harness::{obj, seed_doc, text_of, Faults, Net, TestPolicy};
use proptest::prelude::*;
use sync_core::DocumentId;

#[derive(Clone, Debug)]
enum Edit {
    Splice {
        pos: usize,
        del: usize,
        text: String,
    },
    MapWrite {
        key: u8,
        value: i64,
    },
    ListInsert {
        pos: usize,
        value: i64,
    },
    Status(u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0usize..40, 0usize..3, "[a-z ]{1,6}").prop_map(|(pos, del, text)| Edit::Splice {
            pos,
            del,
            text
        }),
        (0u8..4, any::<i64>()).prop_map(|(key, value)| Edit::MapWrite { key, value }),
        (0usize..10, any::<i64>()).prop_map(|(pos, value)| Edit::ListInsert { pos, value }),
        (0u8..5).prop_map(Edit::Status),
    ]
}

const STAGES: [&str; 5] = ["referral", "screening", "diagnosis", "plan", "contract"];

fn apply(doc: &mut automerge::Automerge, e: &Edit) {
    let notes = obj(doc, "notes");
    let fields = obj(doc, "fields");
    let items = obj(doc, "items");
    let mut tx = doc.transaction();
    match e {
        Edit::Splice { pos, del, text } => {
            let len = tx.length(&notes);
            let pos = (*pos).min(len);
            let del = (*del).min(len - pos);
            tx.splice_text(&notes, pos, del as isize, text)
                .expect("splice");
        }
        Edit::MapWrite { key, value } => {
            tx.put(&fields, format!("k{key}"), *value).expect("put");
        }
        Edit::ListInsert { pos, value } => {
            let pos = (*pos).min(tx.length(&items));
            tx.insert(&items, pos, *value).expect("insert");
        }
        Edit::Status(s) => {
            tx.put(ROOT, "status", STAGES[*s as usize]).expect("put");
        }
    }
    tx.commit();
}

fn content(doc: &automerge::Automerge) -> String {
    let fields = obj(doc, "fields");
    let items = obj(doc, "items");
    let mut keys: Vec<String> = doc.keys(&fields).collect();
    keys.sort();
    let map: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{k}={:?}",
                doc.get(&fields, k.as_str())
                    .expect("get")
                    .map(|(v, _)| v.to_string())
            )
        })
        .collect();
    let list: Vec<String> = (0..doc.length(&items))
        .map(|i| {
            format!(
                "{:?}",
                doc.get(&items, i).expect("get").map(|(v, _)| v.to_string())
            )
        })
        .collect();
    let mut statuses: Vec<String> = doc
        .get_all(ROOT, "status")
        .expect("get_all")
        .into_iter()
        .map(|(v, _)| v.to_string())
        .collect();
    statuses.sort();
    format!(
        "{}|{}|{}|{}",
        text_of(doc, "notes"),
        map.join(","),
        list.join(","),
        statuses.join(",")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn replicas_converge_over_a_faulty_network(
        replicas in 2usize..=5,
        edits in prop::collection::vec((0usize..5, edit()), 1..40),
        seed in any::<u64>(),
        drop in 0.0f64..0.3,
        duplicate in 0.0f64..0.3,
        reorder in 0.0f64..0.3,
        cuts in prop::collection::vec(0usize..5, 0..4),
    ) {
        let mut net = Net::new(seed);
        let server = net.server("rops", TestPolicy::default());
        let case = DocumentId::from_bytes([9; 16]);
        let tablets: Vec<usize> = (0..replicas).map(|i| net.tablet(&format!("tablet-{i}"))).collect();
        // Everyone starts from the same case, then goes offline.
        net.connect(tablets[0], server, "anna");
        net.create(tablets[0], case, seed_doc);
        net.run();
        for t in &tablets[1..] {
            net.connect(*t, server, "anna");
            net.find(*t, case);
        }
        net.run();
        for t in &tablets {
            net.disconnect(*t);
        }
        for (who, e) in &edits {
            let t = tablets[who % replicas];
            net.edit(t, &case, |d| apply(d, e));
        }
        // Reconnect over a bad network, with connections cut now and then.
        net.faults = Faults { drop, duplicate, reorder, max_delay: 5 };
        for t in &tablets {
            net.connect(*t, server, "anna");
        }
        for (round, cut) in cuts.iter().enumerate() {
            for _ in 0..(10 + round * 7) {
                net.step();
            }
            let t = tablets[cut % replicas];
            net.disconnect(t);
            net.connect(t, server, "anna");
        }
        for _ in 0..50 {
            net.step();
        }
        // The network heals: every tablet reconnects once more and syncs to the end.
        net.faults = Faults::default();
        for t in &tablets {
            net.disconnect(*t);
            net.connect(*t, server, "anna");
        }
        net.run();
        let heads = net.heads(server, &case);
        let expected = content(net.doc(server, &case));
        for t in &tablets {
            prop_assert_eq!(&net.heads(*t, &case), &heads);
            prop_assert_eq!(&content(net.doc(*t, &case)), &expected);
        }
    }
}
