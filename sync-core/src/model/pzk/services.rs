//! The list of activities and services (*Lista aktywności i usług*, 6.3) that cases draw their
//! basket from: entries are added, updated and retired, never deleted.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::read::read_service;
use super::types::*;
use crate::error::SchemaError;
use crate::model::editor::Editor;
use crate::model::keyed::KeyedEntry;
use crate::model::reader::check_id;
use crate::model::write;

/// The objects of an existing services-list entry and its current fields.
struct ServiceTargets {
    description: ObjId,
    current: ServiceEntry,
}

/// Adds an entry to the list of activities and services, or updates the fields that changed.
pub fn upsert_service(
    doc: &mut Automerge,
    service_id: &str,
    entry: &ServiceEntry,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let services = open_pzk(doc)?.map(key::SERVICES)?;
    check_id(key::SERVICES, service_id)?;
    check_id(
        &format!("{}/{service_id}/{}", key::SERVICES, key::PROVIDER),
        &entry.provider,
    )?;
    let targets = KeyedEntry::read(&services, service_id, |node| {
        Ok(ServiceTargets {
            description: node.text_obj(key::DESCRIPTION)?.id(),
            current: read_service(node)?.entry,
        })
    })?;
    let message = write::message(format_args!("services/{service_id}: saved"), by.login());
    write::commit(doc, message, at, |tx| {
        targets.save(
            tx,
            |tx, services, service_id| create_service(tx, services, service_id, entry),
            |tx, map, targets| update_service(tx, map, targets, entry),
        )
    })
}

fn create_service(
    tx: &mut Transaction<'_>,
    services: &ObjId,
    service_id: &str,
    entry: &ServiceEntry,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, services, service_id)?;
    write::new_text(tx, &map, key::DESCRIPTION, &entry.description)?;
    tx.put(&map, key::PROVIDER, entry.provider.as_str())?;
    tx.put(&map, key::SECTOR, entry.sector.as_str())?;
    if let Some(capacity) = entry.capacity {
        tx.put(&map, key::CAPACITY, capacity)?;
    }
    tx.put(&map, key::REMOTE_CAPABLE, entry.remote_capable)?;
    tx.put(&map, key::RETIRED, false)?;
    Ok(())
}

fn update_service(
    tx: &mut Transaction<'_>,
    map: &ObjId,
    targets: &ServiceTargets,
    entry: &ServiceEntry,
) -> Result<(), SchemaError> {
    let current = &targets.current;
    if current.description != entry.description {
        write::update_text(tx, &targets.description, &entry.description)?;
    }
    write::put_if_changed(
        tx,
        map,
        key::PROVIDER,
        Some(&current.provider),
        entry.provider.clone(),
    )?;
    let sector = current.sector.as_str();
    write::put_if_changed(tx, map, key::SECTOR, Some(&sector), entry.sector.as_str())?;
    if current.capacity != entry.capacity {
        match entry.capacity {
            Some(capacity) => tx.put(map, key::CAPACITY, capacity)?,
            None => tx.delete(map, key::CAPACITY)?,
        }
    }
    let remote = Some(&current.remote_capable);
    write::put_if_changed(tx, map, key::REMOTE_CAPABLE, remote, entry.remote_capable)?;
    Ok(())
}

/// Marks a services-list entry as no longer offered. Entries are never deleted, because cases
/// refer to their ids.
pub fn retire_service(
    doc: &mut Automerge,
    service_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let service = open_pzk(doc)?.map(key::SERVICES)?.map(service_id)?.id();
    let message = write::message(format_args!("services/{service_id}: retired"), by.login());
    write::commit(doc, message, at, |tx| {
        tx.put(&service, key::RETIRED, true)?;
        Ok(())
    })
}
