//! The team's meetings: scheduling, the agenda, who took part and how, the minutes and the
//! decisions taken.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::read::{read_agenda_item, read_meeting_plan};
use super::types::*;
use crate::error::SchemaError;
use crate::model::editor::Editor;
use crate::model::keyed::KeyedEntry;
use crate::model::reader::{check_id, Node};
use crate::model::write;

/// Schedules a meeting, or moves an existing one (date and mode).
pub fn schedule_meeting(
    doc: &mut Automerge,
    meeting_id: &str,
    plan: &MeetingPlan,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let meetings = open_pzk(doc)?.map(key::MEETINGS)?;
    let entry = KeyedEntry::read(&meetings, meeting_id, read_meeting_plan)?;
    let message = write::message(format_args!("meetings/{meeting_id}: scheduled"), by.login());
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, create_meeting)?;
        if current.as_ref().map(|c| c.date) != Some(plan.date) {
            tx.put(&map, key::DATE, write::timestamp(plan.date))?;
        }
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::MODE, |c| c.mode.as_str(), plan.mode.as_str())?;
        Ok(())
    })
}

/// The map of meeting `meeting_id`.
fn meeting<'a>(doc: &'a Automerge, meeting_id: &str) -> Result<Node<'a>, SchemaError> {
    open_pzk(doc)?.map(key::MEETINGS)?.map(meeting_id)
}

fn create_meeting(
    tx: &mut Transaction<'_>,
    meetings: &ObjId,
    meeting_id: &str,
) -> Result<ObjId, SchemaError> {
    let map = write::new_map(tx, meetings, meeting_id)?;
    write::new_map(tx, &map, key::AGENDA)?;
    write::new_map(tx, &map, key::ATTENDANCE)?;
    write::new_text(tx, &map, key::MINUTES, "")?;
    write::new_map(tx, &map, key::DECISIONS)?;
    Ok(map)
}

/// Adds or updates an agenda item of a meeting.
pub fn set_agenda_item(
    doc: &mut Automerge,
    meeting_id: &str,
    item_id: &str,
    item: &AgendaItem,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agenda = meeting(doc, meeting_id)?.map(key::AGENDA)?;
    let entry = KeyedEntry::read(&agenda, item_id, read_agenda_item)?;
    let message = write::message(
        format_args!("meetings/{meeting_id}/agenda/{item_id}: saved"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, write::new_map)?;
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::TITLE, |c| c.title.as_str(), item.title.as_str())?;
        fields.put(key::ORDER, |c| c.order, item.order)?;
        Ok(())
    })
}

/// Records how a person took part in a meeting; recording it settles a conflict on it.
pub fn record_attendance(
    doc: &mut Automerge,
    meeting_id: &str,
    person_id: &str,
    attendance: Attendance,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = meeting(doc, meeting_id)?.map(key::ATTENDANCE)?;
    check_id(list.path(), person_id)?;
    let list = list.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/attendance/{person_id}: {attendance}"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        tx.put(&list, person_id, attendance.as_str())?;
        Ok(())
    })
}

/// Replaces a meeting's minutes (as a diff, so concurrent edits elsewhere in them are kept).
pub fn set_minutes(
    doc: &mut Automerge,
    meeting_id: &str,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let minutes = meeting(doc, meeting_id)?.text_obj(key::MINUTES)?.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/minutes: updated"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &minutes, text)
    })
}

/// Records a decision of a meeting; decisions are append-only, so an existing id is refused.
pub fn record_decision(
    doc: &mut Automerge,
    meeting_id: &str,
    decision_id: &str,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let decisions = meeting(doc, meeting_id)?.map(key::DECISIONS)?;
    decisions.absent(decision_id, "decision")?;
    let decisions = decisions.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/decisions/{decision_id}: recorded"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        write_entry(tx, &decisions, decision_id, text, by, at)
    })
}

pub(super) fn write_entry(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    id: &str,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, parent, id)?;
    write::new_text(tx, &map, key::TEXT, text)?;
    tx.put(&map, key::BY, by.login())?;
    tx.put(&map, key::AT, write::timestamp(at))?;
    Ok(())
}
