//! The inter-institution agreement (*porozumienie*, step 5.2): its parties, signatories, dates,
//! the scan of the signed paper, and signing, which freezes the signed version.
//!
//! | key (under `agreement`) | type | notes |
//! | --- | --- | --- |
//! | `text` | Text | |
//! | `status` | [`AgreementStatus`] | |
//! | `parties` | map: party id → `{name}` | the institutions (and the gmina/powiat) that conclude it |
//! | `signatories` | map: id → `{person, institution, function, signedAt}` | who signed for whom |
//! | `concludedOn`, `validFrom`, `validTo` | date `YYYY-MM-DD`? | `validFrom` ≤ `validTo` |
//! | `scan` | `{sha256, mime, size, name}`? | the signed paper, a blob of this document |
//! | `signed` | `{text, parties: map id → name, by, at}`? | the version signed, frozen |
//!
//! Once `signed` is written the agreement's text and parties cannot change: every edit of them
//! is refused ([`RuleViolation::AgreementFrozen`]) and so is a document whose text or parties
//! differ from the signed version (an offline edit merged after the signing), which
//! [`check_state`] finds. Signatories, dates and the scan may still be recorded after signing:
//! people sign on different days and the scan comes later.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ReadDoc};
use chrono::{DateTime, Utc};

use super::agreement_values::{AgreementDates, AgreementScan, Signatory, SignedAgreement};
use super::layout::{key, open_pzk};
use super::types::{AgreementStatus, AgreementView};
use crate::error::{RuleViolation, SchemaError};
use crate::model::case::{is_sha256_hex, ALLOWED_MIME, MAX_ATTACHMENT_BYTES};
use crate::model::editor::Editor;
use crate::model::keyed::KeyedEntry;
use crate::model::reader::{check_id, Node};
use crate::model::write;

fn frozen() -> SchemaError {
    SchemaError::Rule(RuleViolation::AgreementFrozen)
}

fn incomplete(what: &'static str) -> SchemaError {
    SchemaError::Rule(RuleViolation::AgreementIncomplete(what))
}

/// The agreement's map, refused when its signed version is frozen.
fn unsigned_agreement(doc: &Automerge) -> Result<Node<'_>, SchemaError> {
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?;
    if agreement.has(key::SIGNED)? {
        return Err(frozen());
    }
    Ok(agreement)
}

/// The map at `key` of the agreement, created in the transaction when an older document lacks
/// it.
fn child_map(
    tx: &mut automerge::transaction::Transaction<'_>,
    agreement: &ObjId,
    existing: Option<ObjId>,
    name: &str,
) -> Result<ObjId, SchemaError> {
    match existing {
        Some(map) => Ok(map),
        None => write::new_map(tx, agreement, name),
    }
}

fn opt_map(node: &Node<'_>, name: &str) -> Result<Option<ObjId>, SchemaError> {
    Ok(match node.has(name)? {
        true => Some(node.map(name)?.id()),
        false => None,
    })
}

/// Replaces the agreement's text (as a diff, so concurrent edits elsewhere in it are kept);
/// refused once it is signed.
pub fn set_agreement_text(
    doc: &mut Automerge,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let text_obj = unsigned_agreement(doc)?.text_obj(key::TEXT)?.id();
    let message = write::message("agreement: text updated", by.login());
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &text_obj, text)
    })
}

/// Adds or renames a party of the agreement; refused once it is signed.
pub fn set_agreement_party(
    doc: &mut Automerge,
    party_id: &str,
    name: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agreement = unsigned_agreement(doc)?;
    let path = format!("{}/{}", key::AGREEMENT, key::PARTIES);
    check_id(&path, party_id)?;
    if name.trim().is_empty() {
        return Err(incomplete("party"));
    }
    let parties = opt_map(&agreement, key::PARTIES)?;
    let agreement = agreement.id();
    let message = write::message(
        format_args!("agreement/parties/{party_id}: saved"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let parties = child_map(tx, &agreement, parties, key::PARTIES)?;
        let party = match tx.get(&parties, party_id)? {
            Some((automerge::Value::Object(_), party)) => party,
            _ => write::new_map(tx, &parties, party_id)?,
        };
        tx.put(&party, key::NAME, name.trim())?;
        Ok(())
    })
}

/// Removes a party of the agreement; refused once it is signed.
pub fn remove_agreement_party(
    doc: &mut Automerge,
    party_id: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let parties = unsigned_agreement(doc)?.map(key::PARTIES)?;
    parties.map(party_id)?;
    let parties = parties.id();
    let message = write::message(
        format_args!("agreement/parties/{party_id}: removed"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        tx.delete(&parties, party_id)?;
        Ok(())
    })
}

