//! The team's meetings: scheduling (with the video call's link), invitations of member
//! institutions, the agenda, who took part and how, the minutes and the decisions taken, and
//! the approval of the minutes, after which the meeting is frozen: every edit here refuses a
//! meeting whose minutes are approved, and [`super::frozen`] refuses any change made to it
//! after its approval, so the server does too.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::read::{read_agenda_item, read_meeting_plan};
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
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
    if let Some(link) = &plan.link {
        if !is_meeting_link(link) {
            return Err(SchemaError::Rule(RuleViolation::MeetingLinkInvalid));
        }
    }
    let meetings = open_pzk(doc)?.map(key::MEETINGS)?;
    if meetings.has(meeting_id)? {
        check_open(&meetings.map(meeting_id)?, meeting_id)?;
    }
    let entry = KeyedEntry::read(&meetings, meeting_id, read_meeting_plan)?;
    let message = write::message(format_args!("meetings/{meeting_id}: scheduled"), by.login());
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, create_meeting)?;
        if current.as_ref().map(|c| c.date) != Some(plan.date) {
            tx.put(&map, key::DATE, write::timestamp(plan.date))?;
        }
        let current_link = current.as_ref().map(|c| c.link.clone());
        if current_link.as_ref() != Some(&plan.link) {
            match &plan.link {
                Some(link) => tx.put(&map, key::LINK, link.as_str())?,
                None if current.is_some() => tx.delete(&map, key::LINK)?,
                None => {}
            }
        }
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::MODE, |c| c.mode.as_str(), plan.mode.as_str())?;
        Ok(())
    })
}

/// Invites a member institution to a meeting; inviting it again keeps the first invitation.
pub fn invite_institution(
    doc: &mut Automerge,
    meeting_id: &str,
    institution_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_pzk(doc)?;
    if !root.map(key::MEMBERS)?.has(institution_id)? {
        let refused = RuleViolation::InviteeNotMember(institution_id.to_owned());
        return Err(SchemaError::Rule(refused));
    }
    let node = meeting(doc, meeting_id)?;
    let (meeting_obj, invitations) = (node.id(), node.opt_map(key::INVITATIONS)?);
    if invitations
        .as_ref()
        .map(|i| i.has(institution_id))
        .transpose()?
        .unwrap_or(false)
    {
        return Ok(());
    }
    let invitations = invitations.map(|i| i.id());
    let message = write::message(
        format_args!("meetings/{meeting_id}/invitations/{institution_id}: invited"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let invitations = match invitations {
            Some(id) => id,
            None => write::new_map(tx, &meeting_obj, key::INVITATIONS)?,
        };
        write_stamp(tx, &invitations, institution_id, by, at)
    })
}

/// Approves a meeting's minutes (*zatwierdzenie protokołu*): from then on its minutes,
/// attendance, agenda and decisions are frozen. Who may approve (the team's animator, a ROPS
/// adviser assigned to the team) is the server's rule; the approval names its author.
pub fn approve_minutes(
    doc: &mut Automerge,
    meeting_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let node = meeting(doc, meeting_id)?;
    if node.text(key::MINUTES)?.trim().is_empty() {
        return Err(SchemaError::Rule(RuleViolation::MinutesEmpty));
    }
    let meeting_obj = node.id();
    let message = write::message(
        format_args!("meetings/{meeting_id}/minutes: approved"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        write_stamp(tx, &meeting_obj, key::MINUTES_APPROVED, by, at)
    })
}

fn write_stamp(
    tx: &mut Transaction<'_>,
    parent: &ObjId,
    key: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, parent, key)?;
    tx.put(&map, key::BY, by.login())?;
    tx.put(&map, key::AT, write::timestamp(at))?;
    Ok(())
}

/// Refuses an edit of a meeting whose minutes are approved.
fn check_open(meeting: &Node<'_>, meeting_id: &str) -> Result<(), SchemaError> {
    if meeting.has(key::MINUTES_APPROVED)? {
        return Err(SchemaError::Rule(RuleViolation::MeetingFrozen(
            meeting_id.to_owned(),
        )));
    }
    Ok(())
}

/// The map of meeting `meeting_id`, refused when its minutes are approved.
fn meeting<'a>(doc: &'a Automerge, meeting_id: &str) -> Result<Node<'a>, SchemaError> {
    let node = open_pzk(doc)?.map(key::MEETINGS)?.map(meeting_id)?;
    check_open(&node, meeting_id)?;
    Ok(node)
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
    write::new_map(tx, &map, key::INVITATIONS)?;
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
