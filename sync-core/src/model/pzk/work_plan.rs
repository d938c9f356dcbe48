//! The 18-month work plan (*harmonogram*, 6.2): milestones tied to steps K1 to K10 and their
//! statuses.

use automerge::transaction::Transactable;
use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::read::read_milestone;
use super::types::*;
use crate::error::SchemaError;
use crate::model::editor::Editor;
use crate::model::keyed::KeyedEntry;
use crate::model::reader::check_id;
use crate::model::write;

fn check_milestone(milestone_id: &str, milestone: &Milestone) -> Result<(), SchemaError> {
    let field = |name: &str, reason: String| SchemaError::Field {
        path: format!("{}/{milestone_id}/{name}", key::WORK_PLAN),
        reason,
    };
    if !is_step(&milestone.step) {
        return Err(field(
            key::STEP,
            format!("{:?} is not a step K1 to K10", milestone.step),
        ));
    }
    if !PLAN_MONTHS.contains(&milestone.month) {
        return Err(field(
            key::MONTH,
            format!(
                "{} is not a month 1 to {}",
                milestone.month,
                PLAN_MONTHS.end()
            ),
        ));
    }
    Ok(())
}

/// Adds a work-plan milestone (status `planned`) or updates the fields that changed.
///
/// The status is left alone; it changes only through [`set_milestone_status`].
pub fn upsert_milestone(
    doc: &mut Automerge,
    milestone_id: &str,
    milestone: &Milestone,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let plan = open_pzk(doc)?.map(key::WORK_PLAN)?;
    check_id(key::WORK_PLAN, milestone_id)?;
    check_milestone(milestone_id, milestone)?;
    let entry = KeyedEntry::read(&plan, milestone_id, |node| {
        Ok(read_milestone(node)?.milestone)
    })?;
    let message = write::message(format_args!("workPlan/{milestone_id}: saved"), by.login());
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, |tx, plan, milestone_id| {
            let map = write::new_map(tx, plan, milestone_id)?;
            tx.put(&map, key::STATUS, MilestoneStatus::Planned.as_str())?;
            Ok(map)
        })?;
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::STEP, |c| c.step.as_str(), milestone.step.as_str())?;
        fields.put(
            key::MONTH,
            |c| u64::from(c.month),
            u64::from(milestone.month),
        )?;
        fields.put(key::TITLE, |c| c.title.as_str(), milestone.title.as_str())?;
        Ok(())
    })
}

/// Sets a milestone's status; setting it settles a conflict on it.
pub fn set_milestone_status(
    doc: &mut Automerge,
    milestone_id: &str,
    status: MilestoneStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let milestone = open_pzk(doc)?.map(key::WORK_PLAN)?.map(milestone_id)?.id();
    let message = write::message(
        format_args!("workPlan/{milestone_id}/status: {status}"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        tx.put(&milestone, key::STATUS, status.as_str())?;
        Ok(())
    })
}
