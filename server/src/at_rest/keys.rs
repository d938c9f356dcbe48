//! The documents' keys: one random key per document, wrapped by the master key and kept in the
//! store (the sled tree [`KEYS_TREE`], or PostgreSQL's `document_keys` table), made on the
//! document's first write and kept in memory once used.
//!
//! Destroying a key makes its document's chunks unreadable for good, wherever copies of them
//! lie (crypto-shredding). So that the wrapped key is physically gone too, not only marked
//! deleted: on PostgreSQL the keys' small table is rewritten (`VACUUM (FULL)`) after each
//! destruction; on sled the tree is flushed with the erasure's batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chacha20poly1305::XChaCha20Poly1305;
use sync_core::{DocumentId, StorageError};

use super::seal::{aead, unwrap_key, wrap_key};
use crate::error::ServerError;
use crate::pg::Pg;
use crate::secrets::Key;

/// The sled tree of wrapped document keys (keyed by the document id's 16 bytes).
pub const KEYS_TREE: &str = "document_keys";
/// The sled tree that says the store holds stale copies of what was destroyed or sealed, to
/// be dropped by rewriting the store at its next opening ([`super::rewrite`]).
pub const PENDING_TREE: &str = "at_rest_pending";
/// The entry of [`PENDING_TREE`] that asks for the rewrite.
pub const REWRITE: &[u8] = b"rewrite";

/// Where wrapped keys are kept.
#[derive(Clone, Debug)]
pub enum KeyStore {
    /// A sled tree beside the chunks.
    Sled {
        /// [`KEYS_TREE`].
        keys: sled::Tree,
        /// [`PENDING_TREE`].
        pending: sled::Tree,
    },
    /// PostgreSQL's `document_keys` table.
    Pg(Pg),
}

fn storage(e: ServerError) -> StorageError {
    match e {
        ServerError::Storage(s) => s,
        other => StorageError::Io(other.to_string()),
    }
}

fn sled_io(e: sled::Error) -> StorageError {
    StorageError::Io(e.to_string())
}

impl KeyStore {
    /// Asks for the sled store to be rewritten at its next opening (nothing on PostgreSQL).
    pub fn mark_rewrite(&self) -> Result<(), StorageError> {
        if let KeyStore::Sled { pending, .. } = self {
            pending.insert(REWRITE, &[1u8][..]).map_err(sled_io)?;
        }
        Ok(())
    }

    /// Some stored key (the first), to check the master key against.
    fn first(&self) -> Result<Option<(DocumentId, Vec<u8>)>, ServerError> {
        let raw: Option<(Vec<u8>, Vec<u8>)> = match self {
            KeyStore::Sled { keys, .. } => keys.first()?.map(|(k, v)| (k.to_vec(), v.to_vec())),
            KeyStore::Pg(pg) => pg.run(|c| {
                c.query_opt("SELECT document, wrapped FROM document_keys LIMIT 1", &[])?
                    .map(|r| Ok((r.try_get::<_, String>(0)?.into_bytes(), r.try_get(1)?)))
                    .transpose()
            })?,
        };
        let Some((id, wrapped)) = raw else {
            return Ok(None);
        };
        let id = match self {
            KeyStore::Sled { .. } => <[u8; 16]>::try_from(id.as_slice())
                .map(DocumentId::from_bytes)
                .map_err(|_| ServerError::Corrupt("a document key's id is not 16 bytes".into()))?,
            KeyStore::Pg(_) => String::from_utf8_lossy(&id)
                .parse()
                .map_err(|e| ServerError::Corrupt(format!("a document key's id: {e}")))?,
        };
        Ok(Some((id, wrapped)))
    }

    async fn get(&self, document: DocumentId) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            KeyStore::Sled { keys, .. } => Ok(keys
                .get(document.as_bytes())
                .map_err(sled_io)?
                .map(|v| v.to_vec())),
            KeyStore::Pg(pg) => {
                let id = document.to_string();
                pg.run_async(move |c| {
                    c.query_opt(
                        "SELECT wrapped FROM document_keys WHERE document = $1",
                        &[&id],
                    )?
                    .map(|r| r.try_get(0))
                    .transpose()
                })
                .await
                .map_err(storage)
            }
        }
    }

    /// Stores `wrapped` unless a key is there already; returns the key that is kept.
    async fn insert_new(
        &self,
        document: DocumentId,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, StorageError> {
        match self {
            KeyStore::Sled { keys, .. } => {
                match keys
                    .compare_and_swap(document.as_bytes(), None::<&[u8]>, Some(wrapped.clone()))
                    .map_err(sled_io)?
                {
                    Ok(()) => Ok(wrapped),
                    Err(lost) => lost.current.map(|v| v.to_vec()).ok_or_else(|| {
                        StorageError::Io("a document key vanished while it was made".into())
                    }),
                }
            }
            KeyStore::Pg(pg) => {
                let id = document.to_string();
                pg.run_async(move |c| {
                    c.execute(
                        "INSERT INTO document_keys (document, wrapped) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                        &[&id, &wrapped],
                    )?;
                    c.query_one(
                        "SELECT wrapped FROM document_keys WHERE document = $1",
                        &[&id],
                    )?
                    .try_get(0)
                })
                .await
                .map_err(storage)
            }
        }
    }

    async fn remove(&self, documents: Vec<DocumentId>) -> Result<(), StorageError> {
        match self {
            KeyStore::Sled { keys, .. } => {
                for document in documents {
                    keys.remove(document.as_bytes()).map_err(sled_io)?;
                }
                // sled appends to its log: the removed key's bytes stay in the files until the
                // store is rewritten, which its next opening does.
                self.mark_rewrite()
            }
            KeyStore::Pg(pg) => {
                let ids: Vec<String> = documents.iter().map(ToString::to_string).collect();
                pg.run_async(move |c| {
                    c.execute(
                        "DELETE FROM document_keys WHERE document = ANY($1)",
                        &[&ids],
                    )?;
                    // The deleted rows' bytes stay in the table's pages until they are reused:
                    // rewriting the (small) table into new files drops them.
                    c.batch_execute("VACUUM (FULL) document_keys")
                })
                .await
                .map_err(storage)
            }
        }
    }
}

