//! Writing a referral and deciding on it.

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::key;
use super::read::read_referral;
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::header::{self, DocumentKind};
use crate::model::reader::check_id;
use crate::model::write;

/// Writes a new referral from `by` (who must be the referrer `init.by` of `init.institution`).
///
/// To whom, who it is about, why and how to reach them are required
/// ([`RuleViolation::ReferralIncomplete`] names the first one missing).
pub fn new_referral(
    init: &ReferralInit,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<Automerge, SchemaError> {
    if by.login() != init.by || by.institution() != init.institution {
        return Err(SchemaError::Field {
            path: key::BY.to_owned(),
            reason: "a referral is written by its referrer".to_owned(),
        });
    }
    let required = [
        ("to", init.to.as_str()),
        ("subject", init.subject_name.as_str()),
        ("reason", init.reason.as_str()),
        ("contact", init.contact.as_str()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(SchemaError::Rule(RuleViolation::ReferralIncomplete(field)));
    }
    check_id(key::TO, &init.to)?;
    let mut doc = Automerge::new().with_actor(init.actor.clone());
    let message = editor::message(format_args!("referral to {}", init.to), by);
    write::commit(&mut doc, message, at, |tx| {
        header::write_header(tx, DocumentKind::Referral, at)?;
        tx.put(ROOT, key::TO, init.to.as_str())?;
        tx.put(ROOT, key::BY, init.by.as_str())?;
        tx.put(ROOT, key::INSTITUTION, init.institution.as_str())?;
        let subject = write::new_map(tx, &ROOT, key::SUBJECT)?;
        tx.put(&subject, key::KIND, init.subject_kind.as_str())?;
        tx.put(&subject, key::NAME, init.subject_name.as_str())?;
        write::new_text(tx, &ROOT, key::REASON, &init.reason)?;
        tx.put(ROOT, key::URGENCY, init.urgency.as_str())?;
        tx.put(ROOT, key::CONTACT, init.contact.as_str())?;
        tx.put(ROOT, key::BASIS, init.basis.as_str())?;
        tx.put(ROOT, key::BASIS_NOTE, init.basis_note.as_str())?;
        tx.put(ROOT, key::STATUS, ReferralStatus::Submitted.as_str())?;
        Ok(())
    })?;
    Ok(doc)
}

/// Accepts a referral: the case `case_id` was opened for it (the caller opens it first, with
/// the referral linked).
pub fn accept_referral(
    doc: &mut Automerge,
    case_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_id(key::CASE, case_id)?;
    decide(doc, ReferralStatus::Accepted, None, Some(case_id), by, at)
}

/// Declines a referral with its reason, which the referrer reads.
pub fn decline_referral(
    doc: &mut Automerge,
    reason: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    if reason.trim().is_empty() {
        return Err(SchemaError::Rule(
            RuleViolation::ReferralDeclineReasonRequired,
        ));
    }
    decide(doc, ReferralStatus::Declined, Some(reason), None, by, at)
}

fn decide(
    doc: &mut Automerge,
    status: ReferralStatus,
    reason: Option<&str>,
    case_id: Option<&str>,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let view = read_referral(doc)?;
    // A conflict between two decisions is settled by deciding again; otherwise once only.
    if view.status.value != ReferralStatus::Submitted && !view.status.is_conflicted() {
        return Err(SchemaError::Rule(RuleViolation::ReferralAlreadyDecided(
            view.status.value.as_str(),
        )));
    }
    let message = editor::message(format_args!("referral: {status}"), by);
    write::commit(doc, message, at, |tx| {
        let decision = write::new_map(tx, &ROOT, key::DECISION)?;
        tx.put(&decision, key::BY, by.login())?;
        tx.put(&decision, key::AT, write::timestamp(at))?;
        if let Some(reason) = reason {
            tx.put(&decision, key::REASON, reason)?;
        }
        if let Some(case_id) = case_id {
            tx.put(&decision, key::CASE, case_id)?;
        }
        tx.put(ROOT, key::STATUS, status.as_str())?;
        Ok(())
    })
}
