//! The SDK's errors.

/// What can go wrong for an app using the SDK.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The server address is not a `ws://` or `wss://` URL.
    #[error("invalid server URL: {0}")]
    Url(String),
    /// The network failed (connection refused, TLS, WebSocket).
    #[error("network: {0}")]
    Network(String),
    /// The server refused the token (HTTP 401) or the device is revoked.
    #[error("the server refused this device: {0}")]
    Unauthorized(String),
    /// The local store failed; the edit was not saved.
    #[error(transparent)]
    Storage(#[from] sync_core::StorageError),
    /// The document is not on this device.
    #[error("document {0} is not on this device")]
    UnknownDocument(sync_core::DocumentId),
    /// An Automerge operation failed.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A wait ran out of time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The SDK's background task has stopped.
    #[error("the sync task has stopped")]
    Stopped,
}
