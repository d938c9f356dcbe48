//! The individual help plan (*IPP*, K7.2 step 4): SMART goals and their statuses, and the basket
//! of services (*koszyk usług*) drawn from the PZK's list.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId};
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::read::read_goal;
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::keyed::KeyedEntry;
use crate::model::pzk;
use crate::model::reader::{check_id, Node};
use crate::model::write;

/// The objects of an existing goal and its current plan, to update it field by field.
struct GoalTargets {
    texts: [ObjId; 4],
    services: ObjId,
    current: GoalPlan,
}

fn smart_values(plan: &GoalPlan) -> [&str; 4] {
    [
        &plan.specific,
        &plan.measurable,
        &plan.achievable,
        &plan.relevant,
    ]
}

fn goal_targets(goal: &Node<'_>) -> Result<GoalTargets, SchemaError> {
    let [s, m, a, r] = key::SMART;
    Ok(GoalTargets {
        texts: [
            goal.text_obj(s)?.id(),
            goal.text_obj(m)?.id(),
            goal.text_obj(a)?.id(),
            goal.text_obj(r)?.id(),
        ],
        services: goal.map(key::LINKED_SERVICES)?.id(),
        current: read_goal(goal)?.plan,
    })
}

/// Adds an IPP goal (status `planned`) or updates an existing one's plan field by field.
///
/// The status is left alone; it changes only through [`set_goal_status`].
pub fn upsert_goal(
    doc: &mut Automerge,
    goal_id: &str,
    plan: &GoalPlan,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let goals = open_case(doc)?.map(key::GOALS)?;
    check_id(key::GOALS, goal_id)?;
    let links = format!("{}/{goal_id}/{}", key::GOALS, key::LINKED_SERVICES);
    for service in &plan.services {
        check_id(&links, service)?;
    }
    check_id(
        &format!("{}/{goal_id}/{}", key::GOALS, key::RESPONSIBLE),
        &plan.responsible,
    )?;
    let entry = KeyedEntry::read(&goals, goal_id, goal_targets)?;
    let message = editor::message(format_args!("goals/{goal_id}: plan saved"), by);
    write::commit(doc, message, at, |tx| {
        entry.save(
            tx,
            |tx, goals, goal_id| create_goal(tx, goals, goal_id, plan, at),
            |tx, map, targets| update_goal(tx, map, targets, plan),
        )
    })
}

fn create_goal(
    tx: &mut Transaction<'_>,
    goals: &ObjId,
    goal_id: &str,
    plan: &GoalPlan,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, goals, goal_id)?;
    for (part, value) in key::SMART.into_iter().zip(smart_values(plan)) {
        write::new_text(tx, &map, part, value)?;
    }
    tx.put(&map, key::DEADLINE, write::date(plan.deadline))?;
    tx.put(&map, key::RESPONSIBLE, plan.responsible.as_str())?;
    tx.put(&map, key::STATUS, GoalStatus::Planned.as_str())?;
    let links = write::new_map(tx, &map, key::LINKED_SERVICES)?;
    for service in &plan.services {
        tx.put(&links, service.as_str(), true)?;
    }
    tx.put(&map, key::CREATED_AT, write::timestamp(at))?;
    Ok(())
}

fn update_goal(
    tx: &mut Transaction<'_>,
    map: &ObjId,
    targets: &GoalTargets,
    plan: &GoalPlan,
) -> Result<(), SchemaError> {
    let current = smart_values(&targets.current);
    for ((text, old), new) in targets.texts.iter().zip(current).zip(smart_values(plan)) {
        if old != new {
            write::update_text(tx, text, new)?;
        }
    }
    let old_deadline = write::date(targets.current.deadline);
    write::put_if_changed(
        tx,
        map,
        key::DEADLINE,
        Some(&old_deadline),
        write::date(plan.deadline),
    )?;
    write::put_if_changed(
        tx,
        map,
        key::RESPONSIBLE,
        Some(&targets.current.responsible),
        plan.responsible.clone(),
    )?;
    for added in plan.services.difference(&targets.current.services) {
        tx.put(&targets.services, added.as_str(), true)?;
    }
    for removed in targets.current.services.difference(&plan.services) {
        tx.delete(&targets.services, removed.as_str())?;
    }
    Ok(())
}

/// Sets a goal's status; setting it settles a conflict on it.
pub fn set_goal_status(
    doc: &mut Automerge,
    goal_id: &str,
    status: GoalStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let goal = open_case(doc)?.map(key::GOALS)?.map(goal_id)?.id();
    let message = editor::message(format_args!("goals/{goal_id}/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&goal, key::STATUS, status.as_str())?;
        Ok(())
    })
}

/// Puts a service into the basket (*koszyk usług*, status `planned`) with the id it has in the
/// PZK's services list and its provider institution.
///
/// The case document cannot see the PZK document; [`add_listed_service`] checks the service
/// against the list when the caller holds it.
pub fn add_service(
    doc: &mut Automerge,
    service_id: &str,
    provider: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let services = open_case(doc)?.map(key::SERVICES)?;
    services.absent(service_id, "service")?;
    check_id(
        &format!("{}/{service_id}/{}", key::SERVICES, key::PROVIDER),
        provider,
    )?;
    let services = services.id();
    let message = editor::message(format_args!("services/{service_id}: added"), by);
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &services, service_id)?;
        tx.put(&map, key::PROVIDER, provider)?;
        tx.put(&map, key::STATUS, ServiceStatus::Planned.as_str())?;
        tx.put(&map, key::ADDED_AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Puts a service of the PZK's services list (*Lista aktywności i usług*, 6.3) into the basket,
/// with the provider the list names.
///
/// A service the list does not hold, or one it has retired, is refused.
pub fn add_listed_service(
    doc: &mut Automerge,
    pzk_doc: &Automerge,
    service_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = pzk::read_pzk(pzk_doc)?.services;
    let listed = list
        .get(service_id)
        .ok_or_else(|| SchemaError::Rule(RuleViolation::ServiceNotListed(service_id.to_owned())))?;
    if listed.retired {
        return Err(SchemaError::Rule(RuleViolation::ServiceRetired(
            service_id.to_owned(),
        )));
    }
    add_service(doc, service_id, &listed.entry.provider, by, at)
}

/// Sets a basket service's status; setting it settles a conflict on it.
pub fn set_service_status(
    doc: &mut Automerge,
    service_id: &str,
    status: ServiceStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let service = open_case(doc)?.map(key::SERVICES)?.map(service_id)?.id();
    let message = editor::message(format_args!("services/{service_id}/status: {status}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&service, key::STATUS, status.as_str())?;
        Ok(())
    })
}
