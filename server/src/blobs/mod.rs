//! Attachments' bytes (*załączniki*): blobs kept beside the documents, out of Automerge.
//!
//! A blob is named by its case and the SHA-256 of its bytes ([`BlobId`]); the case's
//! `attachments` entries ([`sync_core::model::case::attach_file`]) name it the same way. Its
//! bytes are kept in pieces of [`PIECE`] bytes, each sealed under the case's own key
//! ([`crate::at_rest`]), so the erasure that destroys the case's key makes every copy of them
//! unreadable; the erasure also deletes them ([`Blobs::erase_document`]). A record per blob
//! ([`Meta`]) says how many bytes arrived, the announced size, the sniffed type and whether the
//! hash was verified.
//!
//! An upload arrives in ranges ([`upload::Writer`]): each range continues where the last
//! stopped (the record's `received`), pieces are written as they fill, so neither side holds
//! the whole file and either may stop anywhere; a range that repeats bytes already received is
//! skipped over, so retries are idempotent. The type is sniffed from the first bytes
//! ([`sniff`]) and the blob accepted only once the hash of everything received matches its
//! name. Blobs no case refers to are collected after a grace period ([`gc`]). Where they live:
//! [`backend`]: on the embedded store a record in sled and the pieces in a file per blob beside
//! the store, `<data dir>/blobs/<document>/<sha256>` ([`files`]; backups carry them, [`carry`]);
//! on PostgreSQL tables of their own.

pub mod backend;
pub mod carry;
pub mod files;
pub mod gc;
pub mod id;
pub mod sniff;
pub mod upload;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chacha20poly1305::XChaCha20Poly1305;
use serde::{Deserialize, Serialize};

pub use backend::Backend;
pub use id::{BlobId, META_TREE};

use crate::at_rest::seal;
use crate::at_rest::SealedStore;
use crate::disk::DiskGuard;
use crate::error::ServerError;

/// Plaintext bytes per stored piece.
pub const PIECE: usize = 256 * 1024;
/// The default size limit of one attachment (25 MiB; `serve --max-attachment-mb`).
pub const DEFAULT_LIMIT: u64 = 25 * 1024 * 1024;
/// The default grace period before a blob no case refers to is collected (24 h).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// One blob's record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The announced size.
    pub size: u64,
    /// Bytes received so far, from the start.
    pub received: u64,
    /// The sniffed MIME type, once the first bytes arrived.
    pub mime: Option<String>,
    /// Whether every byte arrived and the hash was verified.
    pub complete: bool,
    /// When the upload started (Unix seconds).
    pub started: i64,
    /// Who started it.
    pub by: String,
}

impl Meta {
    fn decode(bytes: &[u8]) -> Result<Self, ServerError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ServerError::Corrupt(format!("an attachment's record: {e}")))
    }

    fn encode(&self) -> Result<Vec<u8>, ServerError> {
        serde_json::to_vec(self).map_err(|e| ServerError::Corrupt(e.to_string()))
    }
}

/// The blob store.
#[derive(Clone, Debug)]
pub struct Blobs {
    backend: Backend,
    storage: SealedStore,
    /// The size limit of one attachment.
    pub limit: u64,
    /// How long a blob no case refers to is kept.
    pub grace: Duration,
    uploading: Arc<Mutex<HashSet<BlobId>>>,
    /// The disk reserve of the embedded store (uploads stop below it, like every write).
    disk: Option<Arc<DiskGuard>>,
}

impl Blobs {
    /// The blob store beside `storage`'s documents, under their keys (the files of the embedded
    /// store under `data_dir`, writing only while `disk` has room).
    pub fn open(
        storage: &SealedStore,
        data_dir: &std::path::Path,
        disk: Option<Arc<DiskGuard>>,
        limit: u64,
        grace: Duration,
    ) -> Result<Self, ServerError> {
        Ok(Self {
            backend: Backend::open(storage.inner(), data_dir)?,
            storage: storage.clone(),
            limit,
            grace,
            uploading: Arc::default(),
            disk,
        })
    }

    /// `Ok` while the disk has room for more bytes, else why not.
    fn room(&self) -> Result<(), sync_core::StorageError> {
        self.disk.as_ref().map_or(Ok(()), |disk| disk.check())
    }

    /// Where the blobs are kept.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A blob's record (blocking).
    pub fn meta(&self, id: &BlobId) -> Result<Option<Meta>, ServerError> {
        self.backend
            .meta(id)?
            .map(|bytes| Meta::decode(&bytes))
            .transpose()
    }

    fn put_meta(&self, id: &BlobId, meta: &Meta) -> Result<(), ServerError> {
        self.backend.put_meta(id, meta.encode()?)
    }

    /// The case's key for reading, `None` when it has none (erased, or never stored).
    pub async fn reading_key(
        &self,
        document: sync_core::DocumentId,
    ) -> Result<Option<Arc<XChaCha20Poly1305>>, ServerError> {
        Ok(self.storage.keys().existing(document).await?)
    }

    /// The case's key for writing (made on first use).
    pub async fn writing_key(
        &self,
        document: sync_core::DocumentId,
    ) -> Result<Arc<XChaCha20Poly1305>, ServerError> {
        Ok(self.storage.keys().for_writing(document).await?)
    }

    /// Plaintext piece `index` of a blob (blocking).
    pub fn read_piece(
        &self,
        id: &BlobId,
        key: &XChaCha20Poly1305,
        index: u32,
    ) -> Result<Vec<u8>, ServerError> {
        let sealed = self.backend.piece(id, index)?.ok_or_else(|| {
            ServerError::Corrupt(format!("piece {index} of an attachment is missing"))
        })?;
        Ok(seal::open_piece(
            key,
            id.document,
            &id.sha256,
            index,
            &sealed,
        )?)
    }

    /// Deletes every blob of an erased case (blocking); its key is destroyed by the erasure.
    pub fn erase_document(&self, document: sync_core::DocumentId) -> Result<(), ServerError> {
        self.backend.remove_document(document)
    }

    /// Marks a blob as being uploaded; `None` while another upload of it runs here.
    fn claim(&self, id: BlobId) -> Option<Claim> {
        let mut set = self.uploading.lock().ok()?;
        set.insert(id).then(|| Claim {
            set: self.uploading.clone(),
            id,
        })
    }
}

/// An upload in progress of one blob; released when dropped.
#[derive(Debug)]
pub struct Claim {
    set: Arc<Mutex<HashSet<BlobId>>>,
    id: BlobId,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.id);
        }
    }
}
