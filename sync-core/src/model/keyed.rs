//! Saving one entry of an id-keyed map (a household member, a goal, a PZK member, a meeting...):
//! create it when it is new, otherwise change only the fields that differ.
//!
//! An upsert reads before it writes: [`KeyedEntry::read`] checks the id and, when the entry
//! exists, takes its object and its current value from the document; inside the edit's
//! transaction [`KeyedEntry::open`] then gives the entry's map (creating it when new) and the
//! current value to compare against, so an unchanged field adds no operation.

use automerge::transaction::Transaction;
use automerge::ObjId;

use super::reader::{check_id, Node};
use crate::error::SchemaError;

/// An entry of an id-keyed map about to be saved: where it goes and what it holds now.
pub(crate) struct KeyedEntry<T> {
    /// The id-keyed map the entry belongs to.
    parent: ObjId,
    /// The entry's id (its key in `parent`).
    id: String,
    /// The entry's map and its current value, when the entry exists.
    existing: Option<(ObjId, T)>,
}

impl<T> KeyedEntry<T> {
    /// Entry `id` of the id-keyed map `parent`, read with `read` when it exists.
    ///
    /// The id is checked first (see [`check_id`]).
    pub(crate) fn read<'a>(
        parent: &Node<'a>,
        id: &str,
        read: impl FnOnce(&Node<'a>) -> Result<T, SchemaError>,
    ) -> Result<Self, SchemaError> {
        check_id(parent.path(), id)?;
        let existing = match parent.has(id)? {
            true => {
                let node = parent.map(id)?;
                Some((node.id(), read(&node)?))
            }
            false => None,
        };
        Ok(Self {
            parent: parent.id(),
            id: id.to_owned(),
            existing,
        })
    }

    /// Inside the edit's transaction: the entry's map and its current value, or, for a new
    /// entry, the map `create` makes at the entry's key of the parent and no current value.
    pub(crate) fn open(
        self,
        tx: &mut Transaction<'_>,
        create: impl FnOnce(&mut Transaction<'_>, &ObjId, &str) -> Result<ObjId, SchemaError>,
    ) -> Result<(ObjId, Option<T>), SchemaError> {
        match self.existing {
            Some((map, current)) => Ok((map, Some(current))),
            None => Ok((create(tx, &self.parent, &self.id)?, None)),
        }
    }

    /// Inside the edit's transaction: `update` of the existing entry (its map and current
    /// value), or `create` of a new one at the entry's key of the parent.
    pub(crate) fn save<R>(
        self,
        tx: &mut Transaction<'_>,
        create: impl FnOnce(&mut Transaction<'_>, &ObjId, &str) -> Result<R, SchemaError>,
        update: impl FnOnce(&mut Transaction<'_>, &ObjId, &T) -> Result<R, SchemaError>,
    ) -> Result<R, SchemaError> {
        match &self.existing {
            Some((map, current)) => update(tx, map, current),
            None => create(tx, &self.parent, &self.id),
        }
    }
}
