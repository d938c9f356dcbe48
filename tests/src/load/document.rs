//! The workload's document `{title, n, notes: text, items: []}`: making one, reading it back,
//! and comparing heads.

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};

/// `{title, n: 0, notes: "", items: []}` and the id of `notes`.
pub(crate) fn new_document(title: &str) -> Result<(automerge::Automerge, ObjId), AutomergeError> {
    let mut doc = automerge::Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", title)?;
    tx.put(ROOT, "n", 0_i64)?;
    let notes = tx.put_object(ROOT, "notes", ObjType::Text)?;
    tx.put_object(ROOT, "items", ObjType::List)?;
    tx.commit();
    Ok((doc, notes))
}

/// The document's `n` (the number of the last edit), 0 when absent.
pub(crate) fn read_n(doc: &automerge::Automerge) -> i64 {
    match doc.get(ROOT, "n") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Int(i) => *i,
            ScalarValue::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
            ScalarValue::F64(f) => *f as i64,
            _ => 0,
        },
        _ => 0,
    }
}

/// The document's `title`.
pub(crate) fn read_title(doc: &automerge::Automerge) -> Option<String> {
    match doc.get(ROOT, "title") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The length of the document's `notes`.
pub(crate) fn notes_len(doc: &automerge::Automerge) -> usize {
    match doc.get(ROOT, "notes") {
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.length(&id),
        _ => 0,
    }
}

/// Whether two sets of heads are equal.
pub fn same_heads(mut a: Vec<ChangeHash>, mut b: Vec<ChangeHash>) -> bool {
    a.sort();
    b.sort();
    a == b
}
