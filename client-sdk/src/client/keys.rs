//! Names of the client's state entries (kept in the store's [`crate::store::Meta`]) and how
//! heads are written in them.

use automerge::ChangeHash;

/// Heads the server acknowledged, per document: `acked/<document id>`.
pub(super) const ACKED: &str = "acked/";
/// Documents created here and not yet acknowledged: `new/<document id>`.
pub(super) const NEW: &str = "new/";
/// SHA-256 of the token the server last accepted.
pub(super) const TOKEN: &str = "token";
/// When the client was last up to date (milliseconds since the epoch, big-endian).
pub(super) const LAST_SYNC: &str = "last-sync";

/// Heads as stored: their 32-byte hashes one after another.
pub(super) fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Heads read back from [`heads_bytes`]; a trailing partial hash is ignored.
pub(super) fn heads_from_bytes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}
