//! The crate's error type.

/// What can stop a load run (a failed verification is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The parameters do not make sense.
    #[error("invalid parameters: {0}")]
    Config(String),
    /// A client could not connect, or the server refused it.
    #[error("client {client}: {reason}")]
    Client {
        /// Which client (`c0`, `verifier`...).
        client: String,
        /// Why.
        reason: String,
    },
    /// A phase did not finish in time.
    #[error("timeout after {seconds} s: {what}")]
    Timeout {
        /// The phase.
        what: String,
        /// Its time limit.
        seconds: u64,
    },
    /// Reading a file (CA certificate) or writing the report failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// An Automerge operation failed.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// The report could not be serialised.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}
