//! Taking a case in (K7.2 steps 1 and 2): the referral that creates it, its household, and the
//! screening decision.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId, ROOT};
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::read::read_member;
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::header::{self, DocumentKind};
use crate::model::keyed::KeyedEntry;
use crate::model::reader::check_id;
use crate::model::write;

/// Records a referral (*zgłoszenie*, K7.2 step 1): creates a case at stage `referral` with the
/// referral, the household it names, and every container the case will ever hold.
///
/// The first change is made by `init.actor` and names `by` (usually the owning worker, who
/// enters the referral), so the case's history starts with its author.
pub fn new_case(init: &CaseInit, by: &Editor, at: DateTime<Utc>) -> Result<Automerge, SchemaError> {
    check_id(key::LEAD_INSTITUTION, &init.lead_institution)?;
    check_id(key::REFERRAL, &init.referral.institution)?;
    for person_id in init.household.keys() {
        check_id(key::HOUSEHOLD, person_id)?;
    }
    let mut doc = Automerge::new().with_actor(init.actor.clone());
    let what = format_args!("case created: referral from {}", init.referral.institution);
    let message = editor::message(what, by);
    write::commit(&mut doc, message, at, |tx| {
        header::write_header(tx, DocumentKind::Case, at)?;
        tx.put(ROOT, key::STAGE, Stage::Referral.as_str())?;
        tx.put(ROOT, key::OWNER, init.owner.as_str())?;
        tx.put(ROOT, key::LEAD_INSTITUTION, init.lead_institution.as_str())?;
        let household = write::new_map(tx, &ROOT, key::HOUSEHOLD)?;
        for (person_id, member) in &init.household {
            write_member(tx, &household, person_id, member)?;
        }
        write_referral(tx, &init.referral)?;
        write_containers(tx)
    })?;
    Ok(doc)
}

fn write_member(
    tx: &mut Transaction<'_>,
    household: &ObjId,
    person_id: &str,
    member: &HouseholdMember,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, household, person_id)?;
    tx.put(&map, key::NAME, member.name.as_str())?;
    tx.put(&map, key::RELATION, member.relation.as_str())?;
    if let Some(birth) = member.birth_date {
        tx.put(&map, key::BIRTH_DATE, write::date(birth))?;
    }
    Ok(())
}

fn write_referral(tx: &mut Transaction<'_>, referral: &Referral) -> Result<(), SchemaError> {
    let map = write::new_map(tx, &ROOT, key::REFERRAL)?;
    tx.put(&map, key::BY, referral.by.as_str())?;
    tx.put(&map, key::INSTITUTION, referral.institution.as_str())?;
    write::new_text(tx, &map, key::REASON, &referral.reason)?;
    tx.put(&map, key::AT, write::timestamp(referral.at))?;
    Ok(())
}

/// The containers that later edits fill in, each created once here.
fn write_containers(tx: &mut Transaction<'_>) -> Result<(), SchemaError> {
    let screening = write::new_map(tx, &ROOT, key::SCREENING)?;
    write::new_text(tx, &screening, key::NOTES, "")?;
    let diagnosis = write::new_map(tx, &ROOT, key::DIAGNOSIS)?;
    for sector in DiagnosisSector::ALL {
        write::new_text(tx, &diagnosis, sector.as_str(), "")?;
    }
    let contract = write::new_map(tx, &ROOT, key::CONTRACT)?;
    write::new_text(tx, &contract, key::TEXT, "")?;
    write::new_list(tx, &contract, key::SIGNATURES)?;
    let evaluation = write::new_map(tx, &ROOT, key::EVALUATION)?;
    write::new_text(tx, &evaluation, key::TEXT, "")?;
    let handover = write::new_map(tx, &ROOT, key::HANDOVER)?;
    write::new_text(tx, &handover, key::NOTE, "")?;
    for map in [
        key::GOALS,
        key::SERVICES,
        key::MONITORING,
        key::CONSULTATIONS,
        key::CONSENTS,
        key::PZK_DECISION,
        key::ATTACHMENTS,
        key::RECTIFICATIONS,
    ] {
        write::new_map(tx, &ROOT, map)?;
    }
    Ok(())
}

