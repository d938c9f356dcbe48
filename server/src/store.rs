//! Which store a server runs on: the embedded sled store (one machine, the default) or a
//! PostgreSQL database shared by several nodes. Both hold the same things: the documents'
//! chunks ([`DocStore`]) and the identity, access and audit trees ([`crate::kv::Kv`]).

use std::time::Duration;

use sync_core::storage::{SledStorage, Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

use crate::error::ServerError;
use crate::kv::Kv;
use crate::pg::{Pg, PgStorage};

/// The documents' store.
#[derive(Clone, Debug)]
pub enum DocStore {
    /// sled in the data directory.
    Sled(SledStorage),
    /// PostgreSQL.
    Pg(PgStorage),
}

impl DocStore {
    /// The key-value trees beside the documents.
    pub fn kv(&self) -> Kv {
        match self {
            DocStore::Sled(s) => Kv::Sled(s.db().clone()),
            DocStore::Pg(p) => Kv::Pg(p.pg().clone()),
        }
    }

    /// Loads a document from a thread that may block (admin commands, tests, exports).
    pub fn load_now(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        match self {
            DocStore::Sled(s) => s.load_now(document),
            DocStore::Pg(p) => futures::executor::block_on(p.load(document)),
        }
    }

    /// Every stored document, from a thread that may block.
    pub fn list_now(&self) -> Result<Vec<DocumentId>, StorageError> {
        match self {
            DocStore::Sled(s) => s.list_now(),
            DocStore::Pg(p) => futures::executor::block_on(p.list()),
        }
    }

    /// Makes every write so far durable (sled flushes and fsyncs; PostgreSQL has committed).
    pub fn make_durable(&self) -> Result<(), StorageError> {
        match self {
            DocStore::Sled(s) => s.make_durable(),
            DocStore::Pg(p) => p
                .pg()
                .flush_claims()
                .map_err(|e| StorageError::Io(e.to_string())),
        }
    }

    /// `Ok` when ready (the store answers; on PostgreSQL also: this node hears the others and
    /// its audit chain has no other writer); else why not, in words.
    pub fn readiness(&self) -> Result<(), String> {
        match self {
            DocStore::Sled(s) => s
                .db()
                .size_on_disk()
                .map(|_| ())
                .map_err(|e| format!("store not readable: {e}")),
            DocStore::Pg(p) => {
                p.pg()
                    .run(|c| c.simple_query("SELECT 1"))
                    .map_err(|e| e.to_string())?;
                match p.pg().health().not_ready() {
                    Some(why) => Err(why),
                    None => Ok(()),
                }
            }
        }
    }

    /// Whether the store answers (readiness).
    pub fn is_ready(&self) -> bool {
        self.readiness().is_ok()
    }

    /// Opens the PostgreSQL store named by `url` (`postgres://…`) as node `node`, with `pool`
    /// worker connections. (The sled store is opened by `serve::open_store`, which also waits
    /// for a lock being released.)
    pub fn postgres(url: &str, node: &str, pool: usize) -> Result<Self, ServerError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ServerError::Config(format!(
                "unknown store {url:?}: give a postgres:// URL, or nothing for sled"
            )));
        }
        Ok(DocStore::Pg(PgStorage::new(Pg::connect(url, pool, node)?)))
    }
}

impl Storage for DocStore {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        match self {
            DocStore::Sled(s) => s.load(document).await,
            DocStore::Pg(p) => p.load(document).await,
        }
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        match self {
            DocStore::Sled(s) => s.write(batch).await,
            DocStore::Pg(p) => p.write(batch).await,
        }
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        match self {
            DocStore::Sled(s) => s.list().await,
            DocStore::Pg(p) => p.list().await,
        }
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        match self {
            DocStore::Sled(s) => s.remove(document).await,
            DocStore::Pg(p) => p.remove(document).await,
        }
    }
}

/// The path of the sled store inside a data directory.
pub fn store_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("store")
}

/// Opens the store: PostgreSQL when `url` names one, else sled, waiting up to three seconds
/// for a lock that a server stopping in this same process (tests, an embedding app) is still
/// releasing.
pub fn open_store(
    url: Option<&str>,
    path: &std::path::Path,
    node: &str,
) -> Result<DocStore, ServerError> {
    open_store_with(url, path, node, crate::pg::DEFAULT_POOL)
}

/// [`open_store`] with `pool` worker connections to PostgreSQL.
pub fn open_store_with(
    url: Option<&str>,
    path: &std::path::Path,
    node: &str,
    pool: usize,
) -> Result<DocStore, ServerError> {
    if let Some(url) = url {
        return DocStore::postgres(url, node, pool);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match SledStorage::open(path) {
            Err(sync_core::StorageError::Io(m))
                if m.contains("lock") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(sync_core::StorageError::Io(m)) if m.contains("lock") => {
                return Err(ServerError::Config(format!(
                    "the data directory is in use by another kooperacja-server: {m}"
                )))
            }
            other => return Ok(DocStore::Sled(other?)),
        }
    }
}
