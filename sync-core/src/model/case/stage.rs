//! The case's stage: reading it (concurrent values shown by [`resolve`]) and writing it.
//!
//! The rules of which stage may follow which are in [`workflow`](super::workflow); this is the
//! stage value itself, which the reader and the workflow both use.

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::types::Stage;
use crate::error::SchemaError;
use crate::model::conflict::Conflict;
use crate::model::editor::{self, Editor};
use crate::model::write;

/// The stage a case shows when replicas set it concurrently: the value furthest along the
/// workflow, with the others as alternatives, furthest first.
///
/// The result depends only on the set of values, not on which one Automerge chose or in which
/// order they were merged.
pub fn resolve(found: Conflict<Stage>) -> Conflict<Stage> {
    let mut values: Vec<Stage> = found.all().copied().collect();
    values.sort_unstable_by(|a, b| b.cmp(a));
    values.dedup();
    let mut values = values.into_iter();
    match values.next() {
        Some(furthest) => Conflict::new(furthest, values),
        None => found,
    }
}

/// Sets the stage without checking the rules of the workflow, for repairs and migrations;
/// setting the stage settles a conflict on it.
///
/// Use [`workflow::transition`](super::workflow::transition) to move a case and [`workflow::resolve_stage`](super::workflow::resolve_stage) to settle a
/// conflict: they check the rules. A stage set here must still pass [`validate`](crate::model::validate), which
/// the server runs on every change it receives.
pub fn set_stage_raw(
    doc: &mut Automerge,
    stage: Stage,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    open_case(doc)?;
    let message = editor::message(format_args!("stage: {stage} (set without rules)"), by);
    write_stage(doc, stage, message, at)
}

/// Writes the stage as one change with `message`; the workflow's rules are the caller's.
pub(crate) fn write_stage(
    doc: &mut Automerge,
    stage: Stage,
    message: String,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    write::commit(doc, message, at, |tx| {
        tx.put(ROOT, key::STAGE, stage.as_str())?;
        Ok(())
    })
}

/// The case's stage, with the values written concurrently with it.
///
/// When replicas changed the stage concurrently, every replica shows the same value whatever
/// order it merged the changes in: the value furthest along the workflow (see
/// [`workflow::resolve`](super::workflow::resolve)); the others are the alternatives, for someone to confirm one with
/// [`workflow::resolve_stage`](super::workflow::resolve_stage).
pub fn stage(doc: &Automerge) -> Result<Conflict<Stage>, SchemaError> {
    Ok(resolve(open_case(doc)?.status(key::STAGE)?))
}
