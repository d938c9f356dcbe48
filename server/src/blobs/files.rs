//! On the embedded (sled) store, a blob's sealed pieces live in one file beside the store,
//! `<data dir>/blobs/<document>/<sha256 hex>`, piece `i` at byte `i × STRIDE` (a piece is
//! [`super::PIECE`] plaintext bytes sealed: [`SEALED_EXTRA`] more). They stay out of sled, whose
//! page cache would otherwise hold every uploaded byte (docs/benchmarks.md, #18), and out of
//! the server's memory: the kernel's page cache holds them, not the process. Files are `0600`,
//! folders `0700`; the bytes are sealed under the case's key either way.
//!
//! Pieces are written in order, so the piece written is always the last one: the file is cut
//! after it, and a piece rewritten shorter (the partial last piece of a resumed upload) leaves
//! nothing stale behind. [`Files::sync`] makes what was written durable (the file and, once,
//! its folders) before an upload request is answered.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sync_core::DocumentId;

use super::id::BlobId;
use crate::error::ServerError;

/// Bytes a sealed piece has beyond its plaintext (`crate::at_rest::seal`: magic, nonce, tag).
pub const SEALED_EXTRA: usize = 4 + 24 + 16;
/// Where piece `i` starts in its file: `i × STRIDE`.
pub const STRIDE: u64 = (super::PIECE + SEALED_EXTRA) as u64;
/// The folder of blob files inside a data directory.
pub const FOLDER: &str = "blobs";

/// The folder of blob files.
#[derive(Clone, Debug)]
pub struct Files {
    dir: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> ServerError {
    ServerError::io(format!("{what} {}", path.display()), e)
}

impl Files {
    /// The blob files under `data_dir` (made when the first piece is written).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(FOLDER),
        }
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn document_dir(&self, document: DocumentId) -> PathBuf {
        self.dir.join(document.to_string())
    }

    /// The file of one blob.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        self.document_dir(id.document).join(hex::encode(id.sha256))
    }

    /// Writes sealed piece `index` and cuts the file after it.
    pub fn put_piece(&self, id: &BlobId, index: u32, sealed: &[u8]) -> Result<(), ServerError> {
        let path = self.path(id);
        let file = match open_for_writing(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let folder = self.document_dir(id.document);
                crate::secrets::create_private_dir(&self.dir)?;
                crate::secrets::create_private_dir(&folder)?;
                sync_dir(&self.dir)?;
                if let Some(data_dir) = self.dir.parent() {
                    sync_dir(data_dir)?;
                }
                let file = open_for_writing(&path).map_err(|e| io("creating", &path, e))?;
                sync_dir(&folder)?;
                file
            }
            Err(e) => return Err(io("opening", &path, e)),
        };
        let at = u64::from(index) * STRIDE;
        file.write_all_at(sealed, at)
            .and_then(|()| file.set_len(at + sealed.len() as u64))
            .map_err(|e| io("writing", &path, e))
    }

    /// Makes every piece written to a blob durable.
    pub fn sync(&self, id: &BlobId) -> Result<(), ServerError> {
        let path = self.path(id);
        match File::open(&path) {
            Ok(file) => file.sync_data().map_err(|e| io("syncing", &path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("opening", &path, e)),
        }
    }

    /// Sealed piece `index`, `None` past the end of the file (or without a file).
    pub fn piece(&self, id: &BlobId, index: u32) -> Result<Option<Vec<u8>>, ServerError> {
        let path = self.path(id);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening", &path, e)),
        };
        let len = file.metadata().map_err(|e| io("reading", &path, e))?.len();
        let at = u64::from(index) * STRIDE;
        if at >= len {
            return Ok(None);
        }
        let mut out = vec![0u8; (len - at).min(STRIDE) as usize];
        file.read_exact_at(&mut out, at)
            .map_err(|e| io("reading", &path, e))?;
        Ok(Some(out))
    }

    /// Whether a blob has a file.
    pub fn exists(&self, id: &BlobId) -> bool {
        self.path(id).is_file()
    }

    /// Removes a blob's file.
    pub fn remove(&self, id: &BlobId) -> Result<(), ServerError> {
        let path = self.path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                // The case's folder goes with its last file (another may be made meanwhile).
                let _ = std::fs::remove_dir(self.document_dir(id.document));
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("removing", &path, e)),
        }
    }

    /// Removes every blob file of a case.
    pub fn remove_document(&self, document: DocumentId) -> Result<(), ServerError> {
        let folder = self.document_dir(document);
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("removing", &folder, e)),
        }
    }

    /// Every blob that has a file (names that are not a blob's are left alone).
    pub fn all(&self) -> Result<Vec<BlobId>, ServerError> {
        let mut out = Vec::new();
        let documents = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io("listing", &self.dir, e)),
        };
        for folder in documents {
            let folder = folder.map_err(|e| io("listing", &self.dir, e))?;
            let Some(document) = folder.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let path = folder.path();
            for file in std::fs::read_dir(&path).map_err(|e| io("listing", &path, e))? {
                let file = file.map_err(|e| io("listing", &path, e))?;
                let mut sha256 = [0u8; 32];
                let name = file.file_name();
                if hex::decode_to_slice(name.as_encoded_bytes(), &mut sha256).is_ok() {
                    out.push(BlobId { document, sha256 });
                }
            }
        }
        Ok(out)
    }
}

fn open_for_writing(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .read(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// Makes a folder's entries (a file created or removed in it) durable.
fn sync_dir(dir: &Path) -> Result<(), ServerError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing", dir, e))
}
