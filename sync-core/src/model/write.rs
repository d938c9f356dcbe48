//! Writing: one Automerge change per edit, with a message and the caller's time.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue};
use chrono::{DateTime, NaiveDate, Utc};

use super::reader::DATE_FORMAT;
use crate::error::SchemaError;

/// Runs `edit` as one change with `message` and the time `at` (seconds, as automerge-repo does).
///
/// When `edit` fails, nothing of it is kept.
pub(crate) fn commit<O>(
    doc: &mut Automerge,
    message: String,
    at: DateTime<Utc>,
    edit: impl FnOnce(&mut Transaction<'_>) -> Result<O, SchemaError>,
) -> Result<O, SchemaError> {
    doc.transact_with(
        |_| {
            CommitOptions::default()
                .with_message(message)
                .with_time(at.timestamp())
        },
        edit,
    )
    .map(|success| success.result)
    .map_err(|failure| failure.error)
}

/// A timestamp as stored: milliseconds since the epoch, like a JavaScript `Date`.
pub(crate) fn timestamp(at: DateTime<Utc>) -> ScalarValue {
    ScalarValue::Timestamp(at.timestamp_millis())
}

/// A calendar date as stored: `YYYY-MM-DD`.
pub(crate) fn date(day: NaiveDate) -> String {
    day.format(DATE_FORMAT).to_string()
}

/// Creates a map at `key` of `obj`.
pub(crate) fn new_map(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, SchemaError> {
    Ok(tx.put_object(obj, key, ObjType::Map)?)
}

/// Creates a list at `key` of `obj`.
pub(crate) fn new_list(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, SchemaError> {
    Ok(tx.put_object(obj, key, ObjType::List)?)
}

/// Creates a Text object at `key` of `obj` holding `content`.
pub(crate) fn new_text(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    content: &str,
) -> Result<ObjId, SchemaError> {
    let text = tx.put_object(obj, key, ObjType::Text)?;
    tx.splice_text(&text, 0, 0, content)?;
    Ok(text)
}

/// Replaces the content of an existing Text object by a diff, so concurrent edits elsewhere in
/// the same text survive the merge.
pub(crate) fn update_text(
    tx: &mut Transaction<'_>,
    text: &ObjId,
    content: &str,
) -> Result<(), SchemaError> {
    Ok(tx.update_text(text, content)?)
}

/// Sets a scalar only when `current` (the winning value) differs, so an unchanged field adds no
/// operation that could conflict with a concurrent edit.
pub(crate) fn put_if_changed<V>(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    current: Option<&V>,
    new: V,
) -> Result<(), SchemaError>
where
    V: PartialEq + Into<ScalarValue>,
{
    if current != Some(&new) {
        tx.put(obj, key, new)?;
    }
    Ok(())
}

/// The scalar fields of one map being saved, each put only when it differs from the map's
/// current value (there is none for a map just created): see [`put_if_changed`].
pub(crate) struct Fields<'f, 'tx, T> {
    tx: &'f mut Transaction<'tx>,
    map: &'f ObjId,
    current: Option<&'f T>,
}

impl<'f, 'tx, T> Fields<'f, 'tx, T> {
    /// The fields of `map`, whose current value is `current`.
    pub(crate) fn new(
        tx: &'f mut Transaction<'tx>,
        map: &'f ObjId,
        current: Option<&'f T>,
    ) -> Self {
        Self { tx, map, current }
    }

    /// Puts `new` at `key` unless `field` of the current value is equal to it.
    pub(crate) fn put<V>(
        &mut self,
        key: &str,
        field: impl FnOnce(&'f T) -> V,
        new: V,
    ) -> Result<(), SchemaError>
    where
        V: PartialEq + Into<ScalarValue>,
    {
        let current = self.current.map(field);
        put_if_changed(self.tx, self.map, key, current.as_ref(), new)
    }
}

/// Sets or removes an optional string.
pub(crate) fn put_opt_str(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<(), SchemaError> {
    match value {
        Some(value) => tx.put(obj, key, value)?,
        None if tx.get(obj, key)?.is_some() => tx.delete(obj, key)?,
        None => {}
    }
    Ok(())
}

/// A commit message naming what changed and the login of who changed it (see
/// [`super::editor`] for the convention; case edits name the institution too).
pub(crate) fn message(what: impl std::fmt::Display, by: &str) -> String {
    super::editor::message_by_login(what, by)
}
