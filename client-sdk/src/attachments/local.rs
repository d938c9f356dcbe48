//! Attachments' bytes on the device: `data_dir/attachments/<case>/<sha256>.blob`, encrypted
//! under the tablet's key in pieces of [`PIECE`] bytes, each sealed on its own (so a file is
//! written and read one piece at a time, never whole), beside a sealed record
//! (`<sha256>.meta`: size, type, whether the server has it, when it was last used).
//!
//! A blob file is `file id (16 random bytes) ‖ sealed piece 0 ‖ sealed piece 1 ‖ …`; a piece is
//! bound to its file id and index, a record to its case and hash, so pieces moved between files
//! or records between blobs fail to open. A file being written (an import, a download) is a
//! `.part` file that becomes the blob by a rename once complete and verified, so a blob file is
//! always whole; a download's `.part` is resumed after a crash or a lost connection.
//!
//! Every call blocks (file IO); the tablet runs them off the async executor's threads.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sync_core::model::case::{sniff_mime, SNIFF_BYTES};
use sync_core::{DocumentId, StorageError};

use crate::crypto::{Cipher, TabletKey};
use crate::error::SdkError;

/// Plaintext bytes per stored piece (as the server's pieces).
pub const PIECE: usize = 256 * 1024;
/// What sealing adds to a piece: version, nonce and tag.
const SEAL_OVERHEAD: usize = 1 + 24 + 16;
/// The file id in front of every blob file.
const HEADER: usize = 16;

fn io(what: &str, e: impl std::fmt::Display) -> SdkError {
    SdkError::Storage(StorageError::Io(format!("attachments: {what}: {e}")))
}

/// What the device knows of one stored blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalMeta {
    /// Size in bytes.
    pub size: u64,
    /// The sniffed MIME type.
    pub mime: String,
    /// Whether the server holds it (uploaded from here, or downloaded from there).
    pub uploaded: bool,
    /// The server's reason when it refused the upload for good (not retried).
    #[serde(default)]
    pub refused: Option<String>,
    /// When it was stored or last opened (Unix nanoseconds): the eviction's clock.
    pub used_at: i64,
}

/// A blob named by its case and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey {
    /// The case.
    pub document: DocumentId,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl BlobKey {
    /// The hash in lowercase hex, as entries and the server name it.
    pub fn hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// The blobs kept on this device (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub struct LocalBlobs {
    root: PathBuf,
    cipher: Cipher,
}

/// A stored blob as an import leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its name.
    pub key: BlobKey,
    /// Its record.
    pub meta: LocalMeta,
    /// Whether this import stored it (false: the same bytes were already here).
    pub fresh: bool,
}

/// Nanoseconds since the Unix epoch.
pub fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

impl LocalBlobs {
    /// The blobs under `root` (`data_dir/attachments`), sealed with `key`.
    pub fn new(root: PathBuf, key: &TabletKey) -> Self {
        Self {
            root,
            cipher: Cipher::new(key),
        }
    }

    fn dir(&self, document: DocumentId) -> PathBuf {
        self.root.join(document.to_string())
    }

    fn path(&self, key: &BlobKey, ext: &str) -> PathBuf {
        self.dir(key.document).join(format!("{}.{ext}", key.hex()))
    }

    fn meta_aad(key: &BlobKey) -> Vec<u8> {
        [
            b"kooperacja-attachment-meta".as_slice(),
            key.document.as_bytes(),
            &key.sha256,
        ]
        .concat()
    }

