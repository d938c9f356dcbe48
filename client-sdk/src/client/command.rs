//! The messages the client's thread receives: the app's calls (through [`super::SyncClient`]),
//! text sessions' keystrokes, and what the connection tasks report. Every one is a [`Cmd`] on
//! one channel, so the thread handles them in the order they happened.

use automerge::{ActorId, Automerge, ChangeHash};
use sync_core::DocumentId;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::events::LocalDocument;
use crate::error::SdkError;
use crate::http::Listed;

/// Answers a call once its effect is durable (or has failed).
pub(crate) type Ack = oneshot::Sender<Result<(), SdkError>>;
/// An edit run on the client's thread; an error leaves the document unchanged.
pub(crate) type EditFn = Box<dyn FnOnce(&mut Automerge) -> Result<(), SdkError> + Send>;
/// A read run on the client's thread (`None` when the document is not on this device).
pub(super) type ReadFn = Box<dyn FnOnce(Option<&Automerge>) + Send>;

/// Where a text session writes: the map keys from the root to an Automerge Text, and the label
/// used in commit messages (`diagnosis/housing`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextTarget {
    pub(crate) path: Vec<String>,
    pub(crate) label: String,
}

/// One keystroke-level edit of a text session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Inserts at the cursor and moves the cursor past the insertion.
    Type(String),
    /// Deletes up to this many characters before the cursor.
    Backspace(usize),
    /// Deletes `del` characters at `pos` and inserts `insert` there; the cursor follows.
    Splice {
        pos: usize,
        del: usize,
        insert: String,
    },
    /// Moves the cursor.
    MoveCursor(usize),
}

/// A text session's requests.
#[derive(Debug)]
pub(crate) enum SessionCmd {
    Open {
        document: DocumentId,
        target: TextTarget,
        ack: Ack,
    },
    Edit(Edit),
    Read(oneshot::Sender<Option<(String, usize)>>),
    Commit(Ack),
    Switch {
        target: TextTarget,
        ack: Ack,
    },
    Close(Option<Ack>),
}

/// How a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// It never opened.
    Failed(SdkError),
    /// It closed, with the WebSocket close code when there was one.
    Closed { code: Option<u16>, reason: String },
}

/// Everything the client's thread is asked to do. Connection tasks name their connection by
/// its number, so that news of a connection already replaced is ignored.
pub(super) enum Cmd {
    Create(DocumentId, Box<Automerge>, Ack),
    Change(DocumentId, EditFn, Ack),
    Find(DocumentId),
    Read(DocumentId, ReadFn),
    ServerHeads(DocumentId, oneshot::Sender<Option<Vec<ChangeHash>>>),
    Documents(oneshot::Sender<Vec<LocalDocument>>),
    Broadcast(DocumentId, Vec<u8>),
    SetOnline(bool),
    Session(u64, SessionCmd),
    Attempting(u64),
    Listed(u64, Result<Vec<Listed>, SdkError>),
    /// Fetch the server's document list again now (tablets, while connected).
    Refresh,
    /// The list fetched again while connection `u64` was open.
    Refreshed(u64, Result<Vec<Listed>, SdkError>),
    Opened(u64, mpsc::UnboundedSender<WsMessage>),
    Frame(u64, Vec<u8>),
    Closed(u64, Ended),
    Shutdown(oneshot::Sender<()>),
    /// The handle was dropped: stop at once, as if the app were killed.
    Stop,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

/// What the client's thread reports once its store is open and its documents are loaded.
#[derive(Debug)]
pub(crate) struct Ready {
    /// This device's Automerge actor, when the store keeps one.
    pub(crate) actor: Option<ActorId>,
}
