//! The tablet's local store: sled in the app's data directory, every value encrypted with the
//! key the host app provides, and a key check that refuses a wrong key before anything is read
//! or written.
//!
//! `data_dir/key-check` holds a known block sealed with the key when the store was made; a key
//! that does not open it is refused before the database is opened. `data_dir/store` is one sled
//! database:
//! - tree `chunks`: the documents' chunks ([`SledStorage`]), values sealed by
//!   [`EncryptedStorage`]; keys are the random document id and a SHA-256 chunk key.
//! - tree `kooperacja-sdk`: the SDK's own state, values sealed with their key name as associated
//!   data: this device's Automerge actor, the heads the server acknowledged per
//!   document, the documents created here and not yet acknowledged, when the last sync finished.
//!   Keys are fixed names and document ids; nothing in a key names a person.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_core::storage::{SledStorage, Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

use crate::crypto::{Cipher, TabletKey};
use crate::encrypted::EncryptedStorage;
use crate::error::SdkError;

/// The SDK's state beside the documents: small named values.
pub(crate) trait Meta: Send + Sync + 'static {
    /// A value.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Sets a value (durable at the next [`Meta::flush`] or document write).
    fn put(&self, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Removes a value.
    fn remove(&self, key: &str) -> Result<(), StorageError>;
    /// The names of the values starting with `prefix`.
    fn keys(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Makes everything set so far durable.
    fn flush(&self) -> Result<(), StorageError>;
    /// Removes every value (revocation).
    fn clear(&self) -> Result<(), StorageError>;
}

/// Metadata kept in memory only (a client without a store of its own).
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryMeta {
    values: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

fn poisoned() -> StorageError {
    StorageError::Io("metadata lock poisoned".into())
}

impl Meta for MemoryMeta {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .values
            .lock()
            .map_err(|_| poisoned())?
            .get(key)
            .cloned())
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.values
            .lock()
            .map_err(|_| poisoned())?
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.values.lock().map_err(|_| poisoned())?.remove(key);
        Ok(())
    }

    fn keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let values = self.values.lock().map_err(|_| poisoned())?;
        let mut keys: Vec<String> = values
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn flush(&self) -> Result<(), StorageError> {
        Ok(())
    }

    fn clear(&self) -> Result<(), StorageError> {
        self.values.lock().map_err(|_| poisoned())?.clear();
        Ok(())
    }
}

/// The name of the SDK's tree.
const META_TREE: &str = "kooperacja-sdk";
/// The key check: a known block sealed with the key when the store was made (the name is the
/// associated data).
const KEY_CHECK: &str = "key-check";
const KEY_CHECK_BLOCK: &[u8] = b"kooperacja tablet store v1";
/// This device's Automerge actor, drawn when the store was made.
pub(crate) const ACTOR: &str = "actor";
/// How long [`TabletStore::open`] waits for a store that a tablet closing in this process is
/// still releasing.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// The tablet's encrypted sled store: documents for the sync engine and the SDK's own state.
///
/// Cloning is cheap and shares the database.
#[derive(Clone, Debug)]
pub struct TabletStore {
    documents: EncryptedStorage<SledStorage>,
    meta: sled::Tree,
    cipher: Arc<Cipher>,
    path: PathBuf,
}

fn io(e: impl std::fmt::Display) -> StorageError {
    StorageError::Io(e.to_string())
}

impl TabletStore {
    /// The directory inside `data_dir` that holds the database.
    pub fn store_path(data_dir: &Path) -> PathBuf {
        data_dir.join("store")
    }

    /// The file holding the key check, beside the database.
    pub fn key_check_path(data_dir: &Path) -> PathBuf {
        data_dir.join("key-check")
    }

