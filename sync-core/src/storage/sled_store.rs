//! The sled store: documents' chunks in one tree, made durable with a real fsync.
//!
//! sled 0.34's `flush()` writes with `sync_file_range`, which does not flush the drive's cache or
//! file metadata, and it never syncs the separate files it keeps for large values (`blobs/`).
//! [`SledStorage::write`] therefore follows every flush with `fsync` of the log file and of any
//! new blob file and the blob directory: a write that returned `Ok` survives `kill -9` and power
//! loss. One call carries a whole batch (group commit: many changes, one durability point).
//!
//! The calls block; async hosts run them on a thread of their own, never on the executor.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{ChunkKey, Storage, StorageError, StoredDocument, WriteOp};
use crate::ids::DocumentId;

/// The sled tree that holds documents' chunks (the others are the host's tables).
pub const CHUNKS_TREE: &str = "chunks";

/// The first bytes of a backup file.
const BACKUP_MAGIC: &[u8; 8] = b"KOOPBAK1";

/// sled's page cache (its default is 1 GiB, which a server with a hundred thousand stored
/// cases would fill; the operating system's file cache still holds what is read often).
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// A sled database holding document chunks (and, in the server, other trees of its own).
#[derive(Clone, Debug)]
pub struct SledStorage {
    db: sled::Db,
    chunks: sled::Tree,
    path: PathBuf,
    synced_blobs: Arc<Mutex<HashSet<std::ffi::OsString>>>,
}

fn io(e: impl std::fmt::Display) -> StorageError {
    StorageError::Io(e.to_string())
}

