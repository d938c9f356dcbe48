//! The errors of `sync-core`: one enum per kind of failure, combined in [`Error`]. Each has a
//! stable code and a Polish text ([`crate::catalogue::Coded`]).

pub use crate::violation::RuleViolation;

/// A malformed identifier.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum IdError {
    /// Not a bs58check encoding of 16 bytes.
    #[error("invalid document id: {0}")]
    DocumentId(String),
    /// Not an `automerge:` URL.
    #[error("invalid automerge URL: {0}")]
    Url(String),
    /// A text id (peer, storage) that is empty, too long or has control characters.
    #[error("invalid {kind}: {reason}")]
    Text {
        /// Which id.
        kind: &'static str,
        /// Why.
        reason: String,
    },
}

/// A frame that is not a valid automerge-repo message. The engine answers it with an `error`
/// message and closes only that connection.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Larger than the configured frame limit; nothing of it was parsed.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The frame's size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Not CBOR, truncated CBOR, or nested too deeply.
    #[error("frame is not valid CBOR: {0}")]
    Cbor(String),
    /// Valid CBOR whose top level is not a map with string keys.
    #[error("frame is not a CBOR map with string keys")]
    NotAMap,
    /// A field the message type requires is absent.
    #[error("message {message_type:?} lacks field {field:?}")]
    MissingField {
        /// The message type.
        message_type: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field of the wrong CBOR type.
    #[error("field {field:?} has the wrong type: expected {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// A `type` this protocol does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A field holding an invalid identifier.
    #[error(transparent)]
    Id(#[from] IdError),
}

/// A failure of the store behind the engine. Storage can fail: disks fill up, networks part.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The store refused or failed a write or read (full disk, IO error, lost connection).
    #[error("storage failed: {0}")]
    Io(String),
    /// Stored bytes that do not decode (a damaged file, a foreign value).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A stored document id whose writes are refused for good (an erased case).
    #[error("document {0} is erased and cannot be written")]
    Tombstoned(String),
}

/// A document that does not match its schema (case or PZK), with the reason in words.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// The root `type` field is absent or names no known document type.
    #[error("unknown document type: {0}")]
    UnknownType(String),
    /// The schema version is newer than this build understands.
    #[error("schema version {found} is not supported (this build knows up to {supported})")]
    UnsupportedVersion {
        /// The document's version.
        found: u64,
        /// The newest version understood here.
        supported: u64,
    },
    /// A field is missing or has the wrong shape.
    #[error("field {path}: {reason}")]
    Field {
        /// Path of the field, e.g. `goals/g1/status`.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A rule of the model is broken (e.g. a contract signed without a help plan), with its
    /// stable code ([`RuleViolation::code`]).
    #[error("rule broken: {0}")]
    Rule(RuleViolation),
    /// An Automerge operation failed while reading or writing.
    #[error("automerge: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for SchemaError {
    fn from(e: automerge::AutomergeError) -> Self {
        SchemaError::Automerge(e.to_string())
    }
}

/// Why the host's policy refused a writer's changes ([`Policy::check_changes`]) or what a batch
/// of them made of a document ([`Policy::check_document`]). `Display` gives the words the peer
/// reads in its error message and the audit log records.
///
/// [`Policy::check_changes`]: crate::engine::Policy::check_changes
/// [`Policy::check_document`]: crate::engine::Policy::check_document
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A change's author (Automerge actor) is bound to another device than the writer's: the
    /// authorship is forged.
    #[error("change {change} is authored by actor {actor} of another device")]
    ForgedActor {
        /// The change.
        change: automerge::ChangeHash,
        /// Its author.
        actor: automerge::ActorId,
    },
    /// A change's author trailers (`Author:`, `Institution:` in its message) name someone else
    /// than the writer's user and institution: the history would name a person who never made
    /// the change.
    #[error("change {change} names {claimed:?} as its author, not the writer")]
    ForgedAuthor {
        /// The change.
        change: automerge::ChangeHash,
        /// The trailer that names someone else (`Author: anna`).
        claimed: String,
    },
    /// A new actor was bound to another device while this batch was checked.
    #[error("an actor of another device")]
    ActorOfAnotherDevice,
    /// The document does not match its schema.
    #[error("the document is not valid: {0}")]
    Invalid(SchemaError),
    /// The batch changed the document's type (case, PZK).
    #[error("a document cannot change its type")]
    TypeChanged,
    /// A document the host has no record of, changed by no creator it knows.
    #[error("the document has no owner on this server")]
    NoOwner,
    /// The creator is not a user the host knows.
    #[error("unknown user")]
    UnknownUser,
    /// A PZK document created by someone who animates no team of that name.
    #[error("only the animator of a PZK team creates its document (name it as the team)")]
    NotTeamAnimator,
    /// A change of a PZK document's part (its root key) that only the team's animator and ROPS
    /// advisers write, by a member institution's user (who may answer consultations).
    #[error("only the team's animator and its ROPS advisers change {0} of a PZK document")]
    PzkPartNotEditable(String),
    /// A case opened by someone whose role does not open cases.
    #[error("only social workers and animators open cases")]
    MayNotOpenCases,
    /// A referral to an institution the referrer shares no PZK with.
    #[error("the referrer's institution shares no PZK team with the receiving institution")]
    ReferralNoPzkRelation,
    /// A referral to an institution that is not a GOPS/MOPS/PCPR.
    #[error("referrals go to social services (GOPS/MOPS/PCPR) only")]
    ReferralNotToSocialServices,
    /// A referral whose referrer or receiving institution is not what it was when written, or
    /// that names someone else than its writer as the referrer.
    #[error("a referral's referrer and receiving institution never change")]
    ReferralChanged,
    /// A consultation addressed to an institution, asked by someone who does not write the case
    /// it names (or not from their own device).
    #[error("only a writer of the case asks an institution about it")]
    ConsultationNotCaseWriter,
    /// An answer to a consultation addressed to an institution, by someone who is not a member
    /// of it (or not from their own device).
    #[error("only members of the institution asked answer a consultation addressed to it")]
    ConsultationAnswerNotAddressed,
    /// A meeting's minutes approved by someone who may not approve them (only the team's
    /// animator; the meeting named).
    #[error("only the team's animator approves the minutes of meeting {0}")]
    MinutesApprovalNotAllowed(String),
    /// A justice document (police and court information) created or written by someone who is
    /// neither the owner of its case nor a user of a justice-sector institution assigned to it.
    #[error("only the case's owner and its assigned police and justice institutions keep its police and court information")]
    JusticeNotAllowed,
    /// A justice document whose case is not the one the server recorded when it was created.
    #[error("a justice document's case never changes")]
    JusticeCaseChanged,
    /// A rule of the host's own, in words (tests, the fuzzer, the model's validation).
    #[error("{0}")]
    Rule(String),
    /// The host could not decide (a poisoned table, a failed write of its own records).
    #[error("{0}")]
    HostFailed(String),
}

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// See [`IdError`].
    #[error(transparent)]
    Id(#[from] IdError),
    /// See [`DecodeError`].
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// See [`StorageError`].
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// See [`SchemaError`].
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// Automerge refused an operation (bad sync payload, change with a bad signature...).
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}