    /// The record of a blob, `None` when it is not on the device.
    pub fn meta(&self, key: &BlobKey) -> Result<Option<LocalMeta>, SdkError> {
        let sealed = match fs::read(self.path(key, "meta")) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading a record", e)),
        };
        let plain = self
            .cipher
            .open(&Self::meta_aad(key), &sealed)
            .map_err(|_| SdkError::AttachmentCorrupt(key.hex()))?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| io("a record", e))
    }

    /// Writes a blob's record (atomically: a whole new record or the old one).
    pub fn put_meta(&self, key: &BlobKey, meta: &LocalMeta) -> Result<(), SdkError> {
        let plain = serde_json::to_vec(meta).map_err(|e| io("a record", e))?;
        let sealed = self
            .cipher
            .seal(&Self::meta_aad(key), &plain)
            .map_err(|_| io("sealing a record", "too long"))?;
        let path = self.path(key, "meta");
        let tmp = self.path(key, "meta.tmp");
        let mut file = File::create(&tmp).map_err(|e| io("writing a record", e))?;
        file.write_all(&sealed)
            .and_then(|()| file.sync_all())
            .map_err(|e| io("writing a record", e))?;
        fs::rename(&tmp, &path).map_err(|e| io("writing a record", e))
    }

    /// Whether the blob's bytes are here.
    pub fn has_bytes(&self, key: &BlobKey) -> bool {
        self.path(key, "blob").is_file()
    }

    /// Stores the bytes `from` yields as an attachment of `document`: type sniffed, hashed and
    /// sealed piece by piece, refused past `limit` bytes. The blob waits for upload.
    pub fn import(
        &self,
        document: DocumentId,
        from: &mut dyn Read,
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Stored, SdkError> {
        fs::create_dir_all(self.dir(document)).map_err(|e| io("creating a folder", e))?;
        let part = self
            .dir(document)
            .join(format!("import-{}.part", random_hex()));
        let result = self.import_into(&part, from, limit);
        let (sha256, size, mime) = match result {
            Ok(done) => done,
            Err(e) => {
                let _ = fs::remove_file(&part);
                return Err(e);
            }
        };
        let key = BlobKey { document, sha256 };
        let (meta, fresh) = match self.meta(&key)? {
            // The same file attached again: one copy.
            Some(meta) if self.has_bytes(&key) => {
                let _ = fs::remove_file(&part);
                (meta, false)
            }
            _ => {
                fs::rename(&part, self.path(&key, "blob")).map_err(|e| io("storing", e))?;
                let meta = LocalMeta {
                    size,
                    mime: mime.to_owned(),
                    uploaded: false,
                    refused: None,
                    used_at: nanos(now),
                };
                self.put_meta(&key, &meta)?;
                (meta, true)
            }
        };
        sync_dir(&self.dir(document))?;
        Ok(Stored { key, meta, fresh })
    }

    fn import_into(
        &self,
        part: &Path,
        from: &mut dyn Read,
        limit: u64,
    ) -> Result<([u8; 32], u64, &'static str), SdkError> {
        let mut writer = PieceWriter::create(part, &self.cipher)?;
        let mut buf = vec![0u8; PIECE];
        let mut mime = None;
        loop {
            let n = read_full(from, &mut buf).map_err(|e| io("reading the file", e))?;
            if n == 0 {
                break;
            }
            if writer.size + n as u64 > limit {
                return Err(SdkError::AttachmentTooLarge {
                    size: writer.size + n as u64,
                    limit,
                });
            }
            if mime.is_none() {
                mime =
                    Some(sniff_mime(&buf[..n.min(SNIFF_BYTES)]).ok_or(SdkError::AttachmentType)?);
            }
            writer.push(&buf[..n])?;
        }
        let mime = mime.ok_or(SdkError::AttachmentType)?;
        let (sha256, size) = writer.finish()?;
        Ok((sha256, size, mime))
    }

    /// A download of `key` in progress: resumed from what an earlier one left, or new.
    pub fn begin_download(&self, key: &BlobKey) -> Result<PieceWriter, SdkError> {
        fs::create_dir_all(self.dir(key.document)).map_err(|e| io("creating a folder", e))?;
        PieceWriter::resume(&self.path(key, "part"), &self.cipher)
    }

    /// Makes a finished, verified download the blob (the server has it: never waits for upload).
    pub fn finish_download(
        &self,
        key: &BlobKey,
        writer: PieceWriter,
        mime: &str,
        now: DateTime<Utc>,
    ) -> Result<LocalMeta, SdkError> {
        let (sha256, size) = writer.finish()?;
        let part = self.path(key, "part");
        if sha256 != key.sha256 {
            let _ = fs::remove_file(&part);
            return Err(SdkError::AttachmentCorrupt(key.hex()));
        }
        fs::rename(&part, self.path(key, "blob")).map_err(|e| io("storing", e))?;
        let meta = LocalMeta {
            size,
            mime: mime.to_owned(),
            uploaded: true,
            refused: None,
            used_at: nanos(now),
        };
        self.put_meta(key, &meta)?;
        sync_dir(&self.dir(key.document))?;
        Ok(meta)
    }

    /// Discards an unfinished download.
    pub fn abandon_download(&self, key: &BlobKey) {
        let _ = fs::remove_file(self.path(key, "part"));
    }

    /// Reads a stored blob from its start, piece by piece.
    pub fn reader(&self, key: &BlobKey) -> Result<BlobReader, SdkError> {
        let meta = self
            .meta(key)?
            .filter(|_| self.has_bytes(key))
            .ok_or_else(|| SdkError::AttachmentNotCached(key.hex()))?;
        let mut file = File::open(self.path(key, "blob")).map_err(|e| io("opening", e))?;
        let mut id = [0u8; HEADER];
        file.read_exact(&mut id).map_err(|e| io("opening", e))?;
        Ok(BlobReader {
            file,
            cipher: self.cipher.clone(),
            id,
            key: *key,
            size: meta.size,
            index: 0,
            piece: Vec::new(),
            at: 0,
        })
    }

    /// Every blob's record on the device.
    pub fn all(&self) -> Result<Vec<(BlobKey, LocalMeta)>, SdkError> {
        let mut out = Vec::new();
        let Ok(cases) = fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for case in cases.flatten() {
            let Some(document) = case
                .file_name()
                .to_str()
                .and_then(|n| DocumentId::parse(n).ok())
            else {
                continue;
            };
            for entry in fs::read_dir(case.path()).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".meta")) else {
                    continue;
                };
                let mut sha256 = [0u8; 32];
                if hex::decode_to_slice(hex, &mut sha256).is_err() {
                    continue;
                }
                let key = BlobKey { document, sha256 };
                if let Some(meta) = self.meta(&key)? {
                    out.push((key, meta));
                }
            }
        }
        Ok(out)
    }

    /// Removes a blob's bytes and record.
    pub fn remove(&self, key: &BlobKey) -> Result<(), SdkError> {
        for ext in ["blob", "meta", "part"] {
            match fs::remove_file(self.path(key, ext)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("removing", e))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes every blob of a case (it left the device).
    pub fn remove_document(&self, document: DocumentId) -> Result<(), SdkError> {
        match fs::remove_dir_all(self.dir(document)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing", e)),
            _ => Ok(()),
        }
    }
}

/// Which blobs go when those not used since `cutoff` (Unix nanoseconds) are evicted: only
/// those the server holds, never one still waiting for upload (or refused by it).
pub fn to_evict(blobs: &[(BlobKey, LocalMeta)], cutoff: i64) -> Vec<BlobKey> {
    blobs
        .iter()
        .filter(|(_, meta)| meta.uploaded && meta.used_at <= cutoff)
        .map(|(key, _)| *key)
        .collect()
}

/// Writes sealed pieces to a `.part` file and hashes what it is given.
#[derive(Debug)]
pub struct PieceWriter {
    file: File,
    cipher: Cipher,
    id: [u8; HEADER],
    index: u32,
    buf: Vec<u8>,
    hasher: Sha256,
    /// Bytes taken so far (written pieces and the one being filled).
    pub size: u64,
}

impl PieceWriter {
    fn create(path: &Path, cipher: &Cipher) -> Result<Self, SdkError> {
        let mut id = [0u8; HEADER];
        rand::fill(&mut id[..]);
        let mut file = File::create(path).map_err(|e| io("creating", e))?;
        file.write_all(&id).map_err(|e| io("writing", e))?;
        Ok(Self {
            file,
            cipher: cipher.clone(),
            id,
            index: 0,
            buf: Vec::with_capacity(PIECE),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Opens `path` to continue after its whole pieces (hashing them again), or creates it.
    fn resume(path: &Path, cipher: &Cipher) -> Result<Self, SdkError> {
        let Ok(mut file) = OpenOptions::new().read(true).write(true).open(path) else {
            return Self::create(path, cipher);
        };
        let mut id = [0u8; HEADER];
        if file.read_exact(&mut id).is_err() {
            return Self::create(path, cipher);
        }
        let mut writer = Self {
            file,
            cipher: cipher.clone(),
            id,
            index: 0,
            buf: Vec::with_capacity(PIECE),
            hasher: Sha256::new(),
            size: 0,
        };
        let mut sealed = vec![0u8; PIECE + SEAL_OVERHEAD];
        while writer.file.read_exact(&mut sealed).is_ok() {
            let Ok(plain) = writer.cipher.open(&piece_aad(&id, writer.index), &sealed) else {
                break;
            };
            writer.hasher.update(&plain);
            writer.size += plain.len() as u64;
            writer.index += 1;
        }
        let end = HEADER as u64 + u64::from(writer.index) * (PIECE + SEAL_OVERHEAD) as u64;
        writer.file.set_len(end).map_err(|e| io("resuming", e))?;
        writer
            .file
            .seek(SeekFrom::Start(end))
            .map_err(|e| io("resuming", e))?;
        Ok(writer)
    }

    /// Takes more bytes; whole pieces are sealed and written as they fill.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<(), SdkError> {
        while !bytes.is_empty() {
            let take = (PIECE - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            self.hasher.update(&bytes[..take]);
            self.size += take as u64;
            bytes = &bytes[take..];
            if self.buf.len() == PIECE {
                self.write_piece()?;
            }
        }
        Ok(())
    }

    fn write_piece(&mut self) -> Result<(), SdkError> {
        let sealed = self
            .cipher
            .seal(&piece_aad(&self.id, self.index), &self.buf)
            .map_err(|_| io("sealing", "piece too long"))?;
        self.file.write_all(&sealed).map_err(|e| io("writing", e))?;
        self.index += 1;
        self.buf.clear();
        Ok(())
    }

    /// Writes the last piece, makes the file durable and returns the hash and size.
    pub fn finish(mut self) -> Result<([u8; 32], u64), SdkError> {
        if !self.buf.is_empty() {
            self.write_piece()?;
        }
        self.file.sync_all().map_err(|e| io("writing", e))?;
        Ok((self.hasher.finalize().into(), self.size))
    }
}

fn piece_aad(id: &[u8; HEADER], index: u32) -> Vec<u8> {
    [
        b"kooperacja-attachment-piece".as_slice(),
        id,
        &index.to_be_bytes(),
    ]
    .concat()
}

/// A stored blob's plaintext, decrypted one piece at a time ([`Read`]).
#[derive(Debug)]
pub struct BlobReader {
    file: File,
    cipher: Cipher,
    id: [u8; HEADER],
    key: BlobKey,
    size: u64,
    index: u32,
    piece: Vec<u8>,
    at: usize,
}

impl BlobReader {
    /// The blob's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves to plaintext `offset` (the start of an upload's rest).
    pub fn seek_to(&mut self, offset: u64) -> Result<(), SdkError> {
        let index = u32::try_from(offset / PIECE as u64).map_err(|e| io("seeking", e))?;
        let at = HEADER as u64 + u64::from(index) * (PIECE + SEAL_OVERHEAD) as u64;
        self.file
            .seek(SeekFrom::Start(at))
            .map_err(|e| io("seeking", e))?;
        self.index = index;
        self.piece.clear();
        self.at = 0;
        if offset % PIECE as u64 != 0 {
            self.next_piece()?;
            self.at = (offset % PIECE as u64) as usize;
        }
        Ok(())
    }

    /// The next plaintext piece (from the current offset within it), empty at the end.
    pub fn next_chunk(&mut self) -> Result<Vec<u8>, SdkError> {
        if self.at >= self.piece.len() && !self.next_piece()? {
            return Ok(Vec::new());
        }
        let chunk = self.piece[self.at..].to_vec();
        self.at = self.piece.len();
        Ok(chunk)
    }

    fn next_piece(&mut self) -> Result<bool, SdkError> {
        let read = u64::from(self.index) * PIECE as u64;
        if read >= self.size {
            return Ok(false);
        }
        let len = (self.size - read).min(PIECE as u64) as usize + SEAL_OVERHEAD;
        let mut sealed = vec![0u8; len];
        self.file
            .read_exact(&mut sealed)
            .map_err(|e| io("reading", e))?;
        self.piece = self
            .cipher
            .open(&piece_aad(&self.id, self.index), &sealed)
            .map_err(|_| SdkError::AttachmentCorrupt(self.key.hex()))?;
        self.index += 1;
        self.at = 0;
        Ok(true)
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.piece.len() && !self.next_piece().map_err(std::io::Error::other)? {
            return Ok(0);
        }
        let n = out.len().min(self.piece.len() - self.at);
        out[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads until `buf` is full or the end.
fn read_full(from: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match from.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes[..]);
    hex::encode(bytes)
}

fn sync_dir(dir: &Path) -> Result<(), SdkError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing a folder", e))
}