impl SledStorage {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = dir.as_ref().to_path_buf();
        let db = sled::Config::new()
            .path(&path)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(None)
            .open()
            .map_err(io)?;
        let chunks = db.open_tree(CHUNKS_TREE).map_err(io)?;
        Ok(Self {
            db,
            chunks,
            path,
            synced_blobs: Arc::default(),
        })
    }

    /// The underlying database, for trees of the host's own (identity, audit).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Flushes sled and fsyncs its files: everything written before is durable on return.
    pub fn make_durable(&self) -> Result<(), StorageError> {
        self.db.flush().map_err(io)?;
        File::open(self.path.join("db"))
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        self.sync_new_blobs()
    }

    fn sync_new_blobs(&self) -> Result<(), StorageError> {
        let dir = self.path.join("blobs");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        let mut synced = self
            .synced_blobs
            .lock()
            .map_err(|_| StorageError::Io("blob sync state poisoned".into()))?;
        let mut present = HashSet::new();
        let mut any_new = false;
        for entry in entries {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                File::open(entry.path())
                    .and_then(|f| f.sync_all())
                    .map_err(io)?;
                any_new = true;
            }
            present.insert(name);
        }
        if any_new {
            File::open(&dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        *synced = present;
        Ok(())
    }

    fn prefix(document: &DocumentId) -> [u8; 16] {
        *document.as_bytes()
    }

    fn key(document: &DocumentId, key: &ChunkKey) -> Vec<u8> {
        let mut out = Vec::with_capacity(49);
        out.extend_from_slice(document.as_bytes());
        out.extend_from_slice(&key.to_bytes());
        out
    }

    /// Synchronous load.
    pub fn load_now(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        let mut chunks = Vec::new();
        for item in self.chunks.scan_prefix(Self::prefix(&document)) {
            let (k, v) = item.map_err(io)?;
            let key = ChunkKey::from_bytes(k.get(16..).unwrap_or_default())?;
            chunks.push((key, v.to_vec()));
        }
        Ok((!chunks.is_empty()).then_some(StoredDocument { chunks }))
    }

    /// Synchronous, durable batch write.
    pub fn write_now(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        let mut sled_batch = sled::Batch::default();
        for op in batch {
            match op {
                WriteOp::Put {
                    document,
                    key,
                    bytes,
                } => sled_batch.insert(Self::key(&document, &key), bytes),
                WriteOp::Erase { document } => {
                    for k in self.chunks.scan_prefix(Self::prefix(&document)).keys() {
                        sled_batch.remove(k.map_err(io)?);
                    }
                }
                WriteOp::Compact {
                    document,
                    key,
                    bytes,
                    replaces,
                } => {
                    for old in replaces.iter().filter(|old| **old != key) {
                        sled_batch.remove(Self::key(&document, old));
                    }
                    sled_batch.insert(Self::key(&document, &key), bytes);
                }
            }
        }
        self.chunks.apply_batch(sled_batch).map_err(io)?;
        self.make_durable()
    }

    /// Synchronous list of stored documents.
    pub fn list_now(&self) -> Result<Vec<DocumentId>, StorageError> {
        let mut out: Vec<DocumentId> = Vec::new();
        for item in self.chunks.iter().keys() {
            let k = item.map_err(io)?;
            let raw: [u8; 16] = k
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StorageError::Corrupt("short chunk key".into()))?;
            let id = DocumentId::from_bytes(raw);
            if out.last() != Some(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Writes every tree (documents and the host's own) to one backup file: `KOOPBAK1`, then
    /// per tree its name and entries, each a length-prefixed key and value. A snapshot taken
    /// while writes continue holds each write batch whole or not at all (batches are atomic per
    /// tree); hosts pause their own writers for a consistent copy across trees.
    pub fn backup_to(&self, path: &Path) -> Result<u64, StorageError> {
        let file = File::create(path).map_err(io)?;
        let (out, entries) = self.backup_into(std::io::BufWriter::new(file))?;
        let file = out.into_inner().map_err(|e| io(e.error()))?;
        file.sync_all().map_err(io)?;
        Ok(entries)
    }

    /// Writes the backup of [`Self::backup_to`] to `out` (hosts wrap it, e.g. to encrypt it);
    /// returns `out` and the number of entries written.
    pub fn backup_into<W: std::io::Write>(&self, mut out: W) -> Result<(W, u64), StorageError> {
        let put = |out: &mut W, bytes: &[u8]| -> Result<(), StorageError> {
            out.write_all(&(bytes.len() as u64).to_be_bytes())
                .map_err(io)?;
            out.write_all(bytes).map_err(io)
        };
        out.write_all(BACKUP_MAGIC).map_err(io)?;
        let mut entries = 0u64;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(io)?;
            put(&mut out, &name)?;
            put(&mut out, &(tree.len() as u64).to_be_bytes())?;
            let mut written = 0u64;
            for item in tree.iter() {
                let (k, v) = item.map_err(io)?;
                put(&mut out, &k)?;
                put(&mut out, &v)?;
                written += 1;
            }
            if written != tree.len() as u64 {
                return Err(StorageError::Io(format!(
                    "tree {} changed while it was copied; copy again",
                    String::from_utf8_lossy(&name)
                )));
            }
            entries += written;
        }
        Ok((out, entries))
    }

    /// Restores a backup file into a new, empty store at `dir` (refuses a non-empty one).
    pub fn restore_from(backup: &Path, dir: &Path) -> Result<Self, StorageError> {
        Self::restore_from_reader(File::open(backup).map_err(io)?, dir)
    }

    /// Restores the backup that `input` reads (hosts wrap it, e.g. to decrypt it) into a new,
    /// empty store at `dir`.
    pub fn restore_from_reader(
        input: impl std::io::Read,
        dir: &Path,
    ) -> Result<Self, StorageError> {
        use std::io::Read;
        if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
            return Err(StorageError::Io(format!(
                "{} is not empty; restore into a new folder",
                dir.display()
            )));
        }
        let mut input = std::io::BufReader::new(input);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).map_err(io)?;
        if &magic != BACKUP_MAGIC {
            return Err(StorageError::Corrupt("not a Kooperacja backup file".into()));
        }
        let take = |input: &mut dyn Read| -> Result<Option<Vec<u8>>, StorageError> {
            let mut len = [0u8; 8];
            match input.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(io(e)),
            }
            let len = u64::from_be_bytes(len);
            if len > 1 << 32 {
                return Err(StorageError::Corrupt(
                    "a backup entry claims over 4 GiB".into(),
                ));
            }
            let mut bytes = vec![0u8; len as usize];
            input
                .read_exact(&mut bytes)
                .map_err(|e| StorageError::Corrupt(format!("truncated backup: {e}")))?;
            Ok(Some(bytes))
        };
        let store = Self::open(dir)?;
        while let Some(name) = take(&mut input)? {
            let count = take(&mut input)?
                .and_then(|c| c.as_slice().try_into().ok().map(u64::from_be_bytes))
                .ok_or_else(|| StorageError::Corrupt("truncated backup".into()))?;
            let tree = store.db.open_tree(&name).map_err(io)?;
            for _ in 0..count {
                let (Some(k), Some(v)) = (take(&mut input)?, take(&mut input)?) else {
                    return Err(StorageError::Corrupt("truncated backup".into()));
                };
                tree.insert(k, v).map_err(io)?;
            }
        }
        store.make_durable()?;
        Ok(store)
    }

    /// Synchronous, durable removal of a document's chunks.
    pub fn remove_now(&self, document: DocumentId) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for k in self.chunks.scan_prefix(Self::prefix(&document)).keys() {
            batch.remove(k.map_err(io)?);
        }
        self.chunks.apply_batch(batch).map_err(io)?;
        self.make_durable()
    }
}

impl Storage for SledStorage {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        self.load_now(document)
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        self.write_now(batch)
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.list_now()
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.remove_now(document)
    }
}
