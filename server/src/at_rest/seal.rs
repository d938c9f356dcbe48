//! The sealed formats: a chunk sealed under its document's key, and a document key wrapped by
//! the master key. Both are XChaCha20-Poly1305 with a random 192-bit nonce per value and
//! associated data that binds the value to where it is stored (a chunk moved to another
//! document or key, or a wrapped key moved to another document, fails to open).
//!
//! A sealed chunk is `MAGIC (4 bytes) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. Automerge chunks
//! begin with Automerge's own magic bytes (`85 6f 4a 83`), never with [`MAGIC`], so a chunk
//! written before encryption at rest is told apart from a sealed one (see [`is_sealed`]).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sync_core::storage::ChunkKey;
use sync_core::{DocumentId, StorageError};

use crate::secrets::{Key, KEY_LEN};

/// The first bytes of every sealed chunk ("Kooperacja sealed, version 1").
pub const MAGIC: [u8; 4] = *b"KSv1";
const NONCE: usize = 24;
const TAG: usize = 16;
/// What the master key's associated data starts with (then the document id).
const WRAP_CONTEXT: &[u8] = b"kooperacja document key v1 ";

/// Whether stored bytes are a sealed chunk (else: plaintext written before encryption at rest).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// An AEAD built from a key.
pub fn aead(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.bytes().into())
}

fn chunk_aad(document: DocumentId, key: &ChunkKey) -> [u8; 49] {
    let mut aad = [0u8; 49];
    aad[..16].copy_from_slice(document.as_bytes());
    aad[16..].copy_from_slice(&key.to_bytes());
    aad
}

fn wrap_aad(document: DocumentId) -> Vec<u8> {
    [WRAP_CONTEXT, document.as_bytes()].concat()
}

/// `prefix ‖ nonce ‖ ciphertext ‖ tag` of `plain` under a fresh random nonce.
fn encrypt(
    aead: &XChaCha20Poly1305,
    prefix: &[u8],
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let mut nonce = [0u8; NONCE];
    rand::fill(&mut nonce[..]);
    let body = aead
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| StorageError::Io("a chunk is too large to encrypt".into()))?;
    let mut out = Vec::with_capacity(prefix.len() + NONCE + body.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens `nonce ‖ ciphertext ‖ tag`; `None` when it does not open with this key and `aad`.
fn decrypt(aead: &XChaCha20Poly1305, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE + TAG {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE);
    aead.decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .ok()
}

/// Seals one chunk of `document` under the document's key.
pub fn seal_chunk(
    doc_key: &XChaCha20Poly1305,
    document: DocumentId,
    key: &ChunkKey,
    plain: &[u8],
) -> Result<Vec<u8>, StorageError> {
    encrypt(doc_key, &MAGIC, &chunk_aad(document, key), plain)
}

/// Opens a chunk made by [`seal_chunk`] for the same document and chunk key.
pub fn open_chunk(
    doc_key: &XChaCha20Poly1305,
    document: DocumentId,
    key: &ChunkKey,
    sealed: &[u8],
) -> Result<Vec<u8>, StorageError> {
    sealed
        .strip_prefix(&MAGIC)
        .and_then(|body| decrypt(doc_key, &chunk_aad(document, key), body))
        .ok_or_else(|| {
            StorageError::Corrupt(format!(
                "chunk {key:?} of {document} does not open with its document's key"
            ))
        })
}

/// What a piece of an attachment's associated data starts with (then document, hash, index).
const PIECE_CONTEXT: &[u8] = b"kooperacja attachment piece v1 ";

fn piece_aad(document: DocumentId, sha256: &[u8; 32], index: u32) -> Vec<u8> {
    [
        PIECE_CONTEXT,
        document.as_bytes(),
        sha256,
        &index.to_be_bytes(),
    ]
    .concat()
}

/// Seals piece `index` of the attachment `sha256` of `document` under the document's key (a
/// piece moved to another attachment, document or place fails to open).
pub fn seal_piece(
    doc_key: &XChaCha20Poly1305,
    document: DocumentId,
    sha256: &[u8; 32],
    index: u32,
    plain: &[u8],
) -> Result<Vec<u8>, StorageError> {
    encrypt(doc_key, &MAGIC, &piece_aad(document, sha256, index), plain)
}

/// Opens a piece made by [`seal_piece`] for the same attachment and index.
pub fn open_piece(
    doc_key: &XChaCha20Poly1305,
    document: DocumentId,
    sha256: &[u8; 32],
    index: u32,
    sealed: &[u8],
) -> Result<Vec<u8>, StorageError> {
    sealed
        .strip_prefix(&MAGIC)
        .and_then(|body| decrypt(doc_key, &piece_aad(document, sha256, index), body))
        .ok_or_else(|| {
            StorageError::Corrupt(format!(
                "piece {index} of an attachment of {document} does not open with its key"
            ))
        })
}

/// Wraps a document key with the master key.
pub fn wrap_key(
    master: &XChaCha20Poly1305,
    document: DocumentId,
    key: &Key,
) -> Result<Vec<u8>, StorageError> {
    encrypt(master, &[], &wrap_aad(document), key.bytes())
}

/// Unwraps a key made by [`wrap_key`] for the same document.
pub fn unwrap_key(
    master: &XChaCha20Poly1305,
    document: DocumentId,
    wrapped: &[u8],
) -> Result<Key, StorageError> {
    let bytes = decrypt(master, &wrap_aad(document), wrapped).ok_or_else(|| {
        StorageError::Corrupt(format!(
            "the key of {document} does not open with this master key (another region's \
             secrets directory?)"
        ))
    })?;
    let bytes: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("the key of {document} is not 32 bytes")))?;
    Ok(Key::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_opens_only_where_it_was_sealed() {
        let (doc, other) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        let cipher = aead(&Key::random());
        let key = ChunkKey::incremental(b"chunk");
        let sealed = seal_chunk(&cipher, doc, &key, b"Kowalska, ul. Polna 3").expect("seal");
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(8).any(|w| w == b"Kowalska"));
        assert_eq!(
            open_chunk(&cipher, doc, &key, &sealed).expect("open"),
            b"Kowalska, ul. Polna 3"
        );
        assert!(open_chunk(&cipher, other, &key, &sealed).is_err());
        let other_key = ChunkKey::incremental(b"other");
        assert!(open_chunk(&cipher, doc, &other_key, &sealed).is_err());
        assert!(open_chunk(&aead(&Key::random()), doc, &key, &sealed).is_err());
    }

    #[test]
    fn a_wrapped_key_needs_the_master_key_and_its_document() {
        let (master, doc_key) = (aead(&Key::random()), Key::random());
        let doc = DocumentId::from_bytes([3; 16]);
        let wrapped = wrap_key(&master, doc, &doc_key).expect("wrap");
        assert_eq!(unwrap_key(&master, doc, &wrapped).expect("unwrap"), doc_key);
        assert!(unwrap_key(&master, DocumentId::from_bytes([4; 16]), &wrapped).is_err());
        assert!(unwrap_key(&aead(&Key::random()), doc, &wrapped).is_err());
    }
}
