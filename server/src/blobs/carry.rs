//! Pieces carried in sled's own format: a backup carries every accepted blob's sealed pieces as
//! entries of a sled tree, `attachment_pieces` (a piece as values of at most [`SLED_PART`]
//! bytes, under the blob's key, the piece's index and a part number), which a restore writes
//! into the new store like any other tree; versions before the files kept pieces in that tree
//! too. When the server opens the store, [`move_into_files`] moves them into the blob files
//! and drops the tree.
//!
//! Parts of 4 KiB because sled 0.34 writes a larger value to a file of its own and counts it in
//! its page cache at the size of a pointer: such pages were never evicted and every byte stayed
//! in memory (docs/benchmarks.md, #18); small values keep the cache's limit during a restore.

use std::io::Write;

use super::files::{Files, SEALED_EXTRA};
use super::id::{BlobId, META_TREE};
use super::{Meta, PIECE};
use crate::error::ServerError;

/// The sled tree of carried pieces.
pub const PIECES_TREE: &str = "attachment_pieces";
/// Bytes of one carried part.
pub const SLED_PART: usize = 4 * 1024;

fn piece_key(id: &BlobId, index: u32) -> Vec<u8> {
    [id.key().as_slice(), &index.to_be_bytes()].concat()
}

/// How many pieces a blob of `bytes` bytes has.
fn pieces_of(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(PIECE as u64)).unwrap_or(u32::MAX)
}

/// The sealed length of piece `index` of an accepted blob of `size` bytes.
fn sealed_len(size: u64, index: u32) -> usize {
    let start = u64::from(index) * PIECE as u64;
    (size - start).min(PIECE as u64) as usize + SEALED_EXTRA
}

/// A carried piece: its parts in order (or, from the first versions, one whole value).
fn carried_piece(
    tree: &sled::Tree,
    id: &BlobId,
    index: u32,
) -> Result<Option<Vec<u8>>, ServerError> {
    let key = piece_key(id, index);
    if let Some(whole) = tree.get(&key)? {
        return Ok(Some(whole.to_vec()));
    }
    let mut out = Vec::new();
    for part in tree.scan_prefix(&key) {
        out.extend_from_slice(&part?.1);
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Moves carried pieces into the blob files, then tidies what a crash or a restore left: a
/// record whose bytes are gone is dropped (an upload in progress starts again from 0), a file
/// without a record is removed. Blocking; runs before the server serves.
pub fn move_into_files(db: &sled::Db, meta: &sled::Tree, files: &Files) -> Result<(), ServerError> {
    let carried = db
        .tree_names()
        .iter()
        .any(|name| name.as_ref() == PIECES_TREE.as_bytes());
    let tree = carried.then(|| db.open_tree(PIECES_TREE)).transpose()?;
    let mut moved = 0usize;
    for item in meta.iter() {
        let (key, bytes) = item?;
        let Some(id) = BlobId::from_key(&key) else {
            continue;
        };
        let mut record = Meta::decode(&bytes)?;
        if let Some(tree) = &tree {
            for index in 0..pieces_of(record.received) {
                match carried_piece(tree, &id, index)? {
                    Some(piece) => files.put_piece(&id, index, &piece)?,
                    None => break,
                }
            }
            files.sync(&id)?;
            moved += 1;
        }
        if record.received > 0 && !files.exists(&id) {
            if record.complete {
                tracing::error!(sha256 = %hex::encode(id.sha256), document = %id.document,
                    "an accepted attachment's bytes are missing; its record is dropped");
                meta.remove(&key)?;
            } else {
                record = Meta {
                    received: 0,
                    mime: None,
                    ..record
                };
                meta.insert(&key, record.encode()?)?;
            }
        }
    }
    if carried {
        db.drop_tree(PIECES_TREE)?;
        tracing::info!(
            blobs = moved,
            "attachment pieces moved out of sled into files"
        );
    }
    for id in files.all()? {
        if !meta.contains_key(id.key())? {
            files.remove(&id)?;
        }
    }
    meta.flush()?;
    Ok(())
}

/// Appends every accepted blob's pieces to a backup of `db` (in the format of
/// `SledStorage::backup_into`: a tree's name, its count, then keys and values, each with a
/// big-endian `u64` length); the number of entries. Uploads still in progress are not carried
/// (after a restore they start again).
pub fn write_backup_section(
    db: &sled::Db,
    files: &Files,
    out: &mut impl Write,
) -> Result<u64, ServerError> {
    let put = |out: &mut dyn Write, bytes: &[u8]| -> Result<(), ServerError> {
        out.write_all(&(bytes.len() as u64).to_be_bytes())
            .and_then(|()| out.write_all(bytes))
            .map_err(|e| ServerError::io("writing the backup", e))
    };
    let mut accepted = Vec::new();
    for item in db.open_tree(META_TREE)?.iter() {
        let (key, bytes) = item?;
        let (Some(id), record) = (BlobId::from_key(&key), Meta::decode(&bytes)?) else {
            continue;
        };
        if record.complete {
            accepted.push((id, record.size));
        }
    }
    let count: u64 = accepted
        .iter()
        .flat_map(|(_, size)| (0..pieces_of(*size)).map(|i| sealed_len(*size, i)))
        .map(|len| len.div_ceil(SLED_PART) as u64)
        .sum();
    put(out, PIECES_TREE.as_bytes())?;
    put(out, &count.to_be_bytes())?;
    for (id, size) in &accepted {
        for index in 0..pieces_of(*size) {
            let piece = files
                .piece(id, index)?
                .filter(|p| p.len() == sealed_len(*size, index))
                .ok_or_else(|| {
                    ServerError::Invalid(format!(
                        "the attachment {} of {} changed while it was copied (erased?); copy again",
                        hex::encode(id.sha256),
                        id.document
                    ))
                })?;
            let key = piece_key(id, index);
            for (n, part) in piece.chunks(SLED_PART).enumerate() {
                let n = u16::try_from(n).unwrap_or(u16::MAX);
                put(out, &[key.as_slice(), &n.to_be_bytes()].concat())?;
                put(out, part)?;
            }
        }
    }
    Ok(count)
}
