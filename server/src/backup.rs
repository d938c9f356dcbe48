//! Backup files: the store's backup ([`sync_core::storage::SledStorage::backup_into`]), then
//! the accepted attachments' pieces from their files ([`crate::blobs::carry`]; a restore puts
//! them back in sled's format and the server moves them into files when it opens the store),
//! encrypted and authenticated with the operator's backup key, a 32-byte key in a file of its
//! own (`--backup-key-file`, 64 hex digits, `0600`) kept apart from the backups.
//!
//! The format: `KOOPENC1`, a random 19-byte nonce prefix, then chunks of at most
//! [`CHUNK`] bytes, each a 4-byte big-endian length and the chunk sealed with
//! XChaCha20-Poly1305 in the STREAM construction (each chunk's nonce holds its counter and
//! whether it is the last, so chunks cannot be reordered, dropped or the file cut short
//! unnoticed); the header is every chunk's associated data. The file is created `0600`.
//!
//! A restore first reads the whole file once to check every chunk, so a wrong key or a
//! tampered file is refused before anything is written.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use sync_core::storage::SledStorage;

use crate::error::ServerError;
use crate::secrets::Key;
use crate::store::DocStore;

/// The first bytes of an encrypted backup.
pub const MAGIC: &[u8; 8] = b"KOOPENC1";
/// Plaintext bytes per sealed chunk.
pub const CHUNK: usize = 64 * 1024;
const NONCE_PREFIX: usize = 19;
const HEADER: usize = MAGIC.len() + NONCE_PREFIX;
const TAG: usize = 16;

/// What an operator is told when no backup key is given.
pub const NO_KEY: &str = "a backup is encrypted with a backup key kept apart from the backups: \
    give --backup-key-file FILE (or KOOPERACJA_BACKUP_KEY_FILE), a file holding 64 hex digits \
    (e.g. `openssl rand -hex 32 > backup.key && chmod 600 backup.key`); keep a copy offline, \
    without it no backup can be restored";

fn cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.bytes().into())
}

fn refused() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the backup does not open with this backup key: wrong key, or the file was changed or \
         cut short",
    )
}

/// Writes sealed chunks to the inner writer; [`Self::finish`] seals the last.
struct Sealing<W: Write> {
    inner: W,
    header: [u8; HEADER],
    stream: EncryptorBE32<XChaCha20Poly1305>,
    pending: Vec<u8>,
}

impl<W: Write> Sealing<W> {
    fn new(mut inner: W, key: &Key) -> std::io::Result<Self> {
        let mut header = [0u8; HEADER];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        rand::fill(&mut header[MAGIC.len()..]);
        inner.write_all(&header)?;
        let stream = EncryptorBE32::from_aead(
            cipher(key),
            GenericArray::from_slice(&header[MAGIC.len()..]),
        );
        Ok(Self {
            inner,
            header,
            stream,
            pending: Vec::with_capacity(CHUNK),
        })
    }

    fn finish(self) -> std::io::Result<W> {
        let Self {
            mut inner,
            header,
            stream,
            pending,
        } = self;
        let sealed = stream
            .encrypt_last(Payload {
                msg: &pending,
                aad: &header,
            })
            .map_err(|_| std::io::Error::other("sealing the backup failed"))?;
        put(&mut inner, &sealed)?;
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for Sealing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        // A full chunk is sealed once more follows: the last one is sealed by `finish`.
        while self.pending.len() > CHUNK {
            let rest = self.pending.split_off(CHUNK);
            let chunk = std::mem::replace(&mut self.pending, rest);
            let sealed = self
                .stream
                .encrypt_next(Payload {
                    msg: &chunk,
                    aad: &self.header,
                })
                .map_err(|_| std::io::Error::other("sealing the backup failed"))?;
            put(&mut self.inner, &sealed)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes one sealed chunk with its length.
fn put(out: &mut impl Write, sealed: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(sealed.len()).map_err(|_| refused())?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(sealed)
}

/// Reads and opens sealed chunks; an error at the first chunk that does not open.
struct Opening<R: BufRead> {
    inner: R,
    header: [u8; HEADER],
    stream: Option<DecryptorBE32<XChaCha20Poly1305>>,
    plain: Vec<u8>,
    at: usize,
}

impl<R: BufRead> Opening<R> {
    fn new(mut inner: R, key: &Key) -> std::io::Result<Self> {
        let mut header = [0u8; HEADER];
        inner.read_exact(&mut header).map_err(|_| not_a_backup())?;
        if &header[..MAGIC.len()] != MAGIC {
            return Err(not_a_backup());
        }
        let stream = DecryptorBE32::from_aead(
            cipher(key),
            GenericArray::from_slice(&header[MAGIC.len()..]),
        );
        Ok(Self {
            inner,
            header,
            stream: Some(stream),
            plain: Vec::new(),
            at: 0,
        })
    }

    /// Opens the next chunk into `plain`; `false` after the last.
    fn next_chunk(&mut self) -> std::io::Result<bool> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(false);
        };
        let mut len = [0u8; 4];
        self.inner.read_exact(&mut len).map_err(|_| refused())?;
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + TAG {
            return Err(refused());
        }
        let mut sealed = vec![0u8; len];
        self.inner.read_exact(&mut sealed).map_err(|_| refused())?;
        let payload = Payload {
            msg: &sealed,
            aad: &self.header,
        };
        let plain = if self.inner.fill_buf()?.is_empty() {
            let stream = self.stream.take().ok_or_else(refused)?;
            stream.decrypt_last(payload)
        } else {
            stream.decrypt_next(payload)
        };
        self.plain = plain.map_err(|_| refused())?;
        self.at = 0;
        Ok(true)
    }
}

impl<R: BufRead> Read for Opening<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.plain.len() {
            if !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.plain.len() - self.at);
        out[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn not_a_backup() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "not an encrypted Kooperacja backup (KOOPENC1); a file starting KOOPBAK1 is an \
         unencrypted backup of an older version: restore it with that version, then take an \
         encrypted backup",
    )
}

