//! The case's logs written during the work: monitoring notes, consultations with other
//! institutions and their answers, and consent events. Entries are append-only.

use automerge::transaction::Transactable;
use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::types::*;
use crate::error::SchemaError;
use crate::model::consultation::{self, Answer, ConsultationRequest, NewAnswer};
use crate::model::editor::{self, Editor};
use crate::model::reader::check_id;
use crate::model::write;

/// Appends a monitoring note; notes are append-only, so an existing `note_id` is refused.
pub fn append_monitoring_note(
    doc: &mut Automerge,
    note_id: &str,
    note: &MonitoringNote,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let notes = open_case(doc)?.map(key::MONITORING)?;
    notes.absent(note_id, "monitoring note")?;
    let notes = notes.id();
    let author = Editor::new(&note.author, &note.institution)?;
    let message = editor::message(
        format_args!("monitoring/{note_id}: {} note", note.mode),
        &author,
    );
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &notes, note_id)?;
        tx.put(&map, key::AUTHOR, note.author.as_str())?;
        tx.put(&map, key::INSTITUTION, note.institution.as_str())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        tx.put(&map, key::MODE, note.mode.as_str())?;
        write::new_text(tx, &map, key::TEXT, &note.text)?;
        Ok(())
    })
}

/// Opens a consultation (*konsultacja*) about the case with other institutions.
pub fn open_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    request: &ConsultationRequest,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consultations = open_case(doc)?.map(key::CONSULTATIONS)?;
    consultations.absent(consultation_id, "consultation")?;
    let consultations = consultations.id();
    let author = Editor::new(&request.asked_by, &request.institution)?;
    let message = editor::message(
        format_args!("consultations/{consultation_id}: opened"),
        &author,
    );
    write::commit(doc, message, at, |tx| {
        consultation::create(tx, &consultations, consultation_id, request, at)?;
        Ok(())
    })
}

/// Adds an answer to a consultation; answers are keyed by id, so concurrent answers all stay.
pub fn answer_consultation(
    doc: &mut Automerge,
    consultation_id: &str,
    answer_id: &str,
    answer: &Answer,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consultations = open_case(doc)?.map(key::CONSULTATIONS)?;
    let new = NewAnswer::find(&consultations, consultation_id, answer_id)?;
    let author = Editor::new(&answer.by, &answer.institution)?;
    new.add(doc, answer, at, |summary| editor::message(summary, &author))
}

/// Records a consent event (*zgoda*), recorded by the worker `by`; events are append-only, so
/// an existing `consent_id` is refused. Withdrawing consent is a new event with state
/// [`ConsentState::Withdrawn`].
pub fn record_consent(
    doc: &mut Automerge,
    consent_id: &str,
    event: &ConsentEvent,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let consents = open_case(doc)?.map(key::CONSENTS)?;
    consents.absent(consent_id, "consent event")?;
    check_id(
        &format!("{}/{consent_id}/{}", key::CONSENTS, key::INSTITUTION),
        &event.institution,
    )?;
    let consents = consents.id();
    let message = editor::message(
        format_args!(
            "consents/{consent_id}: {} for {}",
            event.state, event.institution
        ),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &consents, consent_id)?;
        tx.put(&map, key::INSTITUTION, event.institution.as_str())?;
        tx.put(&map, key::PURPOSE, event.purpose.as_str())?;
        tx.put(&map, key::STATE, event.state.as_str())?;
        tx.put(&map, key::BY, event.by.as_str())?;
        tx.put(&map, key::RECORDED_BY, by.login())?;
        tx.put(&map, key::AT, write::timestamp(at))?;
        Ok(())
    })
}
