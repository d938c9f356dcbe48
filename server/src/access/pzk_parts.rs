//! The parts of a PZK document that only its editors change: the team's animator and the ROPS
//! advisers assigned to it (`rules::writes_pzk`). Users of member institutions write the same
//! document (they answer consultations and take part in meetings), so the server keeps, per
//! document, a digest of each guarded part as last validated; a batch that changes one of them
//! and was written by anyone else is refused whole (`refusal.pzk-part-not-editable`).
//!
//! A digest covers every value under the part's root key, each with the operation that wrote it,
//! concurrent values included: a value written beside another, losing, is a change too.

use std::collections::BTreeMap;

use automerge::{Automerge, ObjId, ObjType, Prop, ReadDoc, Value, ROOT};
use sha2::{Digest, Sha256};

/// The root keys only the team's editors change (the labels `pzkPart` of the catalogue name
/// them). Meetings and consultations are not among them.
pub(super) const GUARDED: [&str; 9] = [
    "name",
    "animator",
    "agreement",
    "leader",
    "members",
    "workPlan",
    "services",
    "decision92",
    "recommendations",
];

/// Each guarded part's digest (hex), by root key.
pub(super) fn digests(doc: &Automerge) -> BTreeMap<String, String> {
    GUARDED
        .iter()
        .map(|part| {
            let mut hasher = Sha256::new();
            values(doc, &ROOT, (*part).into(), &mut hasher, 0);
            (part.to_string(), hex::encode(hasher.finalize()))
        })
        .collect()
}

/// The first guarded part whose digest differs between `before` and `after`.
pub(super) fn changed(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Option<String> {
    GUARDED
        .iter()
        .find(|part| before.get(**part) != after.get(**part))
        .map(|part| part.to_string())
}

/// Deeper than any PZK document goes; a deeper object is hashed by its id alone.
const MAX_DEPTH: usize = 16;

/// Feeds every value at `prop` of `obj` (concurrent ones too) into the hasher.
fn values(doc: &Automerge, obj: &ObjId, prop: Prop, hasher: &mut Sha256, depth: usize) {
    let Ok(all) = doc.get_all(obj, prop) else {
        hasher.update(b"?");
        return;
    };
    hasher.update((all.len() as u64).to_le_bytes());
    for (value, id) in all {
        hasher.update(id.to_string().as_bytes());
        match value {
            Value::Scalar(scalar) => hasher.update(format!("={scalar:?};").as_bytes()),
            Value::Object(kind) => object(doc, &id, kind, hasher, depth + 1),
        }
    }
}

fn object(doc: &Automerge, obj: &ObjId, kind: ObjType, hasher: &mut Sha256, depth: usize) {
    hasher.update(format!("{{{kind:?}").as_bytes());
    if depth <= MAX_DEPTH {
        match kind {
            ObjType::Map | ObjType::Table => {
                for key in doc.keys(obj) {
                    hasher.update(format!("{}:{key}", key.len()).as_bytes());
                    values(doc, obj, key.into(), hasher, depth);
                }
            }
            ObjType::List => {
                for index in 0..doc.length(obj) {
                    values(doc, obj, index.into(), hasher, depth);
                }
            }
            ObjType::Text => {
                let text = doc.text(obj).unwrap_or_default();
                hasher.update(format!("{}:{text}", text.len()).as_bytes());
            }
        }
    }
    hasher.update(b"}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn doc_with(status: &str) -> Automerge {
        let mut doc = Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            let agreement = tx.put_object(ROOT, "agreement", ObjType::Map)?;
            tx.put(&agreement, "status", status)?;
            let text = tx.put_object(&agreement, "text", ObjType::Text)?;
            tx.splice_text(&text, 0, 0, "Porozumienie")?;
            tx.put(ROOT, "consultations", "x")?;
            Ok(())
        })
        .expect("doc");
        doc
    }

    #[test]
    fn a_guarded_part_changed_is_named_and_an_open_one_is_not() {
        let mut doc = doc_with("draft");
        let before = digests(&doc);
        doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "consultations", "y"))
            .expect("edit");
        assert_eq!(changed(&before, &digests(&doc)), None);
        // A concurrent value that loses to the one in place changes the part all the same.
        let mut other = doc.fork();
        other
            .transact::<_, _, automerge::AutomergeError>(|tx| {
                let agreement = match tx.get(ROOT, "agreement")? {
                    Some((Value::Object(_), id)) => id,
                    _ => unreachable!("the agreement is a map"),
                };
                tx.put(&agreement, "status", "signed")
            })
            .expect("edit");
        doc.merge(&mut other).expect("merge");
        assert_eq!(
            changed(&before, &digests(&doc)).as_deref(),
            Some("agreement")
        );
    }

    #[test]
    fn equal_documents_have_equal_digests_and_text_counts() {
        let doc = doc_with("draft");
        let mut fork = doc.fork();
        assert_eq!(digests(&doc), digests(&fork));
        let text = match fork.get(
            match fork.get(ROOT, "agreement").expect("get") {
                Some((_, id)) => id,
                None => unreachable!("the agreement exists"),
            },
            "text",
        ) {
            Ok(Some((_, id))) => id,
            _ => unreachable!("the text exists"),
        };
        fork.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&text, 0, 0, "!"))
            .expect("edit");
        assert_eq!(
            changed(&digests(&doc), &digests(&fork)).as_deref(),
            Some("agreement")
        );
    }
}
