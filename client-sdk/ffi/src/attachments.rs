//! A tablet's attachments (*załączniki*): attaching a file to a case offline, the case's
//! entries with where their bytes are, downloading one on demand with progress, reading it,
//! evicting what is unused, and the attachment events as a listener (Kotlin:
//! `tablet.attachmentEventFlow()`). See `client_sdk::attachments` for the queue behind them.

use std::io::Read;
use std::sync::Arc;
use std::time::SystemTime;

use sync_core::model::case::{AttachmentKind, AttachmentLink};
use tokio::sync::broadcast;

use crate::convert::{document_id, time, utc};
use crate::error::KooperacjaError;
use crate::runtime::{run, runtime};
use crate::streams::Subscription;
use crate::tablet::Tablet;

/// What an attachment is (*rodzaj załącznika*).
#[uniffi::remote(Enum)]
pub enum AttachmentKind {
    SignedContract,
    Consent,
    Photo,
    ExternalDocument,
}

/// The signature or consent entry an attachment documents.
#[uniffi::remote(Enum)]
pub enum AttachmentLink {
    /// The contract signature at this index.
    Signature(u64),
    /// The consent event with this id.
    Consent(String),
}

/// Where an attachment's bytes are, as a case screen shows it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AttachmentPlace {
    /// On the device only, waiting for upload.
    WaitingForUpload,
    /// On the device only: the server refused it for good, with its reason.
    Refused { reason: String },
    /// On the device and on the server: opens offline.
    Cached,
    /// On the server only: `downloadAttachment` fetches it.
    OnServer,
}

impl From<client_sdk::AttachmentPlace> for AttachmentPlace {
    fn from(place: client_sdk::AttachmentPlace) -> Self {
        match place {
            client_sdk::AttachmentPlace::WaitingForUpload => Self::WaitingForUpload,
            client_sdk::AttachmentPlace::Refused(reason) => Self::Refused { reason },
            client_sdk::AttachmentPlace::Cached => Self::Cached,
            client_sdk::AttachmentPlace::OnServer => Self::OnServer,
        }
    }
}

/// A case's attachment entry, with where its bytes are.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentEntry {
    /// The entry's id in the case.
    pub id: String,
    /// SHA-256 of the bytes (hex): what `downloadAttachment` and `readAttachment` take.
    pub sha256: String,
    /// The MIME type, told by the file's first bytes.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// What it is.
    pub kind: AttachmentKind,
    /// The signature or consent it documents, if any.
    pub link: Option<AttachmentLink>,
    /// The caption (*opis*), may be empty.
    pub caption: String,
    /// The login of who attached it.
    pub author: String,
    /// The institution they acted for.
    pub institution: String,
    /// When.
    pub at: SystemTime,
    /// Where its bytes are.
    pub place: AttachmentPlace,
}

impl From<client_sdk::AttachmentState> for AttachmentEntry {
    fn from(state: client_sdk::AttachmentState) -> Self {
        let view = state.view;
        Self {
            id: state.id,
            sha256: view.attachment.sha256,
            mime: view.attachment.mime,
            size: view.attachment.size,
            kind: view.attachment.kind,
            link: view.attachment.link,
            caption: view.attachment.caption,
            author: view.author,
            institution: view.institution,
            at: time(view.at),
            place: state.place.into(),
        }
    }
}

/// A file just attached: its entry's id and what was stored.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Attached {
    /// The entry's id in the case.
    pub id: String,
    /// SHA-256 of the stored bytes (after a photo's metadata was removed), hex.
    pub sha256: String,
    /// The stored size in bytes.
    pub size: u64,
    /// The MIME type told by the first bytes.
    pub mime: String,
}

impl From<client_sdk::Attached> for Attached {
    fn from(a: client_sdk::Attached) -> Self {
        Self {
            id: a.id,
            sha256: a.sha256,
            size: a.size,
            mime: a.mime,
        }
    }
}

/// A file removed from the device by `evictAttachments`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct EvictedAttachment {
    /// The case's id.
    pub case_id: String,
    /// The file's SHA-256 (hex).
    pub sha256: String,
}

