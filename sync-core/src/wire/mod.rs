//! The automerge-repo WebSocket messages and their CBOR framing.
//!
//! One binary WebSocket frame carries one CBOR map with string keys. Decoding is lenient
//! (`metadata` or `peerMetadata`, counts as floats, `null`/`undefined`/absent optionals);
//! encoding is strict and produces what the JS client (cbor-x) produces.
//!
//! ```
//! use sync_core::wire::{Message, Join, PeerMetadata, decode, encode, DEFAULT_MAX_FRAME};
//! use sync_core::PeerId;
//! let join = Message::Join(Join {
//!     sender_id: PeerId::new("tablet-1").unwrap(),
//!     metadata: PeerMetadata { storage_id: None, is_ephemeral: false },
//!     supported_protocol_versions: vec!["1".into()],
//! });
//! let frame = encode(&join);
//! assert_eq!(decode(&frame, DEFAULT_MAX_FRAME).unwrap(), join);
//! ```

mod cbor;

use crate::error::DecodeError;
use crate::ids::{DocumentId, PeerId, StorageId};
use cbor::{text, Fields, Value};

/// Default limit of one frame's size (64 MiB): a whole case document with attachments fits.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024 * 1024;

/// The protocol version this implementation speaks.
pub const PROTOCOL_VERSION: &str = "1";

/// What a peer says about itself in `join` and `peer`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// Its storage id, when it stores documents durably.
    pub storage_id: Option<StorageId>,
    /// Whether it keeps nothing (a browser tab without storage).
    pub is_ephemeral: bool,
}

/// `join`: the first message of a connecting client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Join {
    /// The client's self-chosen peer id.
    pub sender_id: PeerId,
    /// The client's metadata.
    pub metadata: PeerMetadata,
    /// Versions it speaks, e.g. `["1"]`.
    pub supported_protocol_versions: Vec<String>,
}

/// `peer`: the server's answer to `join`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerMsg {
    /// The server's peer id.
    pub sender_id: PeerId,
    /// The server's metadata.
    pub metadata: PeerMetadata,
    /// The version chosen.
    pub selected_protocol_version: String,
    /// The client it answers.
    pub target_id: PeerId,
}

/// `request` and `sync`: an Automerge sync message about one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocMessage {
    /// Who sends it.
    pub sender_id: PeerId,
    /// To whom.
    pub target_id: PeerId,
    /// Which document.
    pub document_id: DocumentId,
    /// An encoded `automerge::sync::Message`.
    pub data: Vec<u8>,
}

/// `ephemeral`: data that is relayed and never stored (presence, cursors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ephemeral {
    /// The original sender (kept when relayed).
    pub sender_id: PeerId,
    /// The receiver of this copy.
    pub target_id: PeerId,
    /// The document it is about.
    pub document_id: DocumentId,
    /// Increases per (sender, session); receivers drop what they have seen.
    pub count: u64,
    /// The sender's session.
    pub session_id: String,
    /// Opaque payload (CBOR of the application's message, in the JS client).
    pub data: Vec<u8>,
}

/// One storage's heads in `remote-heads-changed`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteHeads {
    /// The storage whose heads these are.
    pub storage_id: StorageId,
    /// Heads in their encoded (bs58check) text form.
    pub heads: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `join`.
    Join(Join),
    /// `peer`.
    Peer(PeerMsg),
    /// `error`: the connection is about to close.
    Error {
        /// Why, in words.
        message: String,
    },
    /// `request`: the sender does not have the document.
    Request(DocMessage),
    /// `sync`.
    Sync(DocMessage),
    /// `doc-unavailable`: unknown, or not readable by the receiver (indistinguishable on purpose).
    DocUnavailable {
        /// Who sends it.
        sender_id: PeerId,
        /// To whom.
        target_id: PeerId,
        /// Which document.
        document_id: DocumentId,
    },
    /// `ephemeral`.
    Ephemeral(Ephemeral),
    /// `remote-subscription-change`: heads gossip subscription.
    RemoteSubscriptionChange {
        /// Who sends it.
        sender_id: PeerId,
        /// To whom.
        target_id: PeerId,
        /// Storages to follow.
        add: Vec<StorageId>,
        /// Storages to stop following.
        remove: Vec<StorageId>,
    },
    /// `remote-heads-changed`: heads gossip.
    RemoteHeadsChanged {
        /// Who sends it.
        sender_id: PeerId,
        /// To whom.
        target_id: PeerId,
        /// Which document.
        document_id: DocumentId,
        /// The new heads per storage.
        new_heads: Vec<RemoteHeads>,
    },
    /// `leave`: advisory goodbye.
    Leave {
        /// Who leaves.
        sender_id: PeerId,
    },
}

