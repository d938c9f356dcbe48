//! The stored form of changes: whether the bytes peers sent can be stored as they arrived, the
//! hashes of raw change chunks, and loading a stored document.

use std::collections::HashSet;

use automerge::{Automerge, ChangeHash};

use crate::error::StorageError;
use crate::storage::StoredDocument;

/// The received chunks, concatenated, if they can be stored as the increment instead of what
/// `save_after` would rebuild (12 % of the server's instructions under load, callgrind).
///
/// Only when they are certainly sound and complete: the bytes split exactly into uncompressed
/// change chunks whose checksums hold ([`change_hashes`]), every one of them is now part of the
/// document (automerge applies the good prefix of a damaged batch and carries on; a damaged
/// chunk hashes to nothing the document holds, and such bytes must never reach the store),
/// nothing waits in automerge's queue for a dependency, and every change new to the document is
/// among them (one that waited in the queue came in an earlier batch). Duplicates of known
/// changes are harmless on load.
pub(super) fn stored_as_received(
    am: &Automerge,
    received: &[Vec<u8>],
    new_changes: &[ChangeHash],
) -> Option<Vec<u8>> {
    if received.is_empty() || new_changes.is_empty() {
        return None;
    }
    let mut hashes = Vec::with_capacity(received.len());
    for chunk in received {
        hashes.extend(change_hashes(chunk)?);
    }
    if !automerge::ReadDoc::get_missing_deps(am, &hashes).is_empty() {
        return None;
    }
    let sent: HashSet<&ChangeHash> = hashes.iter().collect();
    if !new_changes.iter().all(|h| sent.contains(h)) {
        return None;
    }
    Some(received.concat())
}

/// The hashes of the change chunks `bytes` consists of, or `None` if it is anything else
/// (a document or compressed chunk, a bad checksum, a truncated or trailing piece).
///
/// automerge's storage format: each chunk is the magic bytes `85 6f 4a 83`, a 4-byte checksum,
/// a type byte (1: change), a ULEB128 length and that many bytes; the change's hash is the
/// SHA-256 of the type byte, the length and the bytes, and the checksum its first four bytes.
pub(super) fn change_hashes(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    use sha2::{Digest, Sha256};
    change_chunks(bytes)?
        .into_iter()
        .map(|chunk| {
            let digest: [u8; 32] = Sha256::digest(chunk.hashed).into();
            (digest[..4] == *chunk.checksum).then_some(ChangeHash(digest))
        })
        .collect()
}

/// One change chunk of automerge's storage format, as it arrived.
pub(crate) struct ChangeChunk<'a> {
    /// The whole chunk, magic bytes included.
    pub(crate) whole: &'a [u8],
    /// The checksum: the first four bytes of the change's hash.
    pub(crate) checksum: &'a [u8],
    /// What the change's hash is taken over: the type byte, the length and the body.
    pub(crate) hashed: &'a [u8],
}

/// The change chunks `bytes` consists of (see [`change_hashes`] for the format); `None` for
/// anything else: another chunk type, a bad length, trailing bytes.
pub(crate) fn change_chunks(mut bytes: &[u8]) -> Option<Vec<ChangeChunk<'_>>> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    const CHANGE: u8 = 1;
    let mut chunks = Vec::new();
    while !bytes.is_empty() {
        let (magic, rest) = bytes.split_at_checked(4)?;
        let (checksum, hashed_from) = rest.split_at_checked(4)?;
        let (kind, rest) = hashed_from.split_first()?;
        if magic != MAGIC || *kind != CHANGE {
            return None;
        }
        let (len, rest) = uleb128(rest)?;
        // Type, length and body as they arrived: a length written other than automerge
        // writes it hashes to nothing the document holds.
        let header = hashed_from.len() - rest.len();
        let end = header.checked_add(usize::try_from(len).ok()?)?;
        let (hashed, after) = hashed_from.split_at_checked(end)?;
        chunks.push(ChangeChunk {
            whole: &bytes[..8 + hashed.len()],
            checksum,
            hashed,
        });
        bytes = after;
    }
    Some(chunks)
}

/// An unsigned LEB128 number at the start of `bytes`, and what follows it.
fn uleb128(mut bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (byte, after) = bytes.split_first()?;
        bytes = after;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((value, bytes));
        }
    }
    None
}

/// Loads a stored document from its chunks (snapshots first, then increments).
pub fn load_stored(stored: &StoredDocument) -> Result<Automerge, StorageError> {
    Automerge::load(&stored.concatenated()).map_err(|e| StorageError::Corrupt(e.to_string()))
}