/// Records (or corrects) a signatory; allowed after signing, as people sign on different days.
pub fn set_signatory(
    doc: &mut Automerge,
    signatory_id: &str,
    signatory: &Signatory,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?;
    if signatory.person.trim().is_empty() || signatory.institution.trim().is_empty() {
        return Err(incomplete("signatory"));
    }
    let existing = opt_map(&agreement, key::SIGNATORIES)?;
    let entry = match agreement.has(key::SIGNATORIES)? {
        true => Some(KeyedEntry::read(
            &agreement.map(key::SIGNATORIES)?,
            signatory_id,
            |_| Ok(()),
        )?),
        false => {
            check_id(
                &format!("{}/{}", key::AGREEMENT, key::SIGNATORIES),
                signatory_id,
            )?;
            None
        }
    };
    let agreement = agreement.id();
    let message = write::message(
        format_args!("agreement/signatories/{signatory_id}: saved"),
        by.login(),
    );
    write::commit(doc, message, at, |tx| {
        let map = match entry {
            Some(entry) => entry.open(tx, write::new_map)?.0,
            None => {
                let signatories = child_map(tx, &agreement, existing, key::SIGNATORIES)?;
                write::new_map(tx, &signatories, signatory_id)?
            }
        };
        tx.put(&map, key::PERSON, signatory.person.trim())?;
        tx.put(&map, key::INSTITUTION, signatory.institution.trim())?;
        tx.put(&map, key::FUNCTION, signatory.function.trim())?;
        tx.put(&map, key::SIGNED_AT, write::timestamp(signatory.signed_at))?;
        Ok(())
    })
}

/// Sets the agreement's dates; refused when it would be in force until before it starts.
pub fn set_agreement_dates(
    doc: &mut Automerge,
    dates: &AgreementDates,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_dates(dates)?;
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?.id();
    let message = write::message("agreement: dates set", by.login());
    write::commit(doc, message, at, |tx| {
        for (name, day) in [
            (key::CONCLUDED_ON, dates.concluded_on),
            (key::VALID_FROM, dates.valid_from),
            (key::VALID_TO, dates.valid_to),
        ] {
            let day = day.map(write::date);
            write::put_opt_str(tx, &agreement, name, day.as_deref())?;
        }
        Ok(())
    })
}

fn check_dates(dates: &AgreementDates) -> Result<(), SchemaError> {
    match (dates.valid_from, dates.valid_to) {
        (Some(from), Some(to)) if to < from => {
            Err(SchemaError::Rule(RuleViolation::AgreementDatesOrder))
        }
        _ => Ok(()),
    }
}

/// Attaches the scan of the signed paper (replacing an earlier one): a blob uploaded to this
/// document, named by its SHA-256.
pub fn attach_agreement_scan(
    doc: &mut Automerge,
    scan: &AgreementScan,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    check_scan(scan)?;
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?.id();
    let message = write::message(format_args!("agreement/scan: {}", scan.sha256), by.login());
    write::commit(doc, message, at, |tx| {
        let map = write::new_map(tx, &agreement, key::SCAN)?;
        tx.put(&map, key::SHA256, scan.sha256.as_str())?;
        tx.put(&map, key::MIME, scan.mime.as_str())?;
        tx.put(&map, key::SIZE, scan.size)?;
        tx.put(&map, key::NAME, scan.name.as_str())?;
        Ok(())
    })
}

fn check_scan(scan: &AgreementScan) -> Result<(), SchemaError> {
    let field = |name: &str, reason: &str| SchemaError::Field {
        path: format!("{}/{}/{name}", key::AGREEMENT, key::SCAN),
        reason: reason.to_owned(),
    };
    if !is_sha256_hex(&scan.sha256) {
        return Err(field(key::SHA256, "not 64 lowercase hex digits"));
    }
    if !ALLOWED_MIME.contains(&scan.mime.as_str()) {
        return Err(field(key::MIME, "not a PDF or a photo"));
    }
    if scan.size == 0 || scan.size > MAX_ATTACHMENT_BYTES {
        return Err(field(key::SIZE, "empty or too large"));
    }
    Ok(())
}

