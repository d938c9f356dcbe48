//! A tablet's attachments: attaching a file to a case offline, the case's attachments with
//! where their bytes are, downloading one on demand, opening it, evicting what is unused, and
//! the events of the upload queue and downloads (see `crate::attachments`).

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sync_core::model::case::{self, Attachment, AttachmentKind, AttachmentLink};
use sync_core::model::case::{sniff_mime, SNIFF_BYTES};
use sync_core::DocumentId;
use tokio::sync::broadcast;

use super::{random_id, Tablet};
use crate::attachments::local::{nanos, BlobKey, LocalBlobs, Stored};
use crate::attachments::{
    queue, strip, transfer, Attached, AttachmentEvent, AttachmentPlace, AttachmentState, BlobReader,
};
use crate::error::SdkError;

/// Where a tablet keeps attachments' bytes: `data_dir/attachments`.
pub(super) fn blobs_path(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments")
}

fn key_of(document: DocumentId, sha256: &str) -> Result<BlobKey, SdkError> {
    let mut hash = [0u8; 32];
    if !case::is_sha256_hex(sha256) || hex::decode_to_slice(sha256, &mut hash).is_err() {
        return Err(SdkError::AttachmentUnknown(sha256.to_owned()));
    }
    Ok(BlobKey {
        document,
        sha256: hash,
    })
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, SdkError> + Send + 'static,
) -> Result<R, SdkError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| SdkError::Stopped)?
}

