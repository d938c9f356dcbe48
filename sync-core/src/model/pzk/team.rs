//! The team itself (steps 5.2 and 5.3): creating its document, the inter-institution agreement,
//! the member institutions and their representatives.

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::layout::{key, open_pzk};
use super::read::{read_member_fields, read_representative};
use super::types::*;
use crate::error::SchemaError;
use crate::model::editor::Editor;
use crate::model::header::{self, DocumentKind};
use crate::model::keyed::KeyedEntry;
use crate::model::reader::Node;
use crate::model::write;

/// Creates a PZK document with a draft agreement and every container it will ever hold.
pub fn new_pzk(init: &PzkInit, at: DateTime<Utc>) -> Result<Automerge, SchemaError> {
    let mut doc = Automerge::new().with_actor(init.actor.clone());
    let message = write::message(format_args!("PZK {} created", init.name), &init.animator);
    write::commit(&mut doc, message, at, |tx| {
        header::write_header(tx, DocumentKind::Pzk, at)?;
        tx.put(ROOT, key::NAME, init.name.as_str())?;
        tx.put(ROOT, key::ANIMATOR, init.animator.as_str())?;
        let agreement = write::new_map(tx, &ROOT, key::AGREEMENT)?;
        write::new_text(tx, &agreement, key::TEXT, &init.agreement_text)?;
        tx.put(&agreement, key::STATUS, AgreementStatus::Draft.as_str())?;
        write::new_map(tx, &agreement, key::PARTIES)?;
        write::new_map(tx, &agreement, key::SIGNATORIES)?;
        let decision = write::new_map(tx, &ROOT, key::DECISION_92)?;
        write::new_text(tx, &decision, key::RATIONALE, "")?;
        for map in [
            key::MEMBERS,
            key::WORK_PLAN,
            key::SERVICES,
            key::MEETINGS,
            key::CONSULTATIONS,
            key::RECOMMENDATIONS,
        ] {
            write::new_map(tx, &ROOT, map)?;
        }
        Ok(())
    })?;
    Ok(doc)
}

/// Adds a member institution, or updates the fields that changed when it is present.
pub fn upsert_member(
    doc: &mut Automerge,
    institution_id: &str,
    member: &Member,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let members = open_pzk(doc)?.map(key::MEMBERS)?;
    let entry = KeyedEntry::read(&members, institution_id, read_member_fields)?;
    let message = write::message(format_args!("members/{institution_id}: saved"), by.login());
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, |tx, members, institution_id| {
            let map = write::new_map(tx, members, institution_id)?;
            write::new_map(tx, &map, key::REPRESENTATIVES)?;
            Ok(map)
        })?;
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::NAME, |c| c.name.as_str(), member.name.as_str())?;
        fields.put(key::SECTOR, |c| c.sector.as_str(), member.sector.as_str())?;
        fields.put(key::ROLE, |c| c.role.as_str(), member.role.as_str())?;
        Ok(())
    })
}

/// Adds or updates a representative of a member institution.
pub fn set_representative(
    doc: &mut Automerge,
    institution_id: &str,
    person_id: &str,
    representative: &Representative,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let representatives = representatives(doc, institution_id)?;
    let entry = KeyedEntry::read(&representatives, person_id, read_representative)?;
    let message = write::message(
        format_args!("members/{institution_id}/representatives/{person_id}: saved"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, write::new_map)?;
        let mut fields = write::Fields::new(tx, &map, current.as_ref());
        fields.put(key::NAME, |c| c.name.as_str(), representative.name.as_str())?;
        let function = representative.function.as_str();
        fields.put(key::FUNCTION, |c| c.function.as_str(), function)?;
        Ok(())
    })
}

/// The representatives map of member institution `institution_id`.
fn representatives<'a>(doc: &'a Automerge, institution_id: &str) -> Result<Node<'a>, SchemaError> {
    open_pzk(doc)?
        .map(key::MEMBERS)?
        .map(institution_id)?
        .map(key::REPRESENTATIVES)
}

/// Removes a representative of a member institution.
pub fn remove_representative(
    doc: &mut Automerge,
    institution_id: &str,
    person_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let representatives = representatives(doc, institution_id)?;
    representatives.map(person_id)?;
    let representatives = representatives.id();
    let message = write::message(
        format_args!("members/{institution_id}/representatives/{person_id}: removed"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        tx.delete(&representatives, person_id)?;
        Ok(())
    })
}
