//! The PZK document's layout: the keys of its fields (the table in
//! [the module documentation](super)) and its root, checked to be a PZK document.

use automerge::Automerge;

use crate::error::SchemaError;
use crate::model::header::{self, DocumentKind};
use crate::model::reader::Node;

/// The keys of the PZK document's maps.
pub(crate) mod key {

    pub(crate) const NAME: &str = "name";
    pub(crate) const ANIMATOR: &str = "animator";
    pub(crate) const AGREEMENT: &str = "agreement";
    pub(crate) const MEMBERS: &str = "members";
    pub(crate) const WORK_PLAN: &str = "workPlan";
    pub(crate) const SERVICES: &str = "services";
    pub(crate) const MEETINGS: &str = "meetings";
    pub(crate) const CONSULTATIONS: &str = "consultations";
    pub(crate) const DECISION_92: &str = "decision92";
    pub(crate) const RECOMMENDATIONS: &str = "recommendations";

    pub(crate) const TEXT: &str = "text";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const SECTOR: &str = "sector";
    pub(crate) const ROLE: &str = "role";
    pub(crate) const REPRESENTATIVES: &str = "representatives";
    pub(crate) const FUNCTION: &str = "function";
    pub(crate) const STEP: &str = "step";
    pub(crate) const MONTH: &str = "month";
    pub(crate) const TITLE: &str = "title";
    pub(crate) const DESCRIPTION: &str = "description";
    pub(crate) const PROVIDER: &str = "provider";
    pub(crate) const CAPACITY: &str = "capacity";
    pub(crate) const REMOTE_CAPABLE: &str = "remoteCapable";
    pub(crate) const RETIRED: &str = "retired";
    pub(crate) const DATE: &str = "date";
    pub(crate) const MODE: &str = "mode";
    pub(crate) const AGENDA: &str = "agenda";
    pub(crate) const ORDER: &str = "order";
    pub(crate) const ATTENDANCE: &str = "attendance";
    pub(crate) const MINUTES: &str = "minutes";
    pub(crate) const DECISIONS: &str = "decisions";
    pub(crate) const LINK: &str = "link";
    pub(crate) const INVITATIONS: &str = "invitations";
    pub(crate) const MINUTES_APPROVED: &str = "minutesApproved";
    pub(crate) const CASE_REF: &str = "caseRef";
    pub(crate) const MEETING: &str = "meeting";
    pub(crate) const DECISION: &str = "decision";
    pub(crate) const RATIONALE: &str = "rationale";
    pub(crate) const BY: &str = "by";
    pub(crate) const AT: &str = "at";
    pub(crate) const LEADER: &str = "leader";
    pub(crate) const LABEL: &str = "label";
    pub(crate) const NOTE: &str = "note";
    pub(crate) const PARTIES: &str = "parties";
    pub(crate) const SIGNATORIES: &str = "signatories";
    pub(crate) const PERSON: &str = "person";
    pub(crate) const INSTITUTION: &str = "institution";
    pub(crate) const SIGNED_AT: &str = "signedAt";
    pub(crate) const CONCLUDED_ON: &str = "concludedOn";
    pub(crate) const VALID_FROM: &str = "validFrom";
    pub(crate) const VALID_TO: &str = "validTo";
    pub(crate) const SCAN: &str = "scan";
    pub(crate) const SHA256: &str = "sha256";
    pub(crate) const MIME: &str = "mime";
    pub(crate) const SIZE: &str = "size";
    pub(crate) const SIGNED: &str = "signed";
    pub(crate) const CATEGORY: &str = "category";
}

/// The root of `doc`, checked to be a PZK document of a supported schema version.
pub(crate) fn open_pzk(doc: &Automerge) -> Result<Node<'_>, SchemaError> {
    header::open(doc, DocumentKind::Pzk)
}