/// The documents' keys, unwrapped on first use and cached.
pub struct DocKeys {
    store: KeyStore,
    master: XChaCha20Poly1305,
    cache: Mutex<HashMap<DocumentId, Arc<XChaCha20Poly1305>>>,
}

impl std::fmt::Debug for DocKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocKeys")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl DocKeys {
    /// Keys kept in `store`, wrapped by `master`.
    pub fn new(store: KeyStore, master: &Key) -> Self {
        Self {
            store,
            master: aead(master),
            cache: Mutex::default(),
        }
    }

    fn cached(&self, document: DocumentId) -> Option<Arc<XChaCha20Poly1305>> {
        self.cache.lock().ok()?.get(&document).cloned()
    }

    fn remember(&self, document: DocumentId, key: &Key) -> Arc<XChaCha20Poly1305> {
        let cipher = Arc::new(aead(key));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(document, cipher.clone());
        }
        cipher
    }

    /// The document's key, `None` when it has none (never written sealed, or destroyed).
    pub async fn existing(
        &self,
        document: DocumentId,
    ) -> Result<Option<Arc<XChaCha20Poly1305>>, StorageError> {
        if let Some(cipher) = self.cached(document) {
            return Ok(Some(cipher));
        }
        let Some(wrapped) = self.store.get(document).await? else {
            return Ok(None);
        };
        let key = unwrap_key(&self.master, document, &wrapped)?;
        Ok(Some(self.remember(document, &key)))
    }

    /// The document's key, made (and stored wrapped) on its first write. Two nodes making one
    /// at once agree on the first stored.
    pub async fn for_writing(
        &self,
        document: DocumentId,
    ) -> Result<Arc<XChaCha20Poly1305>, StorageError> {
        if let Some(cipher) = self.existing(document).await? {
            return Ok(cipher);
        }
        let fresh = Key::random();
        let wrapped = wrap_key(&self.master, document, &fresh)?;
        let kept = self.store.insert_new(document, wrapped).await?;
        let key = unwrap_key(&self.master, document, &kept)?;
        Ok(self.remember(document, &key))
    }

    /// Destroys the documents' keys (here and in the store): their chunks can never be read
    /// again, from this store or any copy of it.
    pub async fn destroy(&self, documents: Vec<DocumentId>) -> Result<(), StorageError> {
        if documents.is_empty() {
            return Ok(());
        }
        if let Ok(mut cache) = self.cache.lock() {
            for document in &documents {
                cache.remove(document);
            }
        }
        self.store.remove(documents).await
    }

    /// Refuses a master key that does not open the stored keys (another region's secrets
    /// directory, or a new one made by mistake): better not to start than to serve nothing.
    pub fn check_master(&self) -> Result<(), ServerError> {
        if let Some((document, wrapped)) = self.store.first()? {
            if unwrap_key(&self.master, document, &wrapped).is_err() {
                return Err(ServerError::Config(
                    "the master key does not open this store's document keys: start with the \
                     region's secrets directory (--secrets-dir), the one its data was written \
                     with"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Where the keys are kept.
    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// Whether the store holds a key for the document (tests, the operator's checks).
    pub async fn has_key(&self, document: DocumentId) -> Result<bool, StorageError> {
        Ok(self.store.get(document).await?.is_some())
    }
}

/// Copies the wrapped keys of a sled store into PostgreSQL's table (`admin migrate-to-postgres`);
/// returns how many.
pub fn copy_keys_to_postgres(db: &sled::Db, pg: &Pg) -> Result<usize, ServerError> {
    let mut rows = Vec::new();
    for item in db.open_tree(KEYS_TREE)?.iter() {
        let (id, wrapped) = item?;
        let id: [u8; 16] = id
            .as_ref()
            .try_into()
            .map_err(|_| ServerError::Corrupt("a document key's id is not 16 bytes".into()))?;
        rows.push((DocumentId::from_bytes(id).to_string(), wrapped.to_vec()));
    }
    let count = rows.len();
    pg.run(move |c| {
        let mut tx = c.transaction()?;
        let insert = tx.prepare(
            "INSERT INTO document_keys (document, wrapped) VALUES ($1, $2)
             ON CONFLICT (document) DO UPDATE SET wrapped = excluded.wrapped",
        )?;
        for (id, wrapped) in &rows {
            tx.execute(&insert, &[id, wrapped])?;
        }
        tx.commit()
    })?;
    Ok(count)
}