/// What happens to attachments, for a UI's upload and download state. `case_id` is the case's
/// id, `sha256` the file's hash (hex).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AttachmentEvent {
    /// A file was stored on the device (encrypted) and waits for upload.
    Stored {
        case_id: String,
        sha256: String,
        size: u64,
    },
    /// An upload goes on: the server has or is being sent `sent` of `size` bytes.
    Uploading {
        case_id: String,
        sha256: String,
        sent: u64,
        size: u64,
    },
    /// The server accepted the whole file and verified its hash.
    Uploaded { case_id: String, sha256: String },
    /// An upload failed (failure `code`) and is tried again after `after_ms` (attempt
    /// `attempt`).
    UploadRetry {
        case_id: String,
        sha256: String,
        attempt: u32,
        after_ms: u64,
        code: String,
    },
    /// The server refused the file for good; it stays on the device and is not sent again.
    UploadRefused {
        case_id: String,
        sha256: String,
        reason: String,
    },
    /// A download goes on: `received` of `size` bytes are on the device.
    Downloading {
        case_id: String,
        sha256: String,
        received: u64,
        size: u64,
    },
    /// A download finished and its hash matched.
    Downloaded { case_id: String, sha256: String },
    /// A file the server holds was removed from the device, unused for a while.
    Evicted { case_id: String, sha256: String },
}

impl From<client_sdk::AttachmentEvent> for AttachmentEvent {
    fn from(event: client_sdk::AttachmentEvent) -> Self {
        use client_sdk::AttachmentEvent as E;
        match event {
            E::Stored {
                document,
                sha256,
                size,
            } => Self::Stored {
                case_id: document.to_string(),
                sha256,
                size,
            },
            E::Uploading {
                document,
                sha256,
                sent,
                size,
            } => Self::Uploading {
                case_id: document.to_string(),
                sha256,
                sent,
                size,
            },
            E::Uploaded { document, sha256 } => Self::Uploaded {
                case_id: document.to_string(),
                sha256,
            },
            E::UploadRetry {
                document,
                sha256,
                attempt,
                after,
                code,
            } => Self::UploadRetry {
                case_id: document.to_string(),
                sha256,
                attempt,
                after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                code: code.to_owned(),
            },
            E::UploadRefused {
                document,
                sha256,
                reason,
            } => Self::UploadRefused {
                case_id: document.to_string(),
                sha256,
                reason,
            },
            E::Downloading {
                document,
                sha256,
                received,
                size,
            } => Self::Downloading {
                case_id: document.to_string(),
                sha256,
                received,
                size,
            },
            E::Downloaded { document, sha256 } => Self::Downloaded {
                case_id: document.to_string(),
                sha256,
            },
            E::Evicted { document, sha256 } => Self::Evicted {
                case_id: document.to_string(),
                sha256,
            },
        }
    }
}

/// Receives the attachment events as they happen.
#[uniffi::export(foreign)]
pub trait AttachmentEventListener: Send + Sync {
    /// An event.
    fn on_event(&self, event: AttachmentEvent);
    /// The tablet stopped: no more events come.
    fn on_closed(&self);
}