impl Message {
    /// The wire name of the message's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join(_) => "join",
            Message::Peer(_) => "peer",
            Message::Error { .. } => "error",
            Message::Request(_) => "request",
            Message::Sync(_) => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral(_) => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Leave { .. } => "leave",
        }
    }

    /// The claimed sender, for messages that carry one.
    pub fn sender_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join(j) => Some(&j.sender_id),
            Message::Peer(p) => Some(&p.sender_id),
            Message::Error { .. } => None,
            Message::Request(m) | Message::Sync(m) => Some(&m.sender_id),
            Message::DocUnavailable { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. }
            | Message::Leave { sender_id } => Some(sender_id),
            Message::Ephemeral(e) => Some(&e.sender_id),
        }
    }

    /// The document the message is about, for messages about one.
    pub fn document_id(&self) -> Option<&DocumentId> {
        match self {
            Message::Request(m) | Message::Sync(m) => Some(&m.document_id),
            Message::DocUnavailable { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. } => Some(document_id),
            Message::Ephemeral(e) => Some(&e.document_id),
            _ => None,
        }
    }
}

/// Decodes one frame. Never panics; every malformed frame is a [`DecodeError`].
pub fn decode(frame: &[u8], max_frame: usize) -> Result<Message, DecodeError> {
    if frame.len() > max_frame {
        return Err(DecodeError::TooLarge {
            size: frame.len(),
            limit: max_frame,
        });
    }
    let fields = Fields::parse(frame)?;
    let ty = fields.string("type")?;
    let message = match ty.as_str() {
        "join" => Message::Join(Join {
            sender_id: fields.peer_id("senderId", &ty)?,
            metadata: fields.metadata()?,
            // Older automerge-repo clients send no versions: they speak "1", as the JS
            // reference server assumes. A list given empty still names no common version.
            supported_protocol_versions: fields
                .opt_string_list("supportedProtocolVersions")?
                .unwrap_or_else(|| vec![PROTOCOL_VERSION.to_owned()]),
        }),
        "peer" => Message::Peer(PeerMsg {
            sender_id: fields.peer_id("senderId", &ty)?,
            metadata: fields.metadata()?,
            selected_protocol_version: fields
                .opt_string("selectedProtocolVersion")?
                .unwrap_or_else(|| PROTOCOL_VERSION.to_owned()),
            target_id: fields.peer_id("targetId", &ty)?,
        }),
        "error" => Message::Error {
            message: fields.opt_string("message")?.unwrap_or_default(),
        },
        "request" | "sync" => {
            let m = DocMessage {
                sender_id: fields.peer_id("senderId", &ty)?,
                target_id: fields.peer_id("targetId", &ty)?,
                document_id: fields.document_id(&ty)?,
                data: fields.bytes("data", &ty)?,
            };
            if ty == "sync" {
                Message::Sync(m)
            } else {
                Message::Request(m)
            }
        }
        "doc-unavailable" => Message::DocUnavailable {
            sender_id: fields.peer_id("senderId", &ty)?,
            target_id: fields.peer_id("targetId", &ty)?,
            document_id: fields.document_id(&ty)?,
        },
        "ephemeral" => Message::Ephemeral(Ephemeral {
            sender_id: fields.peer_id("senderId", &ty)?,
            target_id: fields.peer_id("targetId", &ty)?,
            document_id: fields.document_id(&ty)?,
            count: fields.count("count", &ty)?,
            session_id: fields.required_string("sessionId", &ty)?,
            data: fields.bytes("data", &ty)?,
        }),
        "remote-subscription-change" => Message::RemoteSubscriptionChange {
            sender_id: fields.peer_id("senderId", &ty)?,
            target_id: fields.peer_id("targetId", &ty)?,
            add: fields.storage_list("add")?,
            remove: fields.storage_list("remove")?,
        },
        "remote-heads-changed" => Message::RemoteHeadsChanged {
            sender_id: fields.peer_id("senderId", &ty)?,
            target_id: fields.peer_id("targetId", &ty)?,
            document_id: fields.document_id(&ty)?,
            new_heads: fields.remote_heads()?,
        },
        "leave" => Message::Leave {
            sender_id: fields.peer_id("senderId", &ty)?,
        },
        other => return Err(DecodeError::UnknownType(other.to_owned())),
    };
    Ok(message)
}

