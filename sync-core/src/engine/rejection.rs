//! Why the engine refused a peer's message: [`Rejection`], and for a refused batch of changes
//! [`BatchRefusal`]. Their `Display` gives the words the peer reads in its `error` message; the
//! host's audit log records their `Debug`.

use std::fmt;

use automerge::Automerge;

use crate::catalogue::Coded;
use crate::error::{DecodeError, Refusal};

/// Why a peer's message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The frame did not decode.
    Malformed(DecodeError),
    /// The sync payload did not decode or apply.
    BadSyncData(String),
    /// A message before `join`, a wrong `senderId`, a second `join`.
    ProtocolViolation(String),
    /// No common protocol version.
    UnsupportedVersion(Vec<String>),
    /// Changes from a peer without write access.
    ReadOnly,
    /// The changes were refused (by the policy, or because they cannot be applied safely); the
    /// whole batch they came in was discarded.
    ChangesRefused(BatchRefusal),
}

/// The words the peer reads in its `error` message and in the close frame.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(e) => write!(f, "malformed frame: {e}"),
            Rejection::BadSyncData(e) => write!(f, "sync data refused: {e}"),
            Rejection::ProtocolViolation(e) => write!(f, "protocol violation: {e}"),
            Rejection::UnsupportedVersion(v) => write!(
                f,
                "no common protocol version: you offer {v:?}, this server speaks [\"1\"]"
            ),
            Rejection::ReadOnly => {
                f.write_str("changes refused: you may read this document but not change it")
            }
            Rejection::ChangesRefused(e) => write!(f, "changes refused: {e}"),
        }
    }
}

/// Why a batch of changes was discarded, and which check refused it.
///
/// Its `Debug` is its words as a quoted string, as the audit log has always recorded a refusal
/// (`ChangesRefused("…")`).
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchRefusal {
    /// The policy refused a writer's changes new to the engine ([`super::Policy::check_changes`]).
    #[error("changes refused: {0}")]
    Changes(Refusal),
    /// The policy refused what the batch made of the document
    /// ([`super::Policy::check_document`]).
    #[error("{0}")]
    Document(Refusal),
    /// A writer's changes did not apply (checked writer by writer).
    #[error("sync data refused: {0}")]
    Undecodable(String),
    /// The changes leave more dependencies missing than [`MAX_MISSING_DEPS`].
    #[error(
        "the changes depend on {missing} changes this server does not have \
         (at most {MAX_MISSING_DEPS} may be missing)"
    )]
    TooManyMissingDeps {
        /// How many changes the document lacks.
        missing: usize,
    },
}

impl fmt::Debug for BatchRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

/// How many changes a document may lack under changes a peer sent (automerge queues such
/// changes until their dependencies arrive). A few happen in honest sync (a Bloom filter's
/// false positive); thousands are an attack on the server's memory.
pub const MAX_MISSING_DEPS: usize = 256;

/// The refusal of changes that leave too many dependencies missing.
pub(super) fn too_many_missing(am: &Automerge) -> Option<BatchRefusal> {
    let missing = automerge::ReadDoc::get_missing_deps(am, &[]).len();
    (missing > MAX_MISSING_DEPS).then_some(BatchRefusal::TooManyMissingDeps { missing })
}

impl Coded for BatchRefusal {
    fn code(&self) -> &'static str {
        match self {
            BatchRefusal::Changes(refusal) | BatchRefusal::Document(refusal) => refusal.code(),
            BatchRefusal::Undecodable(_) => "rejection.bad-sync-data",
            BatchRefusal::TooManyMissingDeps { .. } => "rejection.too-many-missing-deps",
        }
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            BatchRefusal::Changes(refusal) | BatchRefusal::Document(refusal) => refusal.args(),
            BatchRefusal::Undecodable(_) => Vec::new(),
            BatchRefusal::TooManyMissingDeps { missing } => {
                vec![("missing", missing.to_string())]
            }
        }
    }
}

impl Coded for Rejection {
    fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "rejection.malformed",
            Rejection::BadSyncData(_) => "rejection.bad-sync-data",
            Rejection::ProtocolViolation(_) => "rejection.protocol-violation",
            Rejection::UnsupportedVersion(_) => "rejection.unsupported-version",
            Rejection::ReadOnly => "rejection.read-only",
            Rejection::ChangesRefused(refusal) => refusal.code(),
        }
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Rejection::ChangesRefused(refusal) => refusal.args(),
            _ => Vec::new(),
        }
    }
}
