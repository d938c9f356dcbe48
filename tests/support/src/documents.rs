//! Plain documents for tests that sync bytes rather than cases: an untyped document with a
//! `notes` text, a PZK team's document, and random document ids.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use sync_core::model::pzk::{self, PzkInit};
use sync_core::DocumentId;

/// An untyped document (`type: test`) with a `notes` text and a `fields` map.
pub fn new_case() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "type", "test")?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        tx.put_object(ROOT, "fields", ObjType::Map)?;
        Ok(())
    })
    .expect("seed");
    doc
}

/// A fresh random document id.
pub fn random_id() -> DocumentId {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    DocumentId::from_bytes(b)
}

/// The `notes` text, or "" while the document has not arrived.
pub fn notes(doc: &Automerge) -> String {
    match doc.get(ROOT, "notes") {
        Ok(Some((_, id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The PZK document of team `pzk1`, as its animator makes it.
pub fn new_team_doc() -> Automerge {
    let init = PzkInit {
        actor: automerge::ActorId::random(),
        name: "PZK Gminy Przykładowo".into(),
        animator: "animator1".into(),
        agreement_text: "Porozumienie o współpracy.".into(),
    };
    pzk::new_pzk(&init, chrono::Utc::now()).expect("pzk")
}
