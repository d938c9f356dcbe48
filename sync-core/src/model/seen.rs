//! What a user has seen of "Co nowego" (issue #19): one small document per user, which only that
//! user reads and writes (the server's rule), synced to all their devices like every other
//! document, so an item opened on one device is gone on the others.
//!
//! | key | type |
//! | --- | --- |
//! | `type` | `"seen"` (with the header's `schemaVersion`, `createdAt`) |
//! | `owner` | string (the user's login; never changes) |
//! | `seen` | map: item key → timestamp (when it was opened) |
//!
//! An item key names what was new (the app derives the items from the documents it holds,
//! `web/src/model/news.ts`): `consultation:{pzk}:{id}`, `referral:{document}:{status}`,
//! `case:{document}`, `meeting:{pzk}:{id}`, `minutes:{pzk}:{id}`. Entries are only added, so
//! devices that mark items concurrently merge into the union. A user who created the document
//! on two devices while offline has two; the app reads the union of all of them.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::header::{self, DocumentKind};
use super::reader::check_id;
use super::write;
use crate::error::SchemaError;

mod key {
    pub(super) const OWNER: &str = "owner";
    pub(super) const SEEN: &str = "seen";
}

/// A user's "seen" document as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenView {
    /// The user's login.
    pub owner: String,
    /// What they opened, by item key, with when.
    pub seen: BTreeMap<String, DateTime<Utc>>,
}

/// A new "seen" document of user `owner`, written by `actor`.
pub fn new_seen(owner: &str, actor: ActorId, at: DateTime<Utc>) -> Result<Automerge, SchemaError> {
    check_id(key::OWNER, owner)?;
    let mut doc = Automerge::new().with_actor(actor);
    let message = write::message("seen: created", owner);
    write::commit(&mut doc, message, at, |tx| {
        header::write_header(tx, DocumentKind::Seen, at)?;
        tx.put(ROOT, key::OWNER, owner)?;
        write::new_map(tx, &ROOT, key::SEEN)?;
        Ok(())
    })?;
    Ok(doc)
}

/// Marks `items` seen at `at` (those already seen keep their first time).
pub fn mark_seen(
    doc: &mut Automerge,
    items: &[&str],
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = header::open(doc, DocumentKind::Seen)?;
    let owner = root.str(key::OWNER)?;
    let seen = root.map(key::SEEN)?;
    let mut fresh = Vec::new();
    for item in items {
        check_id(key::SEEN, item)?;
        if !seen.has(item)? {
            fresh.push(*item);
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let seen = seen.id();
    let message = write::message(format_args!("seen: {} item(s)", fresh.len()), &owner);
    write::commit(doc, message, at, |tx| {
        for item in fresh {
            tx.put(&seen, item, write::timestamp(at))?;
        }
        Ok(())
    })
}

/// Reads a "seen" document.
pub fn read_seen(doc: &Automerge) -> Result<SeenView, SchemaError> {
    let root = header::open(doc, DocumentKind::Seen)?;
    let owner = root.str(key::OWNER)?;
    check_id(key::OWNER, &owner)?;
    let mut seen = BTreeMap::new();
    let map = root.map(key::SEEN)?;
    for item in map.ids()? {
        check_id(key::SEEN, &item)?;
        seen.insert(item.clone(), map.timestamp(&item)?);
    }
    Ok(SeenView { owner, seen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{actor, at, fork_as, merged};

    #[test]
    fn items_seen_on_two_devices_merge_and_an_item_is_kept_with_its_first_time() {
        let doc = new_seen("szkola-rep", actor("phone"), at(9)).expect("new");
        let (mut phone, mut laptop) = (fork_as(&doc, "phone-2"), fork_as(&doc, "laptop"));
        mark_seen(&mut phone, &["consultation:P:k1"], at(10)).expect("seen");
        mark_seen(&mut laptop, &["case:C", "consultation:P:k1"], at(11)).expect("seen");
        let both = merged(&phone, &laptop);
        let view = read_seen(&both).expect("reads");
        assert_eq!(view.owner, "szkola-rep");
        assert_eq!(
            view.seen.keys().collect::<Vec<_>>(),
            ["case:C", "consultation:P:k1"]
        );
        let heads = phone.get_heads();
        mark_seen(&mut phone, &["consultation:P:k1"], at(12)).expect("nothing new");
        assert_eq!(phone.get_heads(), heads);
        assert_eq!(
            crate::model::validate(&both).expect("valid"),
            DocumentKind::Seen
        );
        assert!(mark_seen(&mut phone, &["a/b"], at(12)).is_err());
    }
}
