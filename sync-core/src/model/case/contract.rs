//! The social or family contract (*kontrakt*, K7.2 step 5): its text, its signings (each
//! freezing the version signed), and what the text was at a signing.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ReadDoc};
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use super::read::read_contract;
use super::types::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::write;

/// Replaces the contract's text (as a diff, so concurrent edits elsewhere in it are kept).
pub fn set_contract_text(
    doc: &mut Automerge,
    text: &str,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let contract_text = open_case(doc)?
        .map(key::CONTRACT)?
        .text_obj(key::TEXT)?
        .id();
    let message = editor::message("contract: text updated", by);
    write::commit(doc, message, at, |tx| {
        write::update_text(tx, &contract_text, text)
    })
}

/// Records a signing of the contract as it is now (K7.2 step 5), made by `signature.signer` and
/// recorded by the worker `by`, and returns the heads that were signed.
///
/// The signing freezes a version: it keeps the document's current heads, so the accepted text
/// stays readable ([`signed_contract_text`]) whatever edits follow, and
/// [`contract_changed_since_signed`] tells when the text has changed since. A contract is signed
/// on an IPP: signing an empty contract, or one of a case without goals, breaks a rule of the
/// model. Remote acceptance (by phone or video) needs the recorded consent in
/// `signature.consent_note`.
pub fn sign_contract(
    doc: &mut Automerge,
    signature: &Signature,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<Vec<ChangeHash>, SchemaError> {
    let root = open_case(doc)?;
    let contract = root.map(key::CONTRACT)?;
    if contract.text(key::TEXT)?.trim().is_empty() {
        return Err(SchemaError::Rule(RuleViolation::ContractEmpty));
    }
    if root.map(key::GOALS)?.ids()?.is_empty() {
        return Err(SchemaError::Rule(RuleViolation::ContractWithoutGoal));
    }
    check_signature(signature)?;
    let signatures = contract.list(key::SIGNATURES)?;
    let (list, index) = (signatures.id(), signatures.len());
    let heads = doc.get_heads();
    let message = editor::message(
        format_args!(
            "contract: signed by {} ({})",
            signature.signer, signature.mode
        ),
        by,
    );
    write::commit(doc, message, at, |tx| {
        let entry = tx.insert_object(&list, index, ObjType::Map)?;
        write_signature(tx, &entry, signature, by, &heads, at)
    })?;
    Ok(heads)
}

/// Checks what a signing must name: the signer, and for remote acceptance the recorded consent.
fn check_signature(signature: &Signature) -> Result<(), SchemaError> {
    if signature.signer.trim().is_empty() {
        return Err(SchemaError::Rule(RuleViolation::NoSigner));
    }
    if signature.mode != SigningMode::InPerson && signature.consent_note.trim().is_empty() {
        return Err(SchemaError::Rule(RuleViolation::RemoteWithoutConsent(
            signature.mode.as_str(),
        )));
    }
    Ok(())
}

fn write_signature(
    tx: &mut Transaction<'_>,
    entry: &ObjId,
    signature: &Signature,
    by: &Editor,
    heads: &[ChangeHash],
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let list = write::new_list(tx, entry, key::HEADS)?;
    for (i, head) in heads.iter().enumerate() {
        tx.insert(&list, i, head.to_string())?;
    }
    tx.put(entry, key::SIGNER, signature.signer.as_str())?;
    tx.put(entry, key::AT, write::timestamp(at))?;
    tx.put(entry, key::MODE, signature.mode.as_str())?;
    tx.put(entry, key::CONSENT_NOTE, signature.consent_note.as_str())?;
    tx.put(entry, key::RECORDED_BY, by.login())?;
    Ok(())
}

/// The contract text exactly as it was when signing number `index` (0 = first) was made.
pub fn signed_contract_text(doc: &Automerge, index: usize) -> Result<String, SchemaError> {
    let contract = open_case(doc)?.map(key::CONTRACT)?;
    let signing = read_contract(&contract)?
        .signatures
        .into_iter()
        .nth(index)
        .ok_or_else(|| contract.error(key::SIGNATURES, format!("no signing number {index}")))?;
    let text = contract.text_obj(key::TEXT)?.id();
    Ok(doc.text_at(&text, &signing.heads)?)
}

/// Whether the contract's text differs from the text of its latest signing: the contract was
/// changed after it was signed and the change is not (yet) signed.
///
/// The latest signing is the one with the latest signing time (of equal times, the later in
/// the list). A contract never signed has not changed since signing: the answer is `false`.
pub fn contract_changed_since_signed(doc: &Automerge) -> Result<bool, SchemaError> {
    let contract = open_case(doc)?.map(key::CONTRACT)?;
    let view = read_contract(&contract)?;
    let latest = view
        .signatures
        .iter()
        .enumerate()
        .max_by_key(|(index, signing)| (signing.at, *index));
    let Some((_, signing)) = latest else {
        return Ok(false);
    };
    let text = contract.text_obj(key::TEXT)?.id();
    Ok(doc.text_at(&text, &signing.heads)? != view.text)
}

/// The contract text as it was at `heads`.
pub(crate) fn contract_text_at(
    doc: &Automerge,
    heads: &[ChangeHash],
) -> Result<String, SchemaError> {
    let text = open_case(doc)?
        .map(key::CONTRACT)?
        .text_obj(key::TEXT)?
        .id();
    Ok(doc.text_at(&text, heads)?)
}

/// How many IPP goals the case had at `heads`.
pub(crate) fn goal_count_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<usize, SchemaError> {
    let goals = open_case(doc)?.map(key::GOALS)?.id();
    Ok(doc.keys_at(&goals, heads).count())
}
