//! Encryption at rest and erasure by crypto-shredding (GDPR art. 17 and 32).
//!
//! [`Encrypted`] wraps any [`Storage`]: every chunk is sealed ([`seal`]) under its document's
//! own random key before it reaches the store, and opened after it is loaded. The documents'
//! keys ([`keys`]) are kept in the store wrapped by the master key, which lives outside the
//! store and its backups ([`crate::secrets`]). Whoever holds the data directory, a database
//! dump or a backup but not the master key reads no case; an erasure destroys the document's
//! key, so its chunks, wherever copies of them lie, can never be read again.
//!
//! A store written before encryption at rest upgrades in place: a chunk without the sealed
//! header is read as plaintext, every new chunk and every compacted snapshot is written
//! sealed, and `admin encrypt-at-rest` ([`Encrypted::encrypt_all`]) seals the rest at once.

pub mod keys;
pub mod rewrite;
pub mod seal;

use std::sync::Arc;

use sync_core::storage::{Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

pub use keys::{copy_keys_to_postgres, DocKeys, KeyStore, KEYS_TREE};

use crate::error::ServerError;
use crate::kv::Kv;
use crate::secrets::Key;
use crate::store::DocStore;

/// A store whose chunks are sealed under per-document keys.
#[derive(Clone, Debug)]
pub struct Encrypted<S> {
    inner: S,
    keys: Arc<DocKeys>,
}

/// The server's document store, encrypted at rest.
pub type SealedStore = Encrypted<DocStore>;

/// What [`Encrypted::encrypt_all`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Upgrade {
    /// Documents looked at.
    pub documents: usize,
    /// Plaintext chunks rewritten sealed.
    pub sealed_chunks: usize,
}

impl<S: Storage> Encrypted<S> {
    /// `inner`, with its chunks sealed under the keys of `keys`.
    pub fn new(inner: S, keys: Arc<DocKeys>) -> Self {
        Self { inner, keys }
    }

    /// The store underneath (sealed bytes).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The documents' keys.
    pub fn keys(&self) -> &DocKeys {
        &self.keys
    }

    /// Seals the bytes a write puts (a chunk or a snapshot); an erasure passes as it is.
    async fn seal_op(&self, mut op: WriteOp) -> Result<WriteOp, StorageError> {
        if let WriteOp::Put {
            document,
            key,
            bytes,
        }
        | WriteOp::Compact {
            document,
            key,
            bytes,
            ..
        } = &mut op
        {
            let cipher = self.keys.for_writing(*document).await?;
            *bytes = seal::seal_chunk(&cipher, *document, key, bytes)?;
        }
        Ok(op)
    }

    /// Seals every plaintext chunk left from before encryption at rest (idempotent; a
    /// store already sealed is read and left as it is).
    pub async fn encrypt_all(&self) -> Result<Upgrade, StorageError> {
        let mut done = Upgrade::default();
        for document in self.inner.list().await? {
            done.documents += 1;
            let Some(stored) = self.inner.load(document).await? else {
                continue;
            };
            let mut batch = Vec::new();
            for (key, bytes) in stored.chunks {
                if !seal::is_sealed(&bytes) {
                    batch.push(
                        self.seal_op(WriteOp::Put {
                            document,
                            key,
                            bytes,
                        })
                        .await?,
                    );
                }
            }
            done.sealed_chunks += batch.len();
            if !batch.is_empty() {
                // A put of an existing chunk key replaces its bytes (sled, PostgreSQL).
                self.inner.write(batch).await?;
            }
        }
        Ok(done)
    }
}

impl<S: Storage> Storage for Encrypted<S> {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        let Some(stored) = self.inner.load(document).await? else {
            return Ok(None);
        };
        let mut chunks = Vec::with_capacity(stored.chunks.len());
        let mut cipher = None;
        for (key, bytes) in stored.chunks {
            if !seal::is_sealed(&bytes) {
                // Written before encryption at rest; sealed again by the next compaction.
                chunks.push((key, bytes));
                continue;
            }
            if cipher.is_none() {
                cipher = self.keys.existing(document).await?;
            }
            let Some(cipher) = &cipher else {
                // Its key was destroyed (an erasure whose chunk removal did not finish):
                // nothing of it can be read, so it is gone.
                tracing::warn!(%document, "sealed chunks without a key: treated as erased");
                return Ok(None);
            };
            let plain = seal::open_chunk(cipher, document, &key, &bytes)?;
            chunks.push((key, plain));
        }
        Ok(Some(StoredDocument { chunks }))
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut sealed = Vec::with_capacity(batch.len());
        let mut erased = Vec::new();
        for op in batch {
            if let WriteOp::Erase { document } = &op {
                erased.push(*document);
            }
            sealed.push(self.seal_op(op).await?);
        }
        // The keys go first: from then on the chunks are unreadable, even if their removal
        // below fails. On sled the removal is made durable with the batch.
        self.keys.destroy(erased).await?;
        self.inner.write(sealed).await
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.inner.list().await
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.write(vec![WriteOp::Erase { document }]).await
    }
}

impl Encrypted<DocStore> {
    /// The server's store, its chunks sealed under keys wrapped by `master`.
    pub fn open(store: DocStore, master: &Key) -> Result<Self, ServerError> {
        let keys = match &store {
            DocStore::Sled(s) => KeyStore::Sled {
                keys: s.db().open_tree(KEYS_TREE)?,
                pending: s.db().open_tree(keys::PENDING_TREE)?,
            },
            DocStore::Pg(p) => KeyStore::Pg(p.pg().clone()),
        };
        let keys = DocKeys::new(keys, master);
        keys.check_master()?;
        Ok(Self::new(store, Arc::new(keys)))
    }

    /// The key-value trees beside the documents.
    pub fn kv(&self) -> Kv {
        self.inner.kv()
    }

    /// Loads and opens a document from a thread that may block.
    pub fn load_now(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        futures::executor::block_on(self.load(document))
    }

    /// Every stored document, from a thread that may block.
    pub fn list_now(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.inner.list_now()
    }

    /// Makes every write so far durable.
    pub fn make_durable(&self) -> Result<(), StorageError> {
        self.inner.make_durable()
    }

    /// Whether the store answers (readiness).
    pub fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }

    /// `Ok` when ready; else why not (see [`DocStore::readiness`]).
    pub fn readiness(&self) -> Result<(), String> {
        self.inner.readiness()
    }

    /// `admin encrypt-at-rest`: seals what is left in plaintext, then drops the plaintext's
    /// leftovers (PostgreSQL rewrites the chunks' table; sled is rewritten once closed).
    pub fn encrypt_all_now(&self) -> Result<Upgrade, ServerError> {
        let done = futures::executor::block_on(self.encrypt_all())?;
        match &self.inner {
            DocStore::Pg(p) => p.pg().run(|c| c.batch_execute("VACUUM (FULL) chunks"))?,
            // Rewritten when the command closes the store (`rewrite::rewrite_if_pending`).
            DocStore::Sled(_) => self.keys.store().mark_rewrite()?,
        }
        self.make_durable()?;
        Ok(done)
    }
}
