//! `admin migrate-to-postgres`: copies a sled data directory into PostgreSQL, for a region
//! that outgrows one machine. Documents go chunk by chunk, in transactions of a few hundred
//! documents; the identity, access and audit trees go as they are (the audit chain keeps its
//! hashes, so `admin audit --verify` holds on the other side). Copying is idempotent: a run
//! that was interrupted can be started again.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use sync_core::storage::{SledStorage, Storage, WriteOp};

use crate::error::ServerError;
use crate::kv::Kv;
use crate::pg::{Pg, PgStorage};

/// What a migration copied.
#[derive(Debug, Serialize)]
pub struct MigrationReport {
    /// Documents copied.
    pub documents: usize,
    /// Chunks copied.
    pub chunks: usize,
    /// Table entries copied (identity, access, audit).
    pub entries: usize,
    /// Documents per second.
    pub documents_per_second: f64,
}

/// Trees of the sled store that are not documents' chunks.
fn table_trees(db: &sled::Db) -> Vec<String> {
    db.tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| !n.starts_with("__sled") && n != sync_core::storage::CHUNKS_TREE)
        .filter(|n| n != crate::at_rest::KEYS_TREE)
        .collect()
}

/// Copies `from` into the database at `url`, telling `progress` as it goes.
pub fn sled_to_postgres(
    from: &SledStorage,
    url: &str,
    progress: &mut dyn Write,
) -> Result<MigrationReport, ServerError> {
    let started = Instant::now();
    let pg = Pg::connect(url, 2, "migration")?;
    let to = PgStorage::new(pg.clone());
    let ids = from.list_now()?;
    let total = ids.len();
    let (mut documents, mut chunks) = (0, 0);
    for batch in ids.chunks(200) {
        let mut ops = Vec::new();
        for id in batch {
            let Some(stored) = from.load_now(*id)? else {
                continue;
            };
            for (key, bytes) in stored.chunks {
                ops.push(WriteOp::Put {
                    document: *id,
                    key,
                    bytes,
                });
            }
            documents += 1;
        }
        chunks += ops.len();
        futures::executor::block_on(to.write(ops))?;
        let _ = writeln!(
            progress,
            "documents: {documents}/{total} ({:.0}/s)",
            documents as f64 / started.elapsed().as_secs_f64().max(1e-9)
        );
    }
    // The documents' keys, still wrapped by the region's master key, into their own table.
    let keys = crate::at_rest::copy_keys_to_postgres(from.db(), &pg)?;
    let _ = writeln!(progress, "document keys: {keys} copied");
    let target = Kv::Pg(pg);
    let source = Kv::Sled(from.db().clone());
    let mut entries = 0;
    for name in table_trees(from.db()) {
        let all = source.open_tree(&name)?.entries()?;
        entries += all.len();
        target.open_tree(&name)?.insert_all(all)?;
        let _ = writeln!(progress, "table {name}: copied");
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    Ok(MigrationReport {
        documents,
        chunks,
        entries,
        documents_per_second: documents as f64 / seconds,
    })
}
