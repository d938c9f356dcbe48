//! The keys every document has at its root (its kind, schema version and creation time): reading
//! them, checking them before an edit, and writing them when a document is created.

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ROOT};
use chrono::{DateTime, Utc};

use super::reader::Node;
use super::write;
use crate::error::{RuleViolation, SchemaError};

/// The newest document schema this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

/// The keys every document has at its root.
pub(crate) mod key {
    /// The document type: `"case"` or `"pzk"`.
    pub(crate) const TYPE: &str = "type";
    /// The schema version the document was written with.
    pub(crate) const SCHEMA_VERSION: &str = "schemaVersion";
    /// When the document was created.
    pub(crate) const CREATED_AT: &str = "createdAt";
}

wire_enum! {
    /// The kind of a document, stored in its root `type` key.
    DocumentKind {
        /// *Sprawa* — a case: one person, family or group and the work with them (step K7.2).
        Case = "case",
        /// *PZK — Partnerski Zespół Kooperacji* — a partner team: its agreement, members, work
        /// plan, services list and meetings.
        Pzk = "pzk",
        /// *Zgłoszenie* — a partner's referral of a person or family to a GOPS/PCPR (K7.2).
        Referral = "referral",
        /// What a user has seen of "Co nowego": their own document ([`super::seen`]).
        Seen = "seen",
        /// *Informacje z procedur prawnych* — police and court information about a case (GDPR
        /// art. 10), beside it with narrower access ([`super::justice`]).
        Justice = "justice",
    }
}

/// The kind of a document, read from its root `type` key.
///
/// A document without `type`, or whose `type` is not a known kind, is
/// [`SchemaError::UnknownType`]. Concurrent different `type` values are a field error: such a
/// document cannot be trusted to be either.
pub fn kind_of(doc: &Automerge) -> Result<DocumentKind, SchemaError> {
    let found = match Node::root(doc).opt_strs(key::TYPE) {
        Ok(Some(found)) => found,
        Ok(None) => return Err(SchemaError::UnknownType("no `type` key".to_owned())),
        Err(SchemaError::Field { reason, .. }) => return Err(SchemaError::UnknownType(reason)),
        Err(other) => return Err(other),
    };
    if found.is_conflicted() {
        return Err(SchemaError::Field {
            path: key::TYPE.to_owned(),
            reason: format!("concurrent values {:?}", found.all().collect::<Vec<_>>()),
        });
    }
    DocumentKind::parse(&found.value).ok_or(SchemaError::UnknownType(found.value))
}

/// The document's schema version, checked to be one this build understands.
///
/// When concurrent changes left several versions, the newest counts.
pub fn schema_version(doc: &Automerge) -> Result<u64, SchemaError> {
    let versions = Node::root(doc).uints(key::SCHEMA_VERSION)?;
    let newest = versions.all().copied().fold(versions.value, u64::max);
    if newest == 0 {
        return Err(SchemaError::Field {
            path: key::SCHEMA_VERSION.to_owned(),
            reason: "versions start at 1".to_owned(),
        });
    }
    if newest > SCHEMA_VERSION {
        return Err(SchemaError::UnsupportedVersion {
            found: newest,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(newest)
}

/// The root of `doc`, checked to be of kind `expected` and of a supported version.
pub(crate) fn open(doc: &Automerge, expected: DocumentKind) -> Result<Node<'_>, SchemaError> {
    let kind = kind_of(doc)?;
    if kind != expected {
        return Err(SchemaError::Rule(RuleViolation::WrongKind {
            expected: expected.as_str(),
            found: kind.as_str(),
        }));
    }
    schema_version(doc)?;
    Ok(Node::root(doc))
}

/// Writes the keys every document starts with.
pub(crate) fn write_header(
    tx: &mut Transaction<'_>,
    kind: DocumentKind,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    tx.put(ROOT, key::TYPE, kind.as_str())?;
    tx.put(ROOT, key::SCHEMA_VERSION, SCHEMA_VERSION)?;
    tx.put(ROOT, key::CREATED_AT, write::timestamp(at))?;
    Ok(())
}