/// Adds a household member, or updates the fields that changed when `person_id` is present.
pub fn add_household_member(
    doc: &mut Automerge,
    person_id: &str,
    member: &HouseholdMember,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let household = open_case(doc)?.map(key::HOUSEHOLD)?;
    let entry = KeyedEntry::read(&household, person_id, read_member)?;
    let message = editor::message(format_args!("household/{person_id}: member saved"), by);
    write::commit(doc, message, at, |tx| {
        let (map, current) = entry.open(tx, write::new_map)?;
        let current = current.as_ref();
        let mut fields = write::Fields::new(tx, &map, current);
        fields.put(key::NAME, |c| c.name.as_str(), member.name.as_str())?;
        fields.put(
            key::RELATION,
            |c| c.relation.as_str(),
            member.relation.as_str(),
        )?;
        let birth = member.birth_date.map(write::date);
        if current.map(|c| c.birth_date.map(write::date)) != Some(birth.clone()) {
            write::put_opt_str(tx, &map, key::BIRTH_DATE, birth.as_deref())?;
        }
        Ok(())
    })
}

/// Records the screening (K7.2 step 2): its result and the decision whether to proceed
/// (`outcome`: [`ScreeningOutcome::Qualified`] to proceed to the diagnosis,
/// [`ScreeningOutcome::NotQualified`] not to), with the reason in `notes`.
///
/// The decision needs a reason: empty notes are refused. Setting it again settles a conflict
/// on it; the move out of the screening ([`workflow::transition`](super::workflow::transition)) reads it.
pub fn set_screening(
    doc: &mut Automerge,
    outcome: ScreeningOutcome,
    notes: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    if notes.trim().is_empty() {
        return Err(SchemaError::Rule(RuleViolation::ScreeningReasonRequired));
    }
    let screening = open_case(doc)?.map(key::SCREENING)?;
    let notes_text = screening.text_obj(key::NOTES)?.id();
    let screening = screening.id();
    let message = editor::message(format_args!("screening: {outcome}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&screening, key::OUTCOME, outcome.as_str())?;
        write::update_text(tx, &notes_text, notes)?;
        tx.put(&screening, key::BY, by.login())?;
        tx.put(&screening, key::AT, write::timestamp(at))?;
        Ok(())
    })
}

/// Links the referral document a case was opened from (its id, written once into the case's
/// `referral` map as `document`), so the worker finds it and the referrer's outcome can be
/// traced; the referrer is already the referral's `by` and `institution`.
pub fn link_referral_document(
    doc: &mut Automerge,
    referral_document: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_id(key::REFERRAL, referral_document)?;
    let referral = open_case(doc)?.map(key::REFERRAL)?;
    if referral.has(key::DOCUMENT)? {
        return Err(SchemaError::Rule(RuleViolation::EntryExists {
            what: "referral link",
            path: referral.path_of(key::DOCUMENT),
        }));
    }
    let referral = referral.id();
    let message = editor::message(format_args!("referral: linked {referral_document}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(&referral, key::DOCUMENT, referral_document)?;
        Ok(())
    })
}

/// The referral document a case was opened from, when it was opened from one.
pub fn referral_document(doc: &Automerge) -> Result<Option<String>, SchemaError> {
    open_case(doc)?.map(key::REFERRAL)?.opt_str(key::DOCUMENT)
}

/// Links the case's justice document (police and court information, [`crate::model::justice`]):
/// its id, written once into the case's `justiceDocument`. The case holds only the link; who
/// may read the document is the server's rule, narrower than the case's.
pub fn link_justice_document(
    doc: &mut Automerge,
    justice_document: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_id(key::JUSTICE_DOCUMENT, justice_document)?;
    let root = open_case(doc)?;
    if root.has(key::JUSTICE_DOCUMENT)? {
        return Err(SchemaError::Rule(RuleViolation::EntryExists {
            what: "justice link",
            path: key::JUSTICE_DOCUMENT.to_owned(),
        }));
    }
    let message = editor::message(format_args!("justice: linked {justice_document}"), by);
    write::commit(doc, message, at, |tx| {
        tx.put(ROOT, key::JUSTICE_DOCUMENT, justice_document)?;
        Ok(())
    })
}

/// The case's justice document, when one is linked.
pub fn justice_document(doc: &Automerge) -> Result<Option<String>, SchemaError> {
    let link = open_case(doc)?.opt_str(key::JUSTICE_DOCUMENT)?;
    if let Some(id) = &link {
        check_id(key::JUSTICE_DOCUMENT, id)?;
    }
    Ok(link)
}
