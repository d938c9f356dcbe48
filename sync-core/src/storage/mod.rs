//! How documents are kept: a fallible, async storage trait, its keys, and two implementations
//! (in memory for tests, sled on disk for the server and the tablets).
//!
//! A document is stored as chunks: at most a few compacted **snapshots** (`Automerge::save`) and
//! **incremental** chunks (`save_after`) appended since. A chunk's key is the SHA-256 of its bytes
//! (incremental) or of the heads it holds (snapshot), as automerge-repo does, so appends from
//! several writers never clash, and compaction deletes exactly the chunks its snapshot replaced:
//! a chunk written meanwhile by another node survives.
//!
//! The engine never calls a store: it emits [`StorageRequest`]s that the host carries out (with
//! [`execute`] or its own batching) and answers with a [`StorageResponse`].

mod memory;
#[cfg(feature = "sled-store")]
mod sled_store;

use std::fmt;
use std::future::Future;

use automerge::ChangeHash;
use sha2::{Digest, Sha256};

pub use crate::error::StorageError;
use crate::ids::DocumentId;
pub use memory::MemoryStorage;
#[cfg(feature = "sled-store")]
pub use sled_store::{SledStorage, CHUNKS_TREE};

/// Whether a chunk is a compacted snapshot or an incremental append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKind {
    /// `Automerge::save()` of the whole document at some heads.
    Snapshot,
    /// Changes appended after a snapshot.
    Incremental,
}

/// The key of one stored chunk of a document.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey {
    /// Snapshot or incremental.
    pub kind: ChunkKind,
    /// SHA-256 of the chunk's bytes (incremental) or of its heads (snapshot).
    pub hash: [u8; 32],
}

impl ChunkKey {
    /// The key of an incremental chunk: the hash of its bytes.
    pub fn incremental(bytes: &[u8]) -> Self {
        Self {
            kind: ChunkKind::Incremental,
            hash: Sha256::digest(bytes).into(),
        }
    }

    /// The key of a snapshot: the hash of the heads it holds.
    pub fn snapshot(heads: &[ChangeHash]) -> Self {
        let mut hasher = Sha256::new();
        for h in heads {
            hasher.update(h.0);
        }
        Self {
            kind: ChunkKind::Snapshot,
            hash: hasher.finalize().into(),
        }
    }

    /// 33 bytes: kind then hash (used by stores as the key suffix after the document id).
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = match self.kind {
            ChunkKind::Snapshot => 0,
            ChunkKind::Incremental => 1,
        };
        out[1..].copy_from_slice(&self.hash);
        out
    }

    /// Parses [`ChunkKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StorageError> {
        let kind = match bytes.first() {
            Some(0) => ChunkKind::Snapshot,
            Some(1) => ChunkKind::Incremental,
            _ => return Err(StorageError::Corrupt("unknown chunk kind".into())),
        };
        let hash: [u8; 32] = bytes
            .get(1..33)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| StorageError::Corrupt("chunk key is not 33 bytes".into()))?;
        Ok(Self { kind, hash })
    }
}

impl fmt::Debug for ChunkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}:{}", self.kind, hex::encode(&self.hash[..6]))
    }
}

/// Everything stored for one document: its chunks, snapshots first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDocument {
    /// The chunks, in an order [`StoredDocument::concatenated`] can load.
    pub chunks: Vec<(ChunkKey, Vec<u8>)>,
}

impl StoredDocument {
    /// All chunks, snapshots first, as one buffer that `Automerge::load` accepts.
    pub fn concatenated(&self) -> Vec<u8> {
        let mut chunks: Vec<&(ChunkKey, Vec<u8>)> = self.chunks.iter().collect();
        chunks.sort_by_key(|(k, _)| k.kind);
        let mut out = Vec::with_capacity(chunks.iter().map(|(_, b)| b.len()).sum());
        for (_, bytes) in chunks {
            out.extend_from_slice(bytes);
        }
        out
    }

    /// Total stored bytes.
    pub fn size(&self) -> usize {
        self.chunks.iter().map(|(_, b)| b.len()).sum()
    }
}

/// One write in a batch. A batch is durable as a whole when [`Storage::write`] returns `Ok`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOp {
    /// Adds a chunk (idempotent: the key is content-addressed).
    Put {
        /// The document.
        document: DocumentId,
        /// The chunk's key.
        key: ChunkKey,
        /// The chunk.
        bytes: Vec<u8>,
    },
    /// Removes every chunk of a document (erasure), in order with the writes before it.
    Erase {
        /// The document.
        document: DocumentId,
    },
    /// Writes a snapshot and removes exactly the chunks it replaces, atomically.
    Compact {
        /// The document.
        document: DocumentId,
        /// The snapshot's key.
        key: ChunkKey,
        /// `Automerge::save()` bytes.
        bytes: Vec<u8>,
        /// The chunks whose content the snapshot holds.
        replaces: Vec<ChunkKey>,
    },
}

/// A store for documents. Every call can fail; a networked store (PostgreSQL) fits behind it
/// as well as an embedded one. `write` returns only when the batch is durable (fsync or a
/// committed transaction): the engine's acknowledgements rest on it.
pub trait Storage: Send + Sync + 'static {
    /// Loads every chunk of a document; `None` when nothing is stored for it.
    fn load(
        &self,
        document: DocumentId,
    ) -> impl Future<Output = Result<Option<StoredDocument>, StorageError>> + Send;

    /// Writes a batch durably. Hosts gather many documents' writes into one batch (group commit).
    fn write(&self, batch: Vec<WriteOp>) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The ids of every stored document.
    fn list(&self) -> impl Future<Output = Result<Vec<DocumentId>, StorageError>> + Send;

    /// Removes a document and all its history (erasure). Durable on `Ok`.
    fn remove(&self, document: DocumentId)
        -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// A storage task the engine asks its host to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageRequest {
    /// Load a document.
    Load {
        /// Which.
        document: DocumentId,
    },
    /// Write durably.
    Write(WriteOp),
}

/// The answer to a [`StorageRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageResponse {
    /// What `Load` found.
    Loaded(Option<StoredDocument>),
    /// `Write` is durable.
    Written,
}

/// Carries out one request against a store (hosts that batch writes do it themselves).
pub async fn execute<S: Storage>(
    storage: &S,
    request: StorageRequest,
) -> Result<StorageResponse, StorageError> {
    match request {
        StorageRequest::Load { document } => {
            storage.load(document).await.map(StorageResponse::Loaded)
        }
        StorageRequest::Write(op) => storage
            .write(vec![op])
            .await
            .map(|()| StorageResponse::Written),
    }
}

#[cfg(test)]
mod tests;
