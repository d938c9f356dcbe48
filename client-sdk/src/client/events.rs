//! What the app can watch and list: [`ClientEvent`]s as they happen, and the
//! [`LocalDocument`]s held on this device.

use sync_core::model::DocumentKind;
use sync_core::{DocumentId, PeerId};

/// What the app can watch.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// Connected to the server (handshake done).
    Connected,
    /// Disconnected, with the reason in words.
    Disconnected(String),
    /// Something arrived from the server and was processed (a document may have changed).
    Synced,
    /// A document changed and the change is stored on this device.
    DocumentStored(DocumentId),
    /// The server does not have (or will not share) a document.
    Unavailable(DocumentId),
    /// Ephemeral data (presence) from another peer.
    Ephemeral {
        /// The document.
        document: DocumentId,
        /// Who sent it.
        sender: PeerId,
        /// The payload.
        data: Vec<u8>,
    },
    /// The server revoked this device (a tablet has wiped its store when this arrives).
    Revoked,
    /// A document was removed from this device: its user may no longer hold it.
    Removed(DocumentId),
}

/// A document held on this device, as [`super::SyncClient::documents`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalDocument {
    /// Its id.
    pub id: DocumentId,
    /// Its kind, once its content is here and names a known kind.
    pub kind: Option<DocumentKind>,
    /// Changes made here that the server has not acknowledged yet.
    pub pending_changes: usize,
    /// Whether the server has stored some version of it (false for a document created here
    /// and never acknowledged).
    pub on_server: bool,
    /// Whether the server lets this user only read it (edits are refused on the device).
    pub read_only: bool,
}
