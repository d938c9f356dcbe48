//! What the tablet reports, as plain records: the sync status, events, the documents on the
//! device, conflicts, history, the stage bar's moves, a text session's view.

use std::time::SystemTime;

use sync_core::model::case::Stage;
use sync_core::Coded;

use crate::convert::{hashes, time};

/// Where syncing stands.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// No connection: offline by choice, no server, or waiting to retry (see `last_error`).
    Offline,
    /// Connecting (TLS, token, the document list, the handshake).
    Connecting,
    /// Connected; `synced` of `total` documents hold exactly what the server holds.
    Syncing { synced: u64, total: u64 },
    /// Connected and every document holds exactly what the server holds.
    UpToDate,
    /// The server revoked this device; its data is wiped and it no longer syncs.
    Revoked,
}

/// The sync status a tablet's UI shows.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Where syncing stands.
    pub state: SyncState,
    /// The status in Polish words, as a UI shows it (`Wszystko zsynchronizowane`...).
    pub label_pl: String,
    /// Changes made here that the server has not acknowledged yet (safe on the device).
    pub pending_changes: u64,
    /// When the tablet was last up to date with the server.
    pub last_sync: Option<SystemTime>,
    /// The last connection or sync error in words; cleared once up to date again.
    pub last_error: Option<String>,
}

impl From<client_sdk::SyncStatus> for SyncStatus {
    fn from(status: client_sdk::SyncStatus) -> Self {
        let state = match status.state {
            client_sdk::SyncState::Offline => SyncState::Offline,
            client_sdk::SyncState::Connecting => SyncState::Connecting,
            client_sdk::SyncState::Syncing { synced, total } => SyncState::Syncing {
                synced: synced as u64,
                total: total as u64,
            },
            client_sdk::SyncState::UpToDate => SyncState::UpToDate,
            client_sdk::SyncState::Revoked => SyncState::Revoked,
        };
        SyncStatus {
            state,
            label_pl: status.to_string(),
            pending_changes: status.pending_changes as u64,
            last_sync: status.last_sync.map(time),
            last_error: status.last_error,
        }
    }
}

/// What happens to a tablet.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum TabletEvent {
    /// Connected to the server.
    Connected,
    /// Disconnected, with the reason in words.
    Disconnected { detail: String },
    /// The server refused this device or its changes: the stable reason code and the Polish
    /// text the catalogue has for it (e.g. `rejection.read-only`).
    Refused {
        reason_code: String,
        message_pl: String,
        detail: String,
    },
    /// Something arrived from the server and was processed.
    Synced,
    /// A document changed and the change is stored on this device.
    DocumentStored { document: String },
    /// The server does not have (or will not share) a document.
    Unavailable { document: String },
    /// A document was removed from this device: its user may no longer hold it.
    Removed { document: String },
    /// The server revoked this device: the tablet has wiped its store and stopped. The app
    /// must drop everything it shows of the data and return to enrolment.
    Revoked,
}

impl TabletEvent {
    /// The foreign side's view of a client event; `None` for presence traffic (see
    /// `DocumentPresence`).
    pub(crate) fn from_client(event: client_sdk::ClientEvent) -> Option<Self> {
        use client_sdk::ClientEvent as E;
        Some(match event {
            E::Connected => TabletEvent::Connected,
            E::Disconnected(reason) => match sync_core::catalogue::find_code(&reason) {
                Some(code) => TabletEvent::Refused {
                    reason_code: code.to_owned(),
                    message_pl: sync_core::catalogue::message_pl(code, &[]),
                    detail: reason,
                },
                None => TabletEvent::Disconnected { detail: reason },
            },
            E::Synced => TabletEvent::Synced,
            E::DocumentStored(d) => TabletEvent::DocumentStored {
                document: d.to_string(),
            },
            E::Unavailable(d) => TabletEvent::Unavailable {
                document: d.to_string(),
            },
            E::Removed(d) => TabletEvent::Removed {
                document: d.to_string(),
            },
            E::Revoked => TabletEvent::Revoked,
            E::Ephemeral { .. } => return None,
        })
    }
}

/// The kind of a document, by the wire name the model stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum DocumentKind {
    /// *Sprawa* — a case.
    Case,
    /// A PZK document.
    Pzk,
    /// *Zgłoszenie* — a partner's referral (once the model has it).
    Referral,
    /// A kind this build of the bindings does not know.
    Unknown,
}

impl From<sync_core::model::DocumentKind> for DocumentKind {
    // By wire name, so that a kind the model gains later reads as `Unknown` until the
    // bindings name it, instead of breaking the build.
    fn from(kind: sync_core::model::DocumentKind) -> Self {
        match kind.as_str() {
            "case" => DocumentKind::Case,
            "pzk" => DocumentKind::Pzk,
            "referral" => DocumentKind::Referral,
            _ => DocumentKind::Unknown,
        }
    }
}

