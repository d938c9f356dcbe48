//! Writing a justice document: creating it for a case and writing entries down.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::{key, JusticeEntry};
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::header::{self, DocumentKind};
use crate::model::reader::check_id;
use crate::model::write;

/// A new, empty justice document for the case `case_id`, created by `by` with `actor`.
pub fn new_justice(
    case_id: &str,
    actor: ActorId,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<Automerge, SchemaError> {
    check_id(key::CASE, case_id)?;
    let mut doc = Automerge::new().with_actor(actor);
    let message = editor::message(format_args!("justice: created for {case_id}"), by);
    write::commit(&mut doc, message, at, |tx| {
        header::write_header(tx, DocumentKind::Justice, at)?;
        tx.put(ROOT, key::CASE, case_id)?;
        write::new_map(tx, &ROOT, key::ENTRIES)?;
        Ok(())
    })?;
    Ok(doc)
}

/// Writes down one piece of information as entry `id`, by `by`.
///
/// The informing institution and the content are required
/// ([`RuleViolation::JusticeIncomplete`] names the first one missing); an entry is written once
/// ([`RuleViolation::EntryExists`]).
pub fn add_justice_entry(
    doc: &mut Automerge,
    id: &str,
    entry: &JusticeEntry,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let required = [
        (key::INFORMED_BY, entry.informed_by.as_str()),
        (key::CONTENT, entry.content.as_str()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(SchemaError::Rule(RuleViolation::JusticeIncomplete(field)));
    }
    let entries = header::open(doc, DocumentKind::Justice)?.map(key::ENTRIES)?;
    entries.absent(id, "justice entry")?;
    let entries = entries.id();
    let message = editor::message(format_args!("justice: entry {id}"), by);
    write::commit(doc, message, at, |tx| {
        let node = write::new_map(tx, &entries, id)?;
        tx.put(&node, key::PROCEDURE, entry.procedure.as_str())?;
        tx.put(&node, key::NUMBER, entry.number.trim())?;
        tx.put(&node, key::INFORMED_BY, entry.informed_by.trim())?;
        tx.put(&node, key::DATE, write::date(entry.date))?;
        write::new_text(tx, &node, key::CONTENT, &entry.content)?;
        tx.put(&node, key::AUTHOR, by.login())?;
        tx.put(&node, key::INSTITUTION, by.institution())?;
        tx.put(&node, key::AT, write::timestamp(at))?;
        Ok(())
    })
}
