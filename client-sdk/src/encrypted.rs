//! [`EncryptedStorage`]: any [`Storage`] with every stored chunk encrypted.
//!
//! Chunk bytes are sealed with XChaCha20-Poly1305 before they reach the inner store and opened
//! after they leave it; the associated data is the document id and the chunk key, so a chunk
//! moved to another document or key does not open. Keys stay as they are: a document id is 16
//! random bytes and a chunk key is a SHA-256 hash, neither of which says anything about a person.

use std::sync::Arc;

use sync_core::storage::{ChunkKey, Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

use crate::crypto::{Cipher, TabletKey};

/// A store whose chunk contents are encrypted with the host app's key.
#[derive(Clone, Debug)]
pub struct EncryptedStorage<S> {
    inner: S,
    cipher: Arc<Cipher>,
}

impl<S: Storage> EncryptedStorage<S> {
    /// Wraps `inner`; everything written through the wrapper is encrypted with `key`.
    ///
    /// The wrapper does not check the key: a store opened with another key fails on its first
    /// load with [`StorageError::Corrupt`]. [`crate::TabletStore`] checks the key on open.
    pub fn new(inner: S, key: &TabletKey) -> Self {
        Self {
            inner,
            cipher: Arc::new(Cipher::new(key)),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn aad(document: &DocumentId, key: &ChunkKey) -> [u8; 49] {
        let mut aad = [0u8; 49];
        aad[..16].copy_from_slice(document.as_bytes());
        aad[16..].copy_from_slice(&key.to_bytes());
        aad
    }

    fn seal(
        &self,
        document: &DocumentId,
        key: &ChunkKey,
        bytes: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        self.cipher
            .seal(&Self::aad(document, key), bytes)
            .map_err(|_| StorageError::Io("a chunk is too large to encrypt".into()))
    }
}

impl<S: Storage> Storage for EncryptedStorage<S> {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        let Some(stored) = self.inner.load(document).await? else {
            return Ok(None);
        };
        let mut chunks = Vec::with_capacity(stored.chunks.len());
        for (key, sealed) in stored.chunks {
            let bytes = self
                .cipher
                .open(&Self::aad(&document, &key), &sealed)
                .map_err(|_| {
                    StorageError::Corrupt(format!(
                        "chunk {key:?} of document {document} does not decrypt \
                         (another key, or damaged data)"
                    ))
                })?;
            chunks.push((key, bytes));
        }
        Ok(Some(StoredDocument { chunks }))
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut sealed = Vec::with_capacity(batch.len());
        for op in batch {
            sealed.push(match op {
                WriteOp::Put {
                    document,
                    key,
                    bytes,
                } => WriteOp::Put {
                    bytes: self.seal(&document, &key, &bytes)?,
                    document,
                    key,
                },
                WriteOp::Compact {
                    document,
                    key,
                    bytes,
                    replaces,
                } => WriteOp::Compact {
                    bytes: self.seal(&document, &key, &bytes)?,
                    document,
                    key,
                    replaces,
                },
                // Nothing to seal: it removes.
                erase @ WriteOp::Erase { .. } => erase,
            });
        }
        self.inner.write(sealed).await
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.inner.list().await
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.inner.remove(document).await
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use sync_core::storage::MemoryStorage;

    use super::*;

    fn put(document: DocumentId, bytes: &[u8]) -> WriteOp {
        WriteOp::Put {
            document,
            key: ChunkKey::incremental(bytes),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn chunks_are_stored_encrypted_and_read_back_in_clear() {
        let memory = MemoryStorage::new();
        let key = TabletKey::random();
        let store = EncryptedStorage::new(memory.clone(), &key);
        let document = DocumentId::from_bytes([3; 16]);
        block_on(store.write(vec![put(document, b"Anna Kowalska visited")])).expect("written");

        let raw = block_on(memory.load(document))
            .expect("loads")
            .expect("stored");
        assert!(!raw.chunks[0].1.windows(8).any(|w| w == b"Kowalska"));
        let clear = block_on(store.load(document))
            .expect("loads")
            .expect("stored");
        assert_eq!(clear.chunks[0].1, b"Anna Kowalska visited");
        assert_eq!(block_on(store.list()).expect("lists"), vec![document]);

        let other = EncryptedStorage::new(memory, &TabletKey::random());
        let err = block_on(other.load(document)).expect_err("another key");
        assert!(matches!(err, StorageError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn a_chunk_moved_to_another_document_does_not_open() {
        let memory = MemoryStorage::new();
        let store = EncryptedStorage::new(memory.clone(), &TabletKey::random());
        let (a, b) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        block_on(store.write(vec![put(a, b"note")])).expect("written");
        let raw = block_on(memory.load(a)).expect("loads").expect("stored");
        let (key, sealed) = raw.chunks[0].clone();
        block_on(memory.write(vec![WriteOp::Put {
            document: b,
            key,
            bytes: sealed,
        }]))
        .expect("copied");
        assert!(block_on(store.load(b)).is_err());
    }
}
