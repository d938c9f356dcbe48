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
    /// A file is larger than the attachments' limit; nothing was stored.
    #[error("the file has {size} bytes; attachments may have at most {limit}")]
    AttachmentTooLarge {
        /// The file's size (or the bytes read when the limit was crossed).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A file of a type an attachment may not have (by its first bytes); nothing was stored.
    #[error("attachments may be PDF, JPEG, PNG, HEIC/HEIF or WebP files")]
    AttachmentType,
    /// The photo's metadata (EXIF, GPS) could not be removed, so it was not stored: a damaged
    /// image, or a format whose metadata the SDK cannot rewrite (HEIC/HEIF).
    #[error("the photo's metadata could not be removed: {0}")]
    PhotoMetadata(String),
    /// The case has no attachment with this SHA-256 (or the server has no such blob for it).
    #[error("the case has no attachment {0}")]
    AttachmentUnknown(String),
    /// The attachment's bytes are not on this device yet (download them first).
    #[error("attachment {0} is not on this device; download it first")]
    AttachmentNotCached(String),
    /// Downloaded or stored bytes do not match the attachment's SHA-256; they were discarded.
    #[error("attachment {0} does not match its SHA-256; it was discarded")]
    AttachmentCorrupt(String),
    /// The server refused an upload for good (too large for its limit, a type it refuses, a
    /// hash mismatch, read-only access), with its reason.
    #[error("the server refused the attachment: {0}")]
    AttachmentRefused(String),
}

/// Every SDK error has a stable code and a Polish text for the user (the catalogue
/// `sync-core/messages/pl.json`): the model's own code for a broken rule, the server's code
/// for a refusal it sent (found in the close reason), `sdk.*` for the SDK's own failures.
impl sync_core::Coded for SdkError {
    fn code(&self) -> &'static str {
        match self {
            SdkError::Url(_) => "sdk.url",
            SdkError::Network(reason) => {
                sync_core::catalogue::find_code(reason).unwrap_or("sdk.network")
            }
            SdkError::Unauthorized(_) => "sdk.unauthorized",
            SdkError::Storage(_) => "sdk.storage",
            SdkError::UnknownDocument(_) => "sdk.unknown-document",
            SdkError::Automerge(_) => "document.automerge",
            SdkError::Timeout(_) => "sdk.timeout",
            SdkError::Stopped => "sdk.stopped",
            SdkError::WrongKey(_) => "sdk.wrong-key",
            SdkError::StoreInUse(_) => "sdk.store-in-use",
            SdkError::UnknownStore(_) => "sdk.unknown-store",
            SdkError::ReadOnly(_) => "sdk.read-only",
            SdkError::Revoked => "sdk.revoked",
            SdkError::Schema(e) => e.code(),
            SdkError::Invalid(_) => "sdk.invalid",
            SdkError::AttachmentTooLarge { .. } => "sdk.attachment-too-large",
            SdkError::AttachmentType => "sdk.attachment-type",
            SdkError::PhotoMetadata(_) => "sdk.photo-metadata",
            SdkError::AttachmentUnknown(_) => "sdk.attachment-unknown",
            SdkError::AttachmentNotCached(_) => "sdk.attachment-not-cached",
            SdkError::AttachmentCorrupt(_) => "sdk.attachment-corrupt",
            SdkError::AttachmentRefused(_) => "sdk.attachment-refused",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            SdkError::Schema(e) => e.args(),
            SdkError::AttachmentTooLarge { size, limit } => vec![
                ("size_mb", format!("{:.1}", *size as f64 / 1_048_576.0)),
                ("limit_mb", format!("{:.0}", *limit as f64 / 1_048_576.0)),
            ],
            SdkError::AttachmentRefused(reason) => vec![("reason", reason.clone())],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sync_core::Coded;

    use super::*;

    fn examples() -> Vec<SdkError> {
        let id = sync_core::DocumentId::from_random([7; 16]);
        let words = || "x".to_owned();
        vec![
            SdkError::Url(words()),
            SdkError::Network(words()),
            SdkError::Unauthorized(words()),
            SdkError::Storage(sync_core::StorageError::Io(words())),
            SdkError::UnknownDocument(id),
            SdkError::Timeout(words()),
            SdkError::Stopped,
            SdkError::WrongKey(words()),
            SdkError::StoreInUse(words()),
            SdkError::UnknownStore(words()),
            SdkError::ReadOnly(id),
            SdkError::Revoked,
            SdkError::Invalid(words()),
            SdkError::AttachmentTooLarge { size: 1, limit: 1 },
            SdkError::AttachmentType,
            SdkError::PhotoMetadata(words()),
            SdkError::AttachmentUnknown(words()),
            SdkError::AttachmentNotCached(words()),
            SdkError::AttachmentCorrupt(words()),
            SdkError::AttachmentRefused(words()),
        ]
    }

    #[test]
    fn every_sdk_code_has_a_polish_text_and_every_sdk_text_a_code() {
        let raised: BTreeSet<&str> = examples().iter().map(Coded::code).collect();
        let written: BTreeSet<&str> = sync_core::catalogue::catalogue_codes()
            .filter(|code| code.starts_with("sdk."))
            .collect();
        assert_eq!(raised, written);
        for error in examples() {
            assert!(!error.message_pl().starts_with("Błąd:"), "{error}");
        }
    }

    #[test]
    fn a_refusal_quoted_by_the_sdk_keeps_the_servers_code() {
        let closed = SdkError::Network(
            "the server closed the connection (1008): [rejection.read-only] changes refused"
                .to_owned(),
        );
        assert_eq!(closed.code(), "rejection.read-only");
        assert_eq!(
            closed.message_pl(),
            "Możesz ten dokument czytać, ale nie zmieniać."
        );
        assert_eq!(SdkError::Network("reset".to_owned()).code(), "sdk.network");
    }
}