/// Encodes one message as a frame, as the JS client would.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut map: Vec<(&'static str, Value)> = vec![("type", text(message.type_name()))];
    let mut put = |k: &'static str, v: Value| map.push((k, v));
    match message {
        Message::Join(j) => {
            put("senderId", text(j.sender_id.as_str()));
            put("peerMetadata", metadata_value(&j.metadata));
            put(
                "supportedProtocolVersions",
                Value::Array(
                    j.supported_protocol_versions
                        .iter()
                        .map(|v| text(v))
                        .collect(),
                ),
            );
        }
        Message::Peer(p) => {
            put("senderId", text(p.sender_id.as_str()));
            put("peerMetadata", metadata_value(&p.metadata));
            put(
                "selectedProtocolVersion",
                text(&p.selected_protocol_version),
            );
            put("targetId", text(p.target_id.as_str()));
        }
        Message::Error { message } => put("message", text(message)),
        Message::Request(m) | Message::Sync(m) => {
            put("senderId", text(m.sender_id.as_str()));
            put("targetId", text(m.target_id.as_str()));
            put("documentId", text(&m.document_id.to_string()));
            put("data", Value::Bytes(m.data.clone()));
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("documentId", text(&document_id.to_string()));
        }
        Message::Ephemeral(e) => {
            put("senderId", text(e.sender_id.as_str()));
            put("targetId", text(e.target_id.as_str()));
            put("documentId", text(&e.document_id.to_string()));
            put("count", Value::Integer(e.count.into()));
            put("sessionId", text(&e.session_id));
            put("data", Value::Bytes(e.data.clone()));
        }
        Message::RemoteSubscriptionChange {
            sender_id,
            target_id,
            add,
            remove,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("add", storage_array(add));
            put("remove", storage_array(remove));
        }
        Message::RemoteHeadsChanged {
            sender_id,
            target_id,
            document_id,
            new_heads,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("documentId", text(&document_id.to_string()));
            let entries = new_heads
                .iter()
                .map(|h| {
                    (
                        text(h.storage_id.as_str()),
                        Value::Map(vec![
                            (
                                text("heads"),
                                Value::Array(h.heads.iter().map(|s| text(s)).collect()),
                            ),
                            (text("timestamp"), Value::Float(h.timestamp)),
                        ]),
                    )
                })
                .collect();
            put("newHeads", Value::Map(entries));
        }
        Message::Leave { sender_id } => put("senderId", text(sender_id.as_str())),
    }
    cbor::to_bytes(map)
}

fn metadata_value(m: &PeerMetadata) -> Value {
    let mut entries = Vec::new();
    if let Some(s) = &m.storage_id {
        entries.push((text("storageId"), text(s.as_str())));
    }
    entries.push((text("isEphemeral"), Value::Bool(m.is_ephemeral)));
    Value::Map(entries)
}

fn storage_array(ids: &[StorageId]) -> Value {
    Value::Array(ids.iter().map(|s| text(s.as_str())).collect())
}

#[cfg(test)]
mod tests;
