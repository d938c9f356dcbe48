//! The link between a case's consultation and the PZK consultation that carries it to an
//! institution (issue #19, [`super::addressed`]): the case side's `addressedTo` map and the PZK
//! side's `to`, read and written here, where neither the consultation nor the PZK model needs
//! the asking itself.

use automerge::transaction::Transactable;
use automerge::ObjId;

use super::reader::{check_id, Node};
use super::write;
use crate::error::SchemaError;
use crate::violation::RuleViolation;
use crate::DocumentId;

pub(crate) mod key {
    /// In a PZK consultation: the institution it is addressed to.
    pub(crate) const TO: &str = "to";
    /// In a case consultation: the link to its PZK consultation.
    pub(crate) const ADDRESSED_TO: &str = "addressedTo";
    pub(crate) const PZK: &str = "pzk";
    pub(crate) const CONSULTATION: &str = "consultation";
}

/// A case consultation's link to the PZK consultation that carries it to an institution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addressed {
    /// The PZK document's id.
    pub pzk: String,
    /// The consultation's id in the PZK document (the same as in the case).
    pub consultation: String,
    /// The institution asked.
    pub to: String,
}

/// Writes a case consultation's link to its PZK consultation.
pub(crate) fn write_link(
    tx: &mut automerge::transaction::Transaction<'_>,
    consultation: &ObjId,
    link: &Addressed,
) -> Result<(), SchemaError> {
    let map = write::new_map(tx, consultation, key::ADDRESSED_TO)?;
    tx.put(&map, key::PZK, link.pzk.as_str())?;
    tx.put(&map, key::CONSULTATION, link.consultation.as_str())?;
    tx.put(&map, key::TO, link.to.as_str())?;
    Ok(())
}

/// Reads a case consultation's link, if it has one.
pub(crate) fn read_link(node: &Node<'_>) -> Result<Option<Addressed>, SchemaError> {
    if !node.has(key::ADDRESSED_TO)? {
        return Ok(None);
    }
    let link = node.map(key::ADDRESSED_TO)?;
    let pzk = link.str(key::PZK)?;
    if pzk.parse::<DocumentId>().is_err() {
        return Err(link.error(key::PZK, "not a document id"));
    }
    let consultation = link.str(key::CONSULTATION)?;
    let to = link.str(key::TO)?;
    check_id(&link.path_of(key::TO), &to)?;
    Ok(Some(Addressed {
        pzk,
        consultation,
        to,
    }))
}

/// Reads a PZK consultation's addressed institution, if any.
pub(crate) fn read_to(node: &Node<'_>) -> Result<Option<String>, SchemaError> {
    let to = node.opt_str(key::TO)?;
    if let Some(to) = &to {
        check_id(&node.path_of(key::TO), to)?;
    }
    Ok(to)
}

/// Checks that `institution` may answer the consultation at `node` (one addressed to another
/// institution may not be answered for it).
pub(crate) fn check_answerer(node: &Node<'_>, institution: &str) -> Result<(), SchemaError> {
    match read_to(node)? {
        Some(to) if to != institution => Err(SchemaError::Rule(
            RuleViolation::ConsultationNotAddressed(to),
        )),
        _ => Ok(()),
    }
}
