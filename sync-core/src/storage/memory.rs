//! An in-memory store for tests, with fault injection.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{ChunkKey, Storage, StorageError, StoredDocument, WriteOp};
use crate::ids::DocumentId;

type Chunks = BTreeMap<DocumentId, BTreeMap<ChunkKey, Vec<u8>>>;

/// A store in memory; clones share the same data. `fail_writes(true)` makes every write fail,
/// as a full disk would.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    chunks: Arc<Mutex<Chunks>>,
    failing: Arc<AtomicBool>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes writes fail (or succeed again).
    pub fn fail_writes(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn lock(&self) -> Result<MutexGuard<'_, Chunks>, StorageError> {
        self.chunks
            .lock()
            .map_err(|_| StorageError::Io("memory store poisoned".into()))
    }

    /// Synchronous load, for tests and sync hosts.
    pub fn load_now(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        Ok(self.lock()?.get(&document).map(|chunks| StoredDocument {
            chunks: chunks.iter().map(|(k, v)| (*k, v.clone())).collect(),
        }))
    }

    /// Synchronous write, for tests and sync hosts.
    pub fn write_now(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StorageError::Io("injected failure: no space left".into()));
        }
        let mut all = self.lock()?;
        for op in batch {
            match op {
                WriteOp::Put {
                    document,
                    key,
                    bytes,
                } => {
                    all.entry(document).or_default().insert(key, bytes);
                }
                WriteOp::Erase { document } => {
                    all.remove(&document);
                }
                WriteOp::Compact {
                    document,
                    key,
                    bytes,
                    replaces,
                } => {
                    let chunks = all.entry(document).or_default();
                    chunks.insert(key, bytes);
                    for old in replaces.iter().filter(|old| **old != key) {
                        chunks.remove(old);
                    }
                }
            }
        }
        Ok(())
    }
}

impl Storage for MemoryStorage {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        self.load_now(document)
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        self.write_now(batch)
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        Ok(self.lock()?.keys().copied().collect())
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.lock()?.remove(&document);
        Ok(())
    }
}
