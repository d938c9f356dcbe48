//! The case's layout: the keys of its fields (the table in [the module documentation](super))
//! and its root, checked to be a case.

use automerge::Automerge;

use crate::error::SchemaError;
use crate::model::header::{self, DocumentKind};
use crate::model::reader::Node;

/// The keys of the case's maps.
pub(crate) mod key {

    pub(crate) const STAGE: &str = "stage";
    pub(crate) const OWNER: &str = "owner";
    pub(crate) const LEAD_INSTITUTION: &str = "leadInstitution";
    pub(crate) const HOUSEHOLD: &str = "household";
    pub(crate) const REFERRAL: &str = "referral";
    /// In `referral`: the referral document the case was opened from.
    pub(crate) const DOCUMENT: &str = "document";
    pub(crate) const SCREENING: &str = "screening";
    pub(crate) const DIAGNOSIS: &str = "diagnosis";
    pub(crate) const GOALS: &str = "goals";
    pub(crate) const SERVICES: &str = "services";
    pub(crate) const CONTRACT: &str = "contract";
    pub(crate) const MONITORING: &str = "monitoring";
    pub(crate) const CONSULTATIONS: &str = "consultations";
    pub(crate) const CONSENTS: &str = "consents";
    pub(crate) const EVALUATION: &str = "evaluation";
    pub(crate) const PZK_DECISION: &str = "pzkDecision";
    pub(crate) const HANDOVER: &str = "handover";
    pub(crate) const NEXT_VISIT: &str = "nextVisit";
    pub(crate) const ATTACHMENTS: &str = "attachments";
    pub(crate) const HOUSEHOLD_ADDRESS: &str = "householdAddress";
    pub(crate) const HOUSEHOLD_PHONE: &str = "householdPhone";
    pub(crate) const RECTIFICATIONS: &str = "rectifications";
    /// The case's justice document (police and court information), linked once.
    pub(crate) const JUSTICE_DOCUMENT: &str = "justiceDocument";

    pub(crate) const NAME: &str = "name";
    pub(crate) const RELATION: &str = "relation";
    pub(crate) const BIRTH_DATE: &str = "birthDate";
    pub(crate) const BY: &str = "by";
    pub(crate) const INSTITUTION: &str = "institution";
    pub(crate) const REASON: &str = "reason";
    pub(crate) const AT: &str = "at";
    pub(crate) const OUTCOME: &str = "outcome";
    pub(crate) const NOTES: &str = "notes";
    pub(crate) const SPECIFIC: &str = "specific";
    pub(crate) const MEASURABLE: &str = "measurable";
    pub(crate) const ACHIEVABLE: &str = "achievable";
    pub(crate) const RELEVANT: &str = "relevant";
    pub(crate) const DEADLINE: &str = "deadline";
    pub(crate) const RESPONSIBLE: &str = "responsible";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const LINKED_SERVICES: &str = "services";
    pub(crate) const CREATED_AT: &str = "createdAt";
    pub(crate) const PROVIDER: &str = "provider";
    pub(crate) const ADDED_AT: &str = "addedAt";
    pub(crate) const TEXT: &str = "text";
    pub(crate) const SIGNATURES: &str = "signatures";
    pub(crate) const HEADS: &str = "heads";
    pub(crate) const SIGNER: &str = "signer";
    pub(crate) const MODE: &str = "mode";
    pub(crate) const CONSENT_NOTE: &str = "consentNote";
    pub(crate) const RECORDED_BY: &str = "recordedBy";
    pub(crate) const AUTHOR: &str = "author";
    pub(crate) const PURPOSE: &str = "purpose";
    pub(crate) const STATE: &str = "state";
    pub(crate) const DECISION: &str = "decision";
    pub(crate) const MEETING: &str = "meeting";
    pub(crate) const TARGET: &str = "target";
    pub(crate) const TARGET_WORKER: &str = "targetWorker";
    pub(crate) const NOTE: &str = "note";
    pub(crate) const SHA256: &str = "sha256";
    pub(crate) const MIME: &str = "mime";
    pub(crate) const SIZE: &str = "size";
    pub(crate) const KIND: &str = "kind";
    pub(crate) const SIGNATURE: &str = "signature";
    pub(crate) const CONSENT: &str = "consent";
    pub(crate) const CAPTION: &str = "caption";
    pub(crate) const FIELD: &str = "field";
    pub(crate) const OLD: &str = "old";
    pub(crate) const NEW: &str = "new";

    /// The SMART parts of a goal kept as Text, in the order of `smart_values`.
    pub(crate) const SMART: [&str; 4] = [SPECIFIC, MEASURABLE, ACHIEVABLE, RELEVANT];
}

/// The root of `doc`, checked to be a case of a supported schema version.
pub(crate) fn open_case(doc: &Automerge) -> Result<Node<'_>, SchemaError> {
    header::open(doc, DocumentKind::Case)
}