/// Writes an encrypted backup of `store` and of the blob files of the data directory
/// `data_dir` to a new file `path` (`0600`); the number of entries.
pub fn write(
    store: &SledStorage,
    data_dir: &Path,
    path: &Path,
    key: &Key,
) -> Result<u64, ServerError> {
    let context = || format!("writing the backup {}", path.display());
    let file = crate::secrets::create_private_file(path)?;
    let sealing =
        Sealing::new(BufWriter::new(file), key).map_err(|e| ServerError::io(context(), e))?;
    let (mut sealing, entries) = store.backup_into(sealing)?;
    let files = crate::blobs::files::Files::new(data_dir);
    let pieces = crate::blobs::carry::write_backup_section(store.db(), &files, &mut sealing)?;
    let entries = entries + pieces;
    let file = sealing
        .finish()
        .and_then(|out| out.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| ServerError::io(context(), e))?;
    file.sync_all().map_err(|e| ServerError::io(context(), e))?;
    Ok(entries)
}

/// [`write`] for the server's store; a PostgreSQL store is backed up with its own tools.
pub fn write_store(
    store: &DocStore,
    data_dir: &Path,
    path: &Path,
    key: &Key,
) -> Result<u64, ServerError> {
    match store {
        DocStore::Sled(s) => write(s, data_dir, path, key),
        DocStore::Pg(_) => Err(ServerError::Invalid(
            "this region's store is PostgreSQL: back it up with pg_basebackup or pg_dump \
             (see README: production sketch)"
                .into(),
        )),
    }
}

/// Restores the encrypted backup `path` into a new store at `dir`: checks every chunk first,
/// so nothing is written from a file that does not open with `key`.
pub fn restore(path: &Path, dir: &Path, key: &Key) -> Result<SledStorage, ServerError> {
    let open = || -> Result<Opening<BufReader<File>>, ServerError> {
        let file = File::open(path)
            .map_err(|e| ServerError::io(format!("reading {}", path.display()), e))?;
        Opening::new(BufReader::new(file), key).map_err(|e| refusal(path, e))
    };
    std::io::copy(&mut open()?, &mut std::io::sink()).map_err(|e| refusal(path, e))?;
    if let Some(parent) = dir.parent() {
        crate::secrets::create_private_dir(parent)?;
    }
    Ok(SledStorage::restore_from_reader(open()?, dir)?)
}

fn refusal(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Invalid(format!("{}: {e}; nothing was restored", path.display()))
}

/// Reads the backup key file named by the operator, or explains how to make one.
pub fn key(file: Option<&Path>) -> Result<Key, ServerError> {
    let file = file.ok_or_else(|| ServerError::Config(NO_KEY.into()))?;
    crate::secrets::read_key_file(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(plain: &[u8], key: &Key) -> Vec<u8> {
        let mut sealing = Sealing::new(Vec::new(), key).expect("header");
        for piece in plain.chunks(1000) {
            sealing.write_all(piece).expect("sealed");
        }
        sealing.finish().expect("finished")
    }

    fn opened(file: &[u8], key: &Key) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Opening::new(file, key)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn chunks_open_only_whole_in_order_and_with_the_key() {
        let key = Key::random();
        let plain: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let file = sealed(&plain, &key);
        assert_eq!(opened(&file, &key).expect("opens"), plain);
        assert!(opened(&file, &Key::random()).is_err(), "another key");
        let record = 4 + CHUNK + TAG;
        assert!(opened(&file[..HEADER + record], &key).is_err(), "cut short");
        let mut flipped = file.clone();
        flipped[HEADER + 100] ^= 1;
        assert!(opened(&flipped, &key).is_err(), "a changed byte");
        let mut swapped = file[..HEADER].to_vec();
        swapped.extend_from_slice(&file[HEADER + record..HEADER + 2 * record]);
        swapped.extend_from_slice(&file[HEADER..HEADER + record]);
        swapped.extend_from_slice(&file[HEADER + 2 * record..]);
        assert!(opened(&swapped, &key).is_err(), "chunks reordered");
        assert_eq!(opened(&sealed(b"", &key), &key).expect("empty"), b"");
    }
}