    /// Opens the store in `data_dir` (creating it, with a key check, when there is none).
    ///
    /// The key is checked against the key-check file before the database is opened, so a wrong
    /// key is refused with [`SdkError::WrongKey`] without touching the database. When another
    /// tablet in this process is still releasing the store, this waits up to three seconds for
    /// it; a store held longer gives [`SdkError::StoreInUse`]. Blocking: call it off the async
    /// executor (the SDK's own thread does).
    pub fn open(data_dir: &Path, key: &TabletKey) -> Result<Self, SdkError> {
        let path = Self::store_path(data_dir);
        let shown = data_dir.display().to_string();
        let cipher = Arc::new(Cipher::new(key));
        let check_path = Self::key_check_path(data_dir);
        match std::fs::read(&check_path) {
            Ok(sealed) => {
                let opened = cipher.open(KEY_CHECK.as_bytes(), &sealed);
                if opened.as_deref() != Ok(KEY_CHECK_BLOCK) {
                    return Err(SdkError::WrongKey(shown));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if path.exists() {
                    return Err(SdkError::UnknownStore(shown));
                }
                let check = cipher
                    .seal(KEY_CHECK.as_bytes(), KEY_CHECK_BLOCK)
                    .map_err(|_| StorageError::Io("sealing the key check".into()))?;
                write_durably(data_dir, &check_path, &check)?;
            }
            Err(e) => {
                return Err(
                    StorageError::Io(format!("reading {}: {e}", check_path.display())).into(),
                )
            }
        }
        let sled = open_waiting(&path)?;
        let meta = sled.db().open_tree(META_TREE).map_err(io)?;
        let store = Self {
            documents: EncryptedStorage::new(sled, key),
            meta,
            cipher,
            path,
        };
        if store.get(ACTOR)?.is_none() {
            let mut actor = [0u8; 16];
            rand::fill(&mut actor[..]);
            store.put(ACTOR, &actor)?;
            store.flush()?;
        }
        Ok(store)
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sled(&self) -> &SledStorage {
        self.documents.inner()
    }

    fn aad(key: &str) -> Vec<u8> {
        let mut aad = b"meta:".to_vec();
        aad.extend_from_slice(key.as_bytes());
        aad
    }
}

/// Writes a small file so that it is complete and durable, or absent: a temporary file,
/// fsync, rename, fsync of the directory.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    use std::io::Write;
    std::fs::create_dir_all(dir)
        .map_err(|e| StorageError::Io(format!("creating {}: {e}", dir.display())))?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// Opens sled, waiting (bounded) for a lock that a tablet closing in this process still holds.
fn open_waiting(path: &Path) -> Result<SledStorage, SdkError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match SledStorage::open(path) {
            Err(StorageError::Io(m)) if m.contains("lock") => {
                if Instant::now() >= deadline {
                    return Err(SdkError::StoreInUse(path.display().to_string()));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

impl Storage for TabletStore {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        self.documents.load(document).await
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        self.documents.write(batch).await
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.documents.list().await
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.documents.remove(document).await
    }
}

impl Meta for TabletStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(sealed) = self.meta.get(key).map_err(io)? else {
            return Ok(None);
        };
        self.cipher
            .open(&Self::aad(key), &sealed)
            .map(Some)
            .map_err(|_| StorageError::Corrupt(format!("SDK state {key:?} does not decrypt")))
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let sealed = self
            .cipher
            .seal(&Self::aad(key), value)
            .map_err(|_| StorageError::Io("a value is too large to encrypt".into()))?;
        self.meta.insert(key, sealed).map_err(io)?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.meta.remove(key).map_err(io)?;
        Ok(())
    }

    fn keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut out = Vec::new();
        for key in self.meta.scan_prefix(prefix).keys() {
            let key = key.map_err(io)?;
            out.push(String::from_utf8_lossy(&key).into_owned());
        }
        Ok(out)
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.sled().make_durable()
    }

    fn clear(&self) -> Result<(), StorageError> {
        self.meta.clear().map_err(io)?;
        self.sled().make_durable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_reopens_with_its_key_and_refuses_another() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = TabletKey::random();
        let actor = {
            let store = TabletStore::open(dir.path(), &key).expect("created");
            store.put("x", b"value").expect("put");
            store.flush().expect("durable");
            store.get(ACTOR).expect("read").expect("an actor")
        };
        let err = TabletStore::open(dir.path(), &TabletKey::random()).expect_err("wrong key");
        assert!(matches!(err, SdkError::WrongKey(_)), "{err:?}");
        let store = TabletStore::open(dir.path(), &key).expect("reopened");
        assert_eq!(store.get("x").expect("read"), Some(b"value".to_vec()));
        assert_eq!(store.get(ACTOR).expect("read"), Some(actor));
        assert_eq!(store.keys("x").expect("keys"), vec!["x".to_owned()]);
    }

    #[test]
    fn a_second_open_of_a_held_store_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = TabletKey::random();
        let _held = TabletStore::open(dir.path(), &key).expect("created");
        let err = TabletStore::open(dir.path(), &key).expect_err("held");
        assert!(matches!(err, SdkError::StoreInUse(_)), "{err:?}");
    }
}
