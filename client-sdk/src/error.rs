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
    /// The key does not open this device's store. Nothing in the store was read or changed.
    #[error("the key does not open the store in {0}; nothing was changed")]
    WrongKey(String),
    /// Another open tablet (in this or another process) holds the store.
    #[error("the store in {0} is in use by another open tablet")]
    StoreInUse(String),
    /// The data directory holds a store this SDK did not make (it has no key check).
    #[error("{0} holds a store without a key check; refusing to use it")]
    UnknownStore(String),
    /// The server lets this user only read the document; the edit was refused on the device.
    #[error("document {0} may only be read by this user")]
    ReadOnly(sync_core::DocumentId),
    /// The server revoked this device; its local data has been wiped.
    #[error("this device was revoked by the server; its local data has been wiped")]
    Revoked,
    /// An edit or read does not fit the document's schema (case or PZK), with the reason.
    #[error(transparent)]
    Schema(#[from] sync_core::SchemaError),
    /// A request the SDK cannot carry out as asked (an unknown field path, a value that is
    /// not one of a conflict's values...), with the reason in words.
    #[error("{0}")]
    Invalid(String),
}
