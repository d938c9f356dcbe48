//! Consultations addressed to an institution through the PZK (issue #19).
//!
//! A case's writer asks institution X about the case without sharing the case with X: the
//! question is written twice, in one step each,
//! - in the PZK document, as a consultation whose `caseRef` is the case's document id (a
//!   pseudonym: it opens nothing to whoever may not read the case) and whose `to` is X, a
//!   member institution of the team; X's members read it there and answer there, and only
//!   they: an answer for anyone else than `to` is refused ([`RuleViolation::ConsultationNotAddressed`]);
//! - in the case, as a consultation with the same id and question and an `addressedTo` map
//!   `{pzk, consultation, to}`: the link by which the case shows the PZK document's answers.
//!
//! The server holds both ends to who may do it: a question only from a writer of the case its
//! `caseRef` names, an answer only from a member of `to`, each written by that user's own
//! device ([`addressed_entries`] lists what it checks).

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId};
use chrono::{DateTime, Utc};

pub use super::addressed_link::Addressed;
use super::addressed_link::{key, read_to, write_link};
use super::case::layout::open_case;
use super::consultation::{self, ConsultationRequest};
use super::editor::{self, Editor};
use super::pzk::layout::{key as pzk_key, open_pzk};
use super::pzk::types::check_case_ref;
use super::reader::check_id;
use super::write;
use crate::error::SchemaError;
use crate::violation::RuleViolation;
use crate::DocumentId;

/// Asks institution `to` (a member of the PZK team of `pzk_doc`) about the case `case_doc`:
/// consultation `consultation_id` is opened in both documents, named in the PZK document only
/// by the case's document id. Nothing is written unless both edits may be made.
#[allow(clippy::too_many_arguments)]
pub fn ask_institution(
    case_doc: &mut Automerge,
    case_id: &DocumentId,
    pzk_doc: &mut Automerge,
    pzk_id: &DocumentId,
    consultation_id: &str,
    to: &str,
    request: &ConsultationRequest,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let path = format!("consultations/{consultation_id}");
    check_id("consultations", consultation_id)?;
    check_id(&format!("{path}/{}", key::TO), to)?;
    let case_ref = case_id.to_string();
    check_case_ref(&path, &case_ref)?;
    let author = Editor::new(&request.asked_by, &request.institution)?;
    // Everything is checked before either document changes.
    let case_consultations = open_case(case_doc)?.map("consultations")?;
    case_consultations.absent(consultation_id, "consultation")?;
    let pzk_root = open_pzk(pzk_doc)?;
    let pzk_consultations = pzk_root.map(pzk_key::CONSULTATIONS)?;
    pzk_consultations.absent(consultation_id, "consultation")?;
    if !pzk_root.map(pzk_key::MEMBERS)?.has(to)? {
        return Err(SchemaError::Rule(RuleViolation::ConsultationToNonMember(
            to.to_owned(),
        )));
    }
    let (case_parent, pzk_parent) = (case_consultations.id(), pzk_consultations.id());

    let message = write::message(
        format_args!("consultations/{consultation_id}: opened on {case_ref} for {to}"),
        &request.asked_by,
    );
    write::commit(pzk_doc, message, at, |tx| {
        let map = consultation::create(tx, &pzk_parent, consultation_id, request, at)?;
        tx.put(&map, pzk_key::CASE_REF, case_ref.as_str())?;
        tx.put(&map, key::TO, to)?;
        Ok(())
    })?;
    let message = editor::message(
        format_args!("consultations/{consultation_id}: asked {to} through the PZK"),
        &author,
    );
    let link = Addressed {
        pzk: pzk_id.to_string(),
        consultation: consultation_id.to_owned(),
        to: to.to_owned(),
    };
    write::commit(case_doc, message, at, |tx| {
        let map = consultation::create(tx, &case_parent, consultation_id, request, at)?;
        write_link(tx, &map, &link)
    })
}

/// A question or answer of a consultation addressed to an institution, as the server checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressedEntry {
    /// `consultation id` for the question, `consultation id/answer id` for an answer.
    pub key: String,
    /// The institution asked.
    pub to: String,
    /// The case's document id (the consultation's `caseRef`).
    pub case_ref: String,
    /// Who asked (`askedBy`) or answered (`by`).
    pub by: String,
    /// The institution the question or answer names.
    pub institution: String,
    /// Whether this is an answer.
    pub answer: bool,
    /// The Automerge actor that created the entry's map (whose device wrote it).
    pub actor: Option<ActorId>,
}

/// Every question and answer of the consultations addressed to an institution in PZK document
/// `doc`, with the actor that wrote each.
pub fn addressed_entries(doc: &Automerge) -> Result<Vec<AddressedEntry>, SchemaError> {
    let mut out = Vec::new();
    for (id, node) in open_pzk(doc)?.map(pzk_key::CONSULTATIONS)?.entries()? {
        let Some(to) = read_to(&node)? else { continue };
        let case_ref = node.str(pzk_key::CASE_REF)?;
        let view = consultation::read(&node)?;
        out.push(AddressedEntry {
            key: id.clone(),
            to: to.clone(),
            case_ref: case_ref.clone(),
            by: view.request.asked_by,
            institution: view.request.institution,
            answer: false,
            actor: creator(&node.id()),
        });
        for (answer_id, answer) in node.map(consultation::key::ANSWERS)?.entries()? {
            let by = answer.str(consultation::key::BY)?;
            let institution = answer.str(consultation::key::INSTITUTION)?;
            out.push(AddressedEntry {
                key: format!("{id}/{answer_id}"),
                to: to.clone(),
                case_ref: case_ref.clone(),
                by,
                institution,
                answer: true,
                actor: creator(&answer.id()),
            });
        }
    }
    Ok(out)
}

/// The actor whose operation created object `id`.
fn creator(id: &ObjId) -> Option<ActorId> {
    match id {
        ObjId::Id(_, actor, _) => Some(actor.clone()),
        ObjId::Root => None,
    }
}
