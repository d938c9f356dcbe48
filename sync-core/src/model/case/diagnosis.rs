//! The multidimensional diagnosis (*diagnoza wielowymiarowa*, K7.2 step 3): one Text per sector,
//! replaced as a diff or spliced.

use automerge::transaction::Transactable;
use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::types::DiagnosisSector;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::reader::Node;
use crate::model::write;

fn diagnosis_text(doc: &Automerge, sector: DiagnosisSector) -> Result<Node<'_>, SchemaError> {
    open_case(doc)?
        .map(key::DIAGNOSIS)?
        .text_obj(sector.as_str())
}

/// Replaces a diagnosis sector's text; the change is stored as a diff, so concurrent edits of
/// other parts of the same text are kept.
pub fn set_diagnosis_section(
    doc: &mut Automerge,
    sector: DiagnosisSector,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let section = diagnosis_text(doc, sector)?.id();
    let message = editor::message(format_args!("diagnosis/{sector}: updated"), by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &section, text)
    })
}

/// Splices a diagnosis sector's text: deletes `del` characters at `pos` and inserts `insert`
/// there. Positions count in the document's text encoding (Unicode code points by default).
pub fn splice_diagnosis(
    doc: &mut Automerge,
    sector: DiagnosisSector,
    pos: usize,
    del: usize,
    insert: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let section = diagnosis_text(doc, sector)?;
    let len = section.len();
    if pos.checked_add(del).is_none_or(|end| end > len) {
        return Err(SchemaError::Field {
            path: section.path().to_owned(),
            reason: format!("splice of {del} at {pos} is outside the text of length {len}"),
        });
    }
    let del = isize::try_from(del).map_err(|_| SchemaError::Rule(RuleViolation::SpliceTooLong))?;
    let section = section.id();
    let message = editor::message(format_args!("diagnosis/{sector}: edited"), by);
    write::commit(doc, message, at, |tx| {
        tx.splice_text(&section, pos, del, insert)?;
        Ok(())
    })
}