/// Delivers every attachment event from now on.
fn deliver(
    mut source: broadcast::Receiver<client_sdk::AttachmentEvent>,
    listener: Arc<dyn AttachmentEventListener>,
) -> Result<Arc<Subscription>, KooperacjaError> {
    let task = runtime()?.spawn(async move {
        loop {
            match source.recv().await {
                Ok(event) => listener.on_event(event.into()),
                // A listener that fell behind misses the oldest events and goes on.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        listener.on_closed();
    });
    Ok(Subscription::of(task.abort_handle()))
}

#[uniffi::export]
impl Tablet {
    // ----- attachments -----

    /// Attaches the file at `path` to a case, offline: its type is told by its first bytes
    /// (PDF, JPEG, PNG, HEIC/HEIF, WebP), a photo loses its EXIF/GPS metadata, the bytes are
    /// stored encrypted on the device and the case gets its entry. Durable on the device on
    /// return; the upload queue sends the bytes when connected. Refused before anything is
    /// kept: a file over the limit, another type, a photo whose metadata cannot be removed.
    pub async fn attach_file(
        &self,
        case_id: String,
        path: String,
        kind: AttachmentKind,
        link: Option<AttachmentLink>,
        caption: String,
    ) -> Result<Attached, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        let attached =
            run(async move { tablet.attach_file(id, path, kind, link, &caption).await }).await?;
        Ok(attached.into())
    }

    /// Attaches a file held in memory (a camera's photo), as `attach_file` does.
    pub async fn attach_bytes(
        &self,
        case_id: String,
        bytes: Vec<u8>,
        kind: AttachmentKind,
        link: Option<AttachmentLink>,
        caption: String,
    ) -> Result<Attached, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        let from = Box::new(std::io::Cursor::new(bytes));
        let attached =
            run(async move { tablet.attach(id, from, kind, link, &caption).await }).await?;
        Ok(attached.into())
    }

    /// The case's attachments, each with where its bytes are.
    pub async fn attachments(
        &self,
        case_id: String,
    ) -> Result<Vec<AttachmentEntry>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        let states = run(async move { tablet.attachments(id).await }).await?;
        Ok(states.into_iter().map(Into::into).collect())
    }

    /// Fetches an attachment from the server unless it is here already (progress as
    /// `AttachmentEvent.Downloading`); continues a cut download. Returns once the bytes are on
    /// the device and match their hash (`AttachmentCorrupt` otherwise, nothing kept).
    pub async fn download_attachment(
        &self,
        case_id: String,
        sha256: String,
    ) -> Result<(), KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        run(async move { tablet.download_attachment(id, &sha256).await }).await
    }

    /// The bytes of an attachment on this device, whole (for a small file; `save_attachment`
    /// streams a large one to a file). `AttachmentNotCached` when they are not here.
    pub async fn read_attachment(
        &self,
        case_id: String,
        sha256: String,
    ) -> Result<Vec<u8>, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        run(async move {
            let mut reader = tablet.open_attachment(id, &sha256).await?;
            tokio::task::spawn_blocking(move || {
                let mut bytes = Vec::new();
                reader.read_to_end(&mut bytes).map(|_| bytes)
            })
            .await
            .map_err(|_| client_sdk::SdkError::Stopped)?
            .map_err(io_error)
        })
        .await
    }

    /// Writes an attachment on this device, decrypted piece by piece, to the file at `path`
    /// (for a viewer app; the app removes it when done). Returns the bytes written.
    pub async fn save_attachment(
        &self,
        case_id: String,
        sha256: String,
        path: String,
    ) -> Result<u64, KooperacjaError> {
        let (tablet, id) = (self.running()?, document_id(&case_id)?);
        run(async move {
            let mut reader = tablet.open_attachment(id, &sha256).await?;
            tokio::task::spawn_blocking(move || {
                let mut file = std::fs::File::create(&path)?;
                std::io::copy(&mut reader, &mut file)
            })
            .await
            .map_err(|_| client_sdk::SdkError::Stopped)?
            .map_err(io_error)
        })
        .await
    }

    /// Removes from the device the attachments the server holds that were not opened nor
    /// stored since `unused_since`; never one still waiting for upload.
    pub async fn evict_attachments(
        &self,
        unused_since: SystemTime,
    ) -> Result<Vec<EvictedAttachment>, KooperacjaError> {
        let tablet = self.running()?;
        let evicted = run(async move { tablet.evict_attachments(utc(unused_since)).await }).await?;
        Ok(evicted
            .into_iter()
            .map(|(document, sha256)| EvictedAttachment {
                case_id: document.to_string(),
                sha256,
            })
            .collect())
    }

    /// Delivers every attachment event from now on to `listener` (Kotlin:
    /// `tablet.attachmentEventFlow()`).
    pub fn watch_attachments(
        &self,
        listener: Arc<dyn AttachmentEventListener>,
    ) -> Result<Arc<Subscription>, KooperacjaError> {
        deliver(self.running()?.attachment_events(), listener)
    }
}

fn io_error(e: std::io::Error) -> client_sdk::SdkError {
    client_sdk::SdkError::Storage(sync_core::StorageError::Io(e.to_string()))
}
