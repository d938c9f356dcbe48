//! The next planned visit (*następna wizyta*): a calendar date at the case's root, `nextVisit`,
//! which the worker's "today" view reads. Optional: cases written before it have none.
//!
//! It is one scalar at the root, never a map, so two replicas setting it concurrently never
//! race to create an object: the merge keeps one value (Automerge's winner).

use automerge::Automerge;
use chrono::{DateTime, NaiveDate, Utc};

use super::layout::{key, open_case};
use crate::error::SchemaError;
use crate::model::editor::{self, Editor};
use crate::model::write;

/// Sets the next planned visit, or clears it with `None`.
pub fn set_next_visit(
    doc: &mut Automerge,
    day: Option<NaiveDate>,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    open_case(doc)?;
    let day = day.map(write::date);
    let what = format!("nextVisit: {}", day.as_deref().unwrap_or("cleared"));
    let message = editor::message(what, by);
    write::commit(doc, message, at, |tx| {
        write::put_opt_str(tx, &automerge::ROOT, key::NEXT_VISIT, day.as_deref())
    })
}
