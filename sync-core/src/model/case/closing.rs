//! Ending the support (9.1 to 9.3): the evaluation, the PZK's decision on the case, and the
//! hand-over to another institution.

use automerge::transaction::Transactable;
use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::types::*;
use crate::error::SchemaError;
use crate::model::editor::{self, Editor};
use crate::model::reader::check_id;
use crate::model::write;

/// Writes the evaluation (9.1).
pub fn set_evaluation(
    doc: &mut Automerge,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let evaluation = open_case(doc)?.map(key::EVALUATION)?;
    let text_obj = evaluation.text_obj(key::TEXT)?.id();
    let evaluation = evaluation.id();
    let message = editor::message("evaluation: updated", by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &text_obj, text)?;
        tx.put(&evaluation, key::BY, by.login())?;
        tx.put(&evaluation, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Records the PZK's decision on the case (9.2), with the deciding meeting's id when known.
pub fn set_pzk_decision(
    doc: &mut Automerge,
    decision: PzkDecision,
    meeting: Option<&str>,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = open_case(doc)?.map(key::PZK_DECISION)?.id();
    if let Some(meeting) = meeting {
        check_id(&format!("{}/{}", key::PZK_DECISION, key::MEETING), meeting)?;
    }
    let message = editor::message(format_args!("pzkDecision: {decision}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&map, key::DECISION, decision.as_str())?;
        write::put_opt_str(tx, &map, key::MEETING, meeting)?;
        tx.put(&map, key::BY, by.login())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Records the agreed hand-over (*przekazanie*, 9.3) to `target` (an institution, and the
/// worker there when agreed) with a note. The case moves to stage `handed_over` with
/// [`workflow::transition`](super::workflow::transition).
pub fn set_handover(
    doc: &mut Automerge,
    target: &HandoverTarget,
    note: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let handover = open_case(doc)?.map(key::HANDOVER)?;
    check_id(&handover.path_of(key::TARGET), &target.institution)?;
    let note_text = handover.text_obj(key::NOTE)?.id();
    let handover = handover.id();
    let message = editor::message(format_args!("handover: to {}", target.institution), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&handover, key::TARGET, target.institution.as_str())?;
        write::put_opt_str(tx, &handover, key::TARGET_WORKER, target.worker.as_deref())?;
        write::update_text(tx, &note_text, note)?;
        tx.put(&handover, key::BY, by.login())?;
        tx.put(&handover, key::AT, write::timestamp(at))?;
        Ok(())
    })
}