/// Stores what `from` yields: a photo is read whole (up to the limit), stripped of its
/// metadata and stored; anything else is streamed into the store piece by piece.
fn store(
    blobs: &LocalBlobs,
    document: DocumentId,
    mut from: Box<dyn Read + Send>,
    limit: u64,
) -> Result<Stored, SdkError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    from.by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| SdkError::Storage(sync_core::StorageError::Io(e.to_string())))?;
    let mime = sniff_mime(&head).ok_or(SdkError::AttachmentType)?;
    let mut whole = Cursor::new(head).chain(from);
    if !strip::is_photo(mime) {
        return blobs.import(document, &mut whole, limit, Utc::now());
    }
    let mut bytes = Vec::new();
    whole
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SdkError::Storage(sync_core::StorageError::Io(e.to_string())))?;
    if bytes.len() as u64 > limit {
        return Err(SdkError::AttachmentTooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    let clean = strip::strip(mime, bytes)?;
    blobs.import(document, &mut Cursor::new(clean), limit, Utc::now())
}

impl Tablet {
    /// Attaches the file at `path` to a case (see [`Tablet::attach`]).
    pub async fn attach_file(
        &self,
        document: DocumentId,
        path: impl AsRef<Path>,
        kind: AttachmentKind,
        link: Option<AttachmentLink>,
        caption: &str,
    ) -> Result<Attached, SdkError> {
        let path = path.as_ref().to_owned();
        let file = blocking(move || {
            std::fs::File::open(&path).map_err(|e| {
                SdkError::Storage(sync_core::StorageError::Io(format!(
                    "{}: {e}",
                    path.display()
                )))
            })
        })
        .await?;
        self.attach(document, Box::new(file), kind, link, caption)
            .await
    }

    /// Attaches a file to a case, offline: its type is told by its first bytes (PDF, JPEG, PNG,
    /// HEIC/HEIF, WebP), a photo loses its EXIF/GPS metadata, the bytes are stored encrypted on
    /// the device piece by piece, and the case gets its entry (hash, type, size, `kind`,
    /// `link`, `caption`, this tablet's user, now). Durable on the device when this returns;
    /// the upload queue sends the bytes when connected.
    ///
    /// Refused before anything is kept: a file over the limit
    /// ([`SdkError::AttachmentTooLarge`]), another type ([`SdkError::AttachmentType`]), a photo
    /// whose metadata cannot be removed ([`SdkError::PhotoMetadata`]), an entry the model
    /// refuses (a link to no signature...).
    pub async fn attach(
        &self,
        document: DocumentId,
        from: Box<dyn Read + Send>,
        kind: AttachmentKind,
        link: Option<AttachmentLink>,
        caption: &str,
    ) -> Result<Attached, SdkError> {
        let shared = self.attachments.shared.clone();
        let (blobs, limit) = (shared.blobs.clone(), shared.limit);
        let stored = blocking(move || store(&blobs, document, from, limit)).await?;
        let attachment = Attachment {
            sha256: stored.key.hex(),
            mime: stored.meta.mime.clone(),
            size: stored.meta.size,
            kind,
            link,
            caption: caption.to_owned(),
        };
        let id = random_id("z");
        let entry_id = id.clone();
        let written = self
            .edit(document, move |doc, by, at| {
                case::attach_file(doc, &entry_id, &attachment, by, at)
            })
            .await;
        if let Err(e) = written {
            if stored.fresh {
                let (blobs, key) = (shared.blobs.clone(), stored.key);
                let _ = blocking(move || blobs.remove(&key)).await;
            }
            return Err(e);
        }
        shared.emit(AttachmentEvent::Stored {
            document,
            sha256: stored.key.hex(),
            size: stored.meta.size,
        });
        shared.wake.notify_one();
        Ok(Attached {
            id,
            sha256: stored.key.hex(),
            size: stored.meta.size,
            mime: stored.meta.mime,
        })
    }

    /// The case's attachments, each with where its bytes are (on this device, waiting for
    /// upload, or on the server only).
    pub async fn attachments(
        &self,
        document: DocumentId,
    ) -> Result<Vec<AttachmentState>, SdkError> {
        let entries = self
            .read(document, |doc| Ok(case::read_attachments(doc)?))
            .await?;
        let blobs = self.attachments.shared.blobs.clone();
        blocking(move || {
            let mut out = Vec::with_capacity(entries.len());
            for (id, view) in entries {
                let key = key_of(document, &view.attachment.sha256)?;
                let place = match blobs.meta(&key)? {
                    Some(meta) if blobs.has_bytes(&key) => match (meta.uploaded, meta.refused) {
                        (true, _) => AttachmentPlace::Cached,
                        (false, Some(reason)) => AttachmentPlace::Refused(reason),
                        (false, None) => AttachmentPlace::WaitingForUpload,
                    },
                    _ => AttachmentPlace::OnServer,
                };
                out.push(AttachmentState { id, view, place });
            }
            Ok(out)
        })
        .await
    }

    /// Fetches an attachment of the case from the server unless it is here already, with
    /// [`AttachmentEvent::Downloading`] progress; continues an earlier, cut download. Returns
    /// once the bytes are on the device and match their hash
    /// ([`SdkError::AttachmentCorrupt`] otherwise, and nothing is kept).
    pub async fn download_attachment(
        &self,
        document: DocumentId,
        sha256: &str,
    ) -> Result<(), SdkError> {
        let key = key_of(document, sha256)?;
        let blobs = self.attachments.shared.blobs.clone();
        let check = blobs.clone();
        if blocking(move || Ok(check.has_bytes(&key))).await? {
            return Ok(());
        }
        let wanted = sha256.to_owned();
        let entry = self
            .read(document, move |doc| {
                Ok(case::read_attachments(doc)?
                    .into_values()
                    .find(|v| v.attachment.sha256 == wanted))
            })
            .await?
            .ok_or_else(|| SdkError::AttachmentUnknown(sha256.to_owned()))?;
        let server = self.server()?;
        let shared = self.attachments.shared.clone();
        let size = entry.attachment.size;
        let events = shared.events.clone();
        let sha = sha256.to_owned();
        let progress = move |received| {
            let _ = events.send(AttachmentEvent::Downloading {
                document,
                sha256: sha.clone(),
                received,
                size,
            });
        };
        transfer::download(server, &blobs, &key, &entry.attachment.mime, size, progress).await?;
        shared.emit(AttachmentEvent::Downloaded {
            document,
            sha256: sha256.to_owned(),
        });
        Ok(())
    }

    /// Opens an attachment on this device for reading (decrypted one piece at a time; read it
    /// off the async executor). Marks it used, which keeps it from eviction for a while.
    /// [`SdkError::AttachmentNotCached`] when its bytes are not here: download them first.
    pub async fn open_attachment(
        &self,
        document: DocumentId,
        sha256: &str,
    ) -> Result<BlobReader, SdkError> {
        let key = key_of(document, sha256)?;
        let blobs = self.attachments.shared.blobs.clone();
        blocking(move || {
            let reader = blobs.reader(&key)?;
            if let Some(mut meta) = blobs.meta(&key)? {
                meta.used_at = nanos(Utc::now());
                blobs.put_meta(&key, &meta)?;
            }
            Ok(reader)
        })
        .await
    }

    /// Removes from the device the attachments the server holds that were not opened (nor
    /// stored) since `unused_since`; never one still waiting for upload. Returns their hashes.
    /// The tablet runs this itself with [`crate::TabletConfig::evict_attachments_after`].
    pub async fn evict_attachments(
        &self,
        unused_since: DateTime<Utc>,
    ) -> Result<Vec<(DocumentId, String)>, SdkError> {
        let evicted = queue::evict(&self.attachments.shared, unused_since).await?;
        Ok(evicted
            .into_iter()
            .map(|key| (key.document, key.hex()))
            .collect())
    }

    /// What happens to attachments from now on: stored, upload progress, retries, refusals,
    /// download progress, evictions.
    pub fn attachment_events(&self) -> broadcast::Receiver<AttachmentEvent> {
        self.attachments.shared.events.subscribe()
    }
}
