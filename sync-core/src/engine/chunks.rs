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
pub(super) fn change_hashes(mut bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    use sha2::{Digest, Sha256};
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    const CHANGE: u8 = 1;
    let mut hashes = Vec::new();
    while !bytes.is_empty() {
        let (magic, rest) = bytes.split_at_checked(4)?;
        let (checksum, hashed_from) = rest.split_at_checked(4)?;
        let (kind, mut rest) = hashed_from.split_first()?;
        if magic != MAGIC || *kind != CHANGE {
            return None;
        }
        let mut len: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (byte, after) = rest.split_first()?;
            rest = after;
            len |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            if shift >= 63 {
                return None;
            }
        }
        // Type, length and body as they arrived: a length written other than automerge
        // writes it hashes to nothing the document holds.
        let header = hashed_from.len() - rest.len();
        let (hashed, after) =
            hashed_from.split_at_checked(header.checked_add(usize::try_from(len).ok()?)?)?;
        let digest: [u8; 32] = Sha256::digest(hashed).into();
        if digest[..4] != *checksum {
            return None;
        }
        hashes.push(ChangeHash(digest));
        bytes = after;
    }
    Some(hashes)
}

/// Loads a stored document from its chunks (snapshots first, then increments).
pub fn load_stored(stored: &StoredDocument) -> Result<Automerge, StorageError> {
    Automerge::load(&stored.concatenated()).map_err(|e| StorageError::Corrupt(e.to_string()))
}