/// A document held on this device.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LocalDocument {
    /// Its id.
    pub id: String,
    /// Its kind, once its content is here.
    pub kind: Option<DocumentKind>,
    /// Changes made here that the server has not acknowledged yet.
    pub pending_changes: u64,
    /// Whether the server has stored some version of it.
    pub on_server: bool,
    /// Whether this user may only read it.
    pub read_only: bool,
}

impl From<client_sdk::LocalDocument> for LocalDocument {
    fn from(d: client_sdk::LocalDocument) -> Self {
        LocalDocument {
            id: d.id.to_string(),
            kind: d.kind.map(DocumentKind::from),
            pending_changes: d.pending_changes as u64,
            on_server: d.on_server,
            read_only: d.read_only,
        }
    }
}

/// One of the values a conflicted field holds.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConflictValue {
    /// The value as stored (`achieved`, `in_progress`...): pass it to `resolve`.
    pub value: String,
    /// Whether every device shows this value until the conflict is resolved.
    pub shown: bool,
    /// Who set it.
    pub by: Option<String>,
    /// The institution they acted for.
    pub institution: Option<String>,
    /// When it was set.
    pub at: Option<SystemTime>,
    /// The device that set it (its Automerge actor, hex).
    pub device: String,
    /// Whether this device set it.
    pub this_device: bool,
}

/// A status field holding concurrent values, for the user to resolve.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldConflict {
    /// The field's path, e.g. `goals/g1/status`.
    pub path: String,
    /// Every concurrent value, the shown one first.
    pub values: Vec<ConflictValue>,
}

impl From<client_sdk::FieldConflict> for FieldConflict {
    fn from(c: client_sdk::FieldConflict) -> Self {
        FieldConflict {
            path: c.path,
            values: c
                .values
                .into_iter()
                .map(|v| ConflictValue {
                    value: v.value,
                    shown: v.shown,
                    by: v.by,
                    institution: v.institution,
                    at: v.at.map(time),
                    device: v.device,
                    this_device: v.this_device,
                })
                .collect(),
        }
    }
}

/// One change of a document's history.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// The change's hash (hex).
    pub hash: String,
    /// The device that made it (its Automerge actor, hex).
    pub device: String,
    /// The login of who made it.
    pub author: Option<String>,
    /// The institution they acted for.
    pub institution: Option<String>,
    /// When it was made.
    pub at: SystemTime,
    /// The time in Polish local time for display, e.g. `2021-03-01 10:00 CET`.
    pub local_time: String,
    /// What changed, e.g. `stage: delivery -> evaluation`.
    pub summary: String,
}

impl From<sync_core::model::history::HistoryEntry> for HistoryEntry {
    fn from(e: sync_core::model::history::HistoryEntry) -> Self {
        HistoryEntry {
            hash: hashes(&[e.hash]).concat(),
            device: e.actor.to_hex_string(),
            author: e.author,
            institution: e.institution,
            at: time(e.at),
            local_time: e.local_time,
            summary: e.summary,
        }
    }
}

/// A move of the stage bar: open, or blocked with the reason.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct StageMove {
    /// The stage the case may move to.
    pub to: Stage,
    /// Whether the move is open now.
    pub open: bool,
    /// Why not, as a stable code (none when open).
    pub reason_code: Option<String>,
    /// Why not, in Polish (none when open).
    pub message_pl: Option<String>,
}

impl From<sync_core::model::workflow::StageMove> for StageMove {
    fn from((to, check): sync_core::model::workflow::StageMove) -> Self {
        match check {
            Ok(()) => StageMove {
                to,
                open: true,
                reason_code: None,
                message_pl: None,
            },
            Err(e) => StageMove {
                to,
                open: false,
                reason_code: Some(e.code().to_owned()),
                message_pl: Some(e.message_pl()),
            },
        }
    }
}

/// A text session's field as the user sees it, with the cursor (in Unicode code points).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TextView {
    /// The text, with keystrokes not yet committed.
    pub text: String,
    /// The cursor.
    pub cursor: u64,
}

/// A peer present in the document.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PresencePeer {
    /// The peer's id (its device).
    pub peer_id: String,
    /// The user's login, name and institution, when the peer says who it is.
    pub login: Option<String>,
    pub name: Option<String>,
    pub institution: Option<String>,
    /// The section it is in (`minutes`, `diagnosis`...), when it says.
    pub section: Option<String>,
    /// Whether it is typing there.
    pub editing: bool,
    /// Its whole state, channel by channel, as JSON.
    pub state_json: String,
}
