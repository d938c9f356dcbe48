//! Rewriting the sled store so that what was destroyed is physically gone.
//!
//! sled appends every write to its log and reclaims old segments only when it needs them: a
//! removed document key, or a chunk that was plaintext before `admin encrypt-at-rest` sealed
//! it, stays readable in the files for an unknown time. So an erasure (and the upgrade) marks
//! the store ([`super::keys::PENDING_TREE`]), and its next opening, before anything is
//! served, copies every live entry into a fresh store and replaces the old files with it:
//! sled's equivalent of PostgreSQL's `VACUUM (FULL)`. The old files are unlinked; their blocks
//! are the file system's (see README on disks and backups).

use std::path::{Path, PathBuf};

use sync_core::storage::SledStorage;

use super::keys::{PENDING_TREE, REWRITE};
use super::SealedStore;
use crate::error::ServerError;
use crate::secrets::Key;
use crate::store::{open_store, open_store_with, DocStore};

/// Opens the server's store sealed under `master`, rewriting a sled store first when an
/// erasure or the upgrade asked for it.
pub fn open(
    url: Option<&str>,
    path: &Path,
    node: &str,
    master: &Key,
) -> Result<SealedStore, ServerError> {
    open_pooled(url, path, node, crate::pg::DEFAULT_POOL, master)
}

/// [`open`] with `pool` worker connections to PostgreSQL.
pub fn open_pooled(
    url: Option<&str>,
    path: &Path,
    node: &str,
    pool: usize,
    master: &Key,
) -> Result<SealedStore, ServerError> {
    if url.is_none() {
        recover(path)?;
    }
    let store = open_store_with(url, path, node, pool)?;
    let pending = match &store {
        DocStore::Sled(s) => is_pending(s)?,
        DocStore::Pg(_) => false,
    };
    if !pending {
        return SealedStore::open(store, master);
    }
    drop(store);
    let copied = rewrite(path)?;
    tracing::info!(
        entries = copied,
        "store rewritten: erased keys are gone from its files"
    );
    SealedStore::open(open_store(url, path, node)?, master)
}

/// Rewrites the sled store at `path` if it asks for it (admin commands end with this).
pub fn rewrite_if_pending(path: &Path) -> Result<bool, ServerError> {
    recover(path)?;
    let pending = match open_store(None, path, "admin")? {
        DocStore::Sled(s) => is_pending(&s)?,
        DocStore::Pg(_) => false,
    };
    if pending {
        rewrite(path)?;
    }
    Ok(pending)
}

fn is_pending(store: &SledStorage) -> Result<bool, ServerError> {
    Ok(store.db().open_tree(PENDING_TREE)?.get(REWRITE)?.is_some())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), ServerError> {
    std::fs::rename(from, to).map_err(|e| {
        ServerError::io(
            format!("renaming {} to {}", from.display(), to.display()),
            e,
        )
    })
}

fn remove(dir: &Path) -> Result<(), ServerError> {
    std::fs::remove_dir_all(dir)
        .map_err(|e| ServerError::io(format!("removing {}", dir.display()), e))
}

/// Finishes a rewrite that a crash interrupted: the fresh copy is complete once it is
/// renamed, so a missing store is the fresh copy (or, before that, the old one), and an old
/// copy beside a store is what the rewrite was dropping.
fn recover(path: &Path) -> Result<(), ServerError> {
    let (fresh, old) = (sibling(path, ".rewrite"), sibling(path, ".old"));
    if !path.exists() {
        if old.exists() && fresh.exists() {
            rename(&fresh, path)?;
        } else if old.exists() {
            rename(&old, path)?;
        }
    }
    if path.exists() && old.exists() {
        remove(&old)?;
    }
    Ok(())
}

/// Copies every live entry of the (closed) store at `path` into a fresh one, then puts the
/// fresh one in its place. A crash midway leaves either the old store in place (and still
/// marked) or the new one complete ([`recover`] finishes the swap).
fn rewrite(path: &Path) -> Result<u64, ServerError> {
    let fresh_path = sibling(path, ".rewrite");
    let old_path = sibling(path, ".old");
    if fresh_path.exists() {
        // A copy a crash interrupted.
        remove(&fresh_path)?;
    }
    let mut copied = 0u64;
    {
        let old = SledStorage::open(path)?;
        let fresh = SledStorage::open(&fresh_path)?;
        for name in old.db().tree_names() {
            if name == PENDING_TREE.as_bytes() {
                continue;
            }
            let (from, to) = (old.db().open_tree(&name)?, fresh.db().open_tree(&name)?);
            for item in from.iter() {
                let (k, v) = item?;
                to.insert(k, v)?;
                copied += 1;
            }
        }
        fresh.make_durable()?;
    }
    rename(path, &old_path)?;
    rename(&fresh_path, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| ServerError::io("syncing the data directory", e))?;
    }
    remove(&old_path)?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_cut_by_a_crash_is_finished_at_the_next_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        let (fresh, old) = (sibling(&store, ".rewrite"), sibling(&store, ".old"));
        // Cut between the two renames: the store is the fresh copy, the old one goes.
        std::fs::create_dir(&fresh).expect("fresh");
        std::fs::write(fresh.join("db"), b"fresh").expect("write");
        std::fs::create_dir(&old).expect("old");
        recover(&store).expect("recovered");
        assert_eq!(std::fs::read(store.join("db")).expect("read"), b"fresh");
        assert!(!old.exists() && !fresh.exists());
        // Cut before the fresh copy was complete: the old store stays.
        std::fs::rename(&store, &old).expect("rename");
        recover(&store).expect("recovered");
        assert!(store.join("db").exists() && !old.exists());
    }
}
