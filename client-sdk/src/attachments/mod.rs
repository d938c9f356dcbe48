//! Attachments on the tablet (*załączniki*): a signed contract's photo, a consent form, a court's
//! letter, attached to a case offline and sent when a connection exists.
//!
//! - [`local`]: the bytes on the device, `data_dir/attachments/<case>/<sha256>.blob`, sealed
//!   under the tablet's key in 256 KiB pieces, each written and read on its own, so a large
//!   file is never held whole in memory.
//! - [`strip`]: photos lose EXIF, GPS and other metadata before they are stored.
//! - [`queue`]: the background upload queue: it sends every blob the server lacks while the
//!   tablet is connected, resumes where the server stopped (it asks the server's status first),
//!   retries with backoff and jitter, and reports progress as [`AttachmentEvent`]s. It also
//!   evicts, once an hour, blobs not used for a while, never one still waiting for upload.
//! - [`transfer`]: the HTTP exchanges, streamed both ways.
//!
//! Only the case's entries (hash, type, size, kind, caption) travel with sync; a colleague's
//! tablet downloads the bytes when someone opens them ([`crate::Tablet::download_attachment`]).

pub(crate) mod local;
pub(crate) mod queue;
pub(crate) mod strip;
#[cfg(test)]
mod tests;
pub(crate) mod transfer;

use std::sync::Arc;
use std::time::Duration;

use sync_core::DocumentId;
use tokio::sync::{broadcast, Notify};

pub use local::BlobReader;
use local::LocalBlobs;

/// What happens to attachments, for a UI's upload and download state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentEvent {
    /// A file was stored on the device (encrypted) and waits for upload.
    Stored {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
        /// Its size in bytes.
        size: u64,
    },
    /// An upload goes on: the server has or is being sent `sent` of `size` bytes.
    Uploading {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
        /// Bytes the server has or is being sent.
        sent: u64,
        /// The file's size.
        size: u64,
    },
    /// The server accepted the whole file and verified its hash.
    Uploaded {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
    },
    /// An upload failed and is tried again after `after` (attempt `attempt`).
    UploadRetry {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
        /// How many attempts failed in a row.
        attempt: u32,
        /// The wait before the next one.
        after: Duration,
        /// The failure's stable code ([`sync_core::Coded`]).
        code: &'static str,
    },
    /// The server refused the file for good (its limit, its types, read-only access); it stays
    /// on the device and is not sent again.
    UploadRefused {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
        /// The server's reason.
        reason: String,
    },
    /// A download goes on: `received` of `size` bytes are on the device.
    Downloading {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
        /// Bytes on the device.
        received: u64,
        /// The file's size.
        size: u64,
    },
    /// A download finished and its hash matched.
    Downloaded {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
    },
    /// A file the server holds was removed from the device, unused for a while.
    Evicted {
        /// The case.
        document: DocumentId,
        /// The file's SHA-256 (hex).
        sha256: String,
    },
}

/// Where an attachment's bytes are, as a case screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentPlace {
    /// On the device only, waiting for upload.
    WaitingForUpload,
    /// On the device only: the server refused it, with its reason.
    Refused(String),
    /// On the device and on the server: opens offline.
    Cached,
    /// On the server only: [`crate::Tablet::download_attachment`] fetches it.
    OnServer,
}

/// A case's attachment entry with where its bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentState {
    /// The entry's id in the case.
    pub id: String,
    /// The entry (hash, type, size, kind, link, caption, author, time).
    pub view: sync_core::model::case::AttachmentView,
    /// Where its bytes are.
    pub place: AttachmentPlace,
}

/// A file just attached: its entry's id and what was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The entry's id in the case.
    pub id: String,
    /// SHA-256 of the stored bytes (after a photo's metadata was removed), hex.
    pub sha256: String,
    /// The stored size in bytes.
    pub size: u64,
    /// The sniffed MIME type.
    pub mime: String,
}

/// What the tablet's attachments share: the device's blobs, the events, the queue's wake-up.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) blobs: LocalBlobs,
    pub(crate) events: broadcast::Sender<AttachmentEvent>,
    pub(crate) wake: Notify,
    pub(crate) limit: u64,
}

impl Shared {
    pub(crate) fn emit(&self, event: AttachmentEvent) {
        let _ = self.events.send(event);
    }
}

/// The tablet's attachments: the shared state and the queue's task, stopped when dropped (an
/// app being killed: what was stored stays, an upload cut off resumes at the next start).
#[derive(Debug)]
pub(crate) struct Attachments {
    pub(crate) shared: Arc<Shared>,
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Attachments {
    /// The attachments under `blobs`, with the queue started when there is a server.
    pub(crate) fn start(blobs: LocalBlobs, limit: u64, queue: Option<queue::Queue>) -> Self {
        let shared = Arc::new(Shared {
            blobs,
            events: broadcast::channel(1024).0,
            wake: Notify::new(),
            limit,
        });
        let worker = queue.map(|q| tokio::spawn(q.run(shared.clone())));
        Self { shared, worker }
    }
}

impl Drop for Attachments {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
        }
    }
}