/// Sets the agreement's status. Signing (`signed` the first time) needs a text, a party and a
/// signatory, and freezes the text and parties as signed; once signed the agreement may still
/// be terminated, and a status conflict settled, but its signed version stays.
pub fn set_agreement_status(
    doc: &mut Automerge,
    status: AgreementStatus,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?;
    let view = read_agreement(&agreement)?;
    let freeze = status == AgreementStatus::Signed && view.signed.is_none();
    if freeze {
        if view.text.trim().is_empty() {
            return Err(incomplete("text"));
        }
        if view.parties.is_empty() {
            return Err(incomplete("parties"));
        }
        if view.signatories.is_empty() {
            return Err(incomplete("signatories"));
        }
    }
    let agreement = agreement.id();
    let message = write::message(format_args!("agreement/status: {status}"), by.login());
    write::commit(doc, message, at, |tx| {
        tx.put(&agreement, key::STATUS, status.as_str())?;
        if freeze {
            let signed = write::new_map(tx, &agreement, key::SIGNED)?;
            tx.put(&signed, key::TEXT, view.text.as_str())?;
            let parties = write::new_map(tx, &signed, key::PARTIES)?;
            for (id, name) in &view.parties {
                tx.put(&parties, id.as_str(), name.as_str())?;
            }
            tx.put(&signed, key::BY, by.login())?;
            tx.put(&signed, key::AT, write::timestamp(at))?;
        }
        Ok(())
    })
}

/// Reads the agreement; the parts an older document lacks read as empty.
pub(super) fn read_agreement(node: &Node<'_>) -> Result<AgreementView, SchemaError> {
    let parties = match node.has(key::PARTIES)? {
        true => node.map(key::PARTIES)?.read_map(|p| p.str(key::NAME))?,
        false => BTreeMap::new(),
    };
    let signatories = match node.has(key::SIGNATORIES)? {
        true => node.map(key::SIGNATORIES)?.read_map(read_signatory)?,
        false => BTreeMap::new(),
    };
    let dates = AgreementDates {
        concluded_on: node.opt_date(key::CONCLUDED_ON)?,
        valid_from: node.opt_date(key::VALID_FROM)?,
        valid_to: node.opt_date(key::VALID_TO)?,
    };
    let scan = match node.has(key::SCAN)? {
        true => Some(read_scan(&node.map(key::SCAN)?)?),
        false => None,
    };
    let signed = match node.has(key::SIGNED)? {
        true => Some(read_signed(&node.map(key::SIGNED)?)?),
        false => None,
    };
    Ok(AgreementView {
        text: node.text(key::TEXT)?,
        status: node.status(key::STATUS)?,
        parties,
        signatories,
        dates,
        scan,
        signed,
    })
}

fn read_signatory(node: &Node<'_>) -> Result<Signatory, SchemaError> {
    Ok(Signatory {
        person: node.str(key::PERSON)?,
        institution: node.str(key::INSTITUTION)?,
        function: node.str(key::FUNCTION)?,
        signed_at: node.timestamp(key::SIGNED_AT)?,
    })
}

fn read_scan(node: &Node<'_>) -> Result<AgreementScan, SchemaError> {
    let scan = AgreementScan {
        sha256: node.str(key::SHA256)?,
        mime: node.str(key::MIME)?,
        size: node.uints(key::SIZE)?.value,
        name: node.str(key::NAME)?,
    };
    check_scan(&scan)?;
    Ok(scan)
}

fn read_signed(node: &Node<'_>) -> Result<SignedAgreement, SchemaError> {
    let parties = node.map(key::PARTIES)?;
    let parties = parties
        .ids()?
        .into_iter()
        .map(|id| parties.str(&id).map(|name| (id, name)))
        .collect::<Result<_, _>>()?;
    Ok(SignedAgreement {
        text: node.str(key::TEXT)?,
        parties,
        by: node.str(key::BY)?,
        at: node.timestamp(key::AT)?,
    })
}

/// Checks the document's state: a signed agreement's text and parties are the signed ones, and
/// its dates are in order.
pub fn check_state(agreement: &AgreementView) -> Result<(), SchemaError> {
    check_dates(&agreement.dates)?;
    if let Some(signed) = &agreement.signed {
        if signed.text != agreement.text || signed.parties != agreement.parties {
            return Err(frozen());
        }
    }
    Ok(())
}

/// The blobs the PZK document names (the agreement's scan), for the server's collection of
/// orphaned uploads.
pub fn referenced_blobs(doc: &Automerge) -> Result<Vec<String>, SchemaError> {
    let agreement = open_pzk(doc)?.map(key::AGREEMENT)?;
    Ok(read_agreement(&agreement)?
        .scan
        .map(|scan| scan.sha256)
        .into_iter()
        .collect())
}
