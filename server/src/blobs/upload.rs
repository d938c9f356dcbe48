//! One upload request's writer: appends a range of bytes to a blob piece by piece, sniffs the
//! type from the first bytes, and accepts the blob when the last byte arrived and the hash of
//! everything matches its name. Every method blocks (the store is written as pieces fill).

use std::sync::Arc;

use chacha20poly1305::XChaCha20Poly1305;
use sha2::{Digest, Sha256};

use super::sniff::{sniff, SNIFF_BYTES};
use super::{BlobId, Blobs, Claim, Meta, PIECE};
use crate::at_rest::seal;
use crate::error::ServerError;

/// Why an upload is refused (the API turns each into a status and a Polish message).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The announced size is over the limit.
    #[error("Plik jest za duży: {size} B, a limit to {limit} B.")]
    TooLarge {
        /// Announced.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The announced size differs from the one this upload started with.
    #[error("Rozmiar pliku różni się od podanego na początku wysyłania ({0} B).")]
    SizeChanged(u64),
    /// The range starts after the bytes received.
    #[error("Wysyłanie musi być wznowione od bajtu {0}.")]
    Gap(u64),
    /// Another upload of this blob is running.
    #[error("Ten plik jest właśnie wysyłany; spróbuj ponownie za chwilę.")]
    Busy,
    /// Not an allowed type.
    #[error("{}", super::sniff::REFUSED)]
    Type,
    /// The disk is below its reserve (what arrived before stays; the upload resumes later).
    #[error(
        "Dysk serwera jest pełny: plik zostanie dosłany, gdy administrator zwolni miejsce ({0})."
    )]
    DiskFull(String),
    /// The bytes do not hash to the name.
    #[error(
        "Plik nie zgadza się ze skrótem SHA-256 podanym w adresie; wyślij go ponownie od początku."
    )]
    Hash,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ServerError),
}

/// Appends to one blob.
pub struct Writer {
    blobs: Blobs,
    id: BlobId,
    key: Arc<XChaCha20Poly1305>,
    /// The record, as written so far.
    pub meta: Meta,
    /// The piece being filled: its bytes from its start.
    buf: Vec<u8>,
    index: u32,
    /// The hash of every byte so far, when this request's upload started at byte 0 (else the
    /// pieces are read back to verify the blob).
    hasher: Option<Sha256>,
    _claim: Claim,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("id", &self.id)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts (or resumes) the upload of `id`, announced as `size` bytes, by `by`.
    pub fn begin(
        blobs: &Blobs,
        id: BlobId,
        key: Arc<XChaCha20Poly1305>,
        size: u64,
        by: &str,
        now: i64,
    ) -> Result<Self, Refusal> {
        if size > blobs.limit {
            return Err(Refusal::TooLarge {
                size,
                limit: blobs.limit,
            });
        }
        let claim = blobs.claim(id).ok_or(Refusal::Busy)?;
        let meta = match blobs.meta(&id)? {
            Some(meta) if meta.size != size => return Err(Refusal::SizeChanged(meta.size)),
            Some(meta) => meta,
            None => Meta {
                size,
                started: now,
                by: by.to_owned(),
                ..Meta::default()
            },
        };
        let index = piece_of(meta.received)?;
        let filled = (meta.received % PIECE as u64) as usize;
        let mut buf = Vec::with_capacity(PIECE);
        if filled > 0 {
            let mut piece = blobs.read_piece(&id, &key, index)?;
            piece.truncate(filled);
            buf = piece;
        }
        Ok(Self {
            blobs: blobs.clone(),
            id,
            key,
            hasher: (meta.received == 0).then(Sha256::new),
            meta,
            buf,
            index,
            _claim: claim,
        })
    }

    /// Appends `bytes` (which continue at `meta.received`); bytes past the announced size are
    /// ignored. A refused type removes what was received.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<(), Refusal> {
        while !bytes.is_empty() && self.meta.received < self.meta.size {
            let room = PIECE - self.buf.len();
            let left = (self.meta.size - self.meta.received) as usize;
            let take = room.min(bytes.len()).min(left);
            self.buf.extend_from_slice(&bytes[..take]);
            if let Some(hasher) = self.hasher.as_mut() {
                hasher.update(&bytes[..take]);
            }
            bytes = &bytes[take..];
            self.meta.received += take as u64;
            self.check_type()?;
            if self.buf.len() == PIECE {
                self.write_piece()?;
                self.index += 1;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Writes the piece being filled (not yet durable, nor counted in the record).
    fn write_piece(&mut self) -> Result<(), Refusal> {
        self.blobs
            .room()
            .map_err(|e| Refusal::DiskFull(e.to_string()))?;
        let sealed = seal::seal_piece(
            &self.key,
            self.id.document,
            &self.id.sha256,
            self.index,
            &self.buf,
        )
        .map_err(ServerError::from)?;
        Ok(self.blobs.backend.put_piece(&self.id, self.index, sealed)?)
    }

    fn check_type(&mut self) -> Result<(), Refusal> {
        let wanted = SNIFF_BYTES.min(self.meta.size as usize);
        if self.index != 0 || self.meta.mime.is_some() || self.buf.len() < wanted {
            return Ok(());
        }
        match sniff(&self.buf) {
            Some(mime) => {
                self.meta.mime = Some(mime.to_owned());
                Ok(())
            }
            None => {
                self.blobs.backend.remove(&self.id)?;
                self.meta = Meta::default();
                self.buf.clear();
                Err(Refusal::Type)
            }
        }
    }

    /// Writes the piece being filled, makes every piece durable, then the record that counts
    /// them (call when a request ends, however): the record never counts a byte a crash could
    /// lose.
    fn save(&mut self) -> Result<(), Refusal> {
        if !self.buf.is_empty() {
            self.write_piece()?;
        }
        self.blobs
            .room()
            .map_err(|e| Refusal::DiskFull(e.to_string()))?;
        self.blobs.backend.sync_pieces(&self.id)?;
        self.blobs.put_meta(&self.id, &self.meta)?;
        Ok(self.blobs.backend.flush_meta()?)
    }

    /// When every byte arrived: verifies the hash (reading the pieces back one at a time) and
    /// accepts the blob, or removes it. Returns the record.
    pub fn finish(mut self) -> Result<Meta, Refusal> {
        self.save()?;
        if self.meta.complete || self.meta.received < self.meta.size {
            return Ok(self.meta);
        }
        if self.meta.mime.is_none() {
            // A file shorter than the sniffed prefix.
            self.check_type()?;
        }
        let hasher = match self.hasher.take() {
            Some(hasher) => hasher,
            None => {
                let mut hasher = Sha256::new();
                for index in 0..=piece_of(self.meta.size.saturating_sub(1))? {
                    hasher.update(self.blobs.read_piece(&self.id, &self.key, index)?);
                }
                hasher
            }
        };
        if hasher.finalize().as_slice() != self.id.sha256 {
            self.blobs.backend.remove(&self.id)?;
            return Err(Refusal::Hash);
        }
        self.meta.complete = true;
        self.blobs.put_meta(&self.id, &self.meta)?;
        self.blobs.backend.flush_meta()?;
        Ok(self.meta)
    }
}

fn piece_of(offset: u64) -> Result<u32, ServerError> {
    u32::try_from(offset / PIECE as u64)
        .map_err(|_| ServerError::Invalid("an attachment this large is not kept".into()))
}
