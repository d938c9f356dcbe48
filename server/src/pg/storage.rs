//! The documents' chunks in PostgreSQL, and the tombstones of erased documents: a write of an
//! erased document's chunks is refused in its own transaction, so no node can bring an erasure
//! back, however an erasure on one node and a write on another interleave.

use std::collections::{BTreeMap, BTreeSet};

use sync_core::storage::{ChunkKey, Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

use super::Pg;
use crate::error::ServerError;

/// The advisory-lock space of documents being written (shared) or erased (exclusive).
const DOCUMENT_LOCKS: i32 = 7_366_022;

/// The documents' chunks in PostgreSQL (see the [module documentation](super)).
#[derive(Clone, Debug)]
pub struct PgStorage {
    pg: Pg,
}

impl PgStorage {
    /// Documents in the database behind `pg`.
    pub fn new(pg: Pg) -> Self {
        PgStorage { pg }
    }

    /// The connections.
    pub fn pg(&self) -> &Pg {
        &self.pg
    }
}

fn to_storage(e: ServerError) -> StorageError {
    match e {
        ServerError::Storage(s) => s,
        other => StorageError::Io(other.to_string()),
    }
}

/// One group commit in one transaction. Each document is locked first, in id order (no
/// deadlock between two nodes' commits): shared to write its chunks, exclusive to erase it.
/// Under the lock, a document already erased (its tombstone committed) refuses the whole
/// commit; an erasure waits for writes in flight, then deletes what they wrote.
fn commit(
    client: &mut postgres::Client,
    node: &str,
    batch: &[WriteOp],
) -> Result<Result<(), StorageError>, postgres::Error> {
    let mut tx = client.transaction()?;
    let mut locks: BTreeMap<String, bool> = BTreeMap::new();
    for op in batch {
        match op {
            WriteOp::Put { document, .. } | WriteOp::Compact { document, .. } => {
                locks.entry(document.to_string()).or_insert(false);
            }
            WriteOp::Erase { document } => {
                locks.insert(document.to_string(), true);
            }
        }
    }
    for (document, erase) in &locks {
        let sql = if *erase {
            "SELECT pg_advisory_xact_lock($1, hashtext($2))"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))"
        };
        tx.execute(sql, &[&DOCUMENT_LOCKS, document])?;
    }
    let ids: Vec<String> = locks.keys().cloned().collect();
    let mut erased: BTreeSet<String> = tx
        .query(
            "SELECT document FROM erased WHERE document = ANY($1)",
            &[&ids],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    // Prepared once per group commit: a statement given as text is prepared again on every
    // call, a second round trip per chunk.
    let put = tx.prepare(
        "INSERT INTO chunks (document, key, bytes) VALUES ($1, $2, $3)
         ON CONFLICT (document, key) DO UPDATE SET bytes = excluded.bytes",
    )?;
    let mut touched = BTreeSet::new();
    for op in batch {
        match op {
            WriteOp::Put {
                document,
                key,
                bytes,
            } => {
                let id = document.to_string();
                if erased.contains(&id) {
                    return Ok(Err(StorageError::Tombstoned(id)));
                }
                tx.execute(&put, &[&id, &&key.to_bytes()[..], bytes])?;
                touched.insert(*document);
            }
            // Only the chunks this snapshot holds go: a chunk another node wrote meanwhile has
            // another key and stays (concurrent compaction is safe).
            WriteOp::Compact {
                document,
                key,
                bytes,
                replaces,
            } => {
                let id = document.to_string();
                if erased.contains(&id) {
                    return Ok(Err(StorageError::Tombstoned(id)));
                }
                tx.execute(&put, &[&id, &&key.to_bytes()[..], bytes])?;
                let gone: Vec<Vec<u8>> = replaces
                    .iter()
                    .filter(|k| *k != key)
                    .map(|k| k.to_bytes().to_vec())
                    .collect();
                tx.execute(
                    "DELETE FROM chunks WHERE document = $1 AND key = ANY($2)",
                    &[&id, &gone],
                )?;
            }
            WriteOp::Erase { document } => {
                let id = document.to_string();
                tx.execute(
                    "INSERT INTO erased (document) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[&id],
                )?;
                tx.execute("DELETE FROM chunks WHERE document = $1", &[&id])?;
                erased.insert(id);
                touched.insert(*document);
            }
        }
    }
    for document in touched {
        Pg::notify_in(&mut tx, node, &format!("doc {document}"))?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

impl Storage for PgStorage {
    async fn load(&self, document: DocumentId) -> Result<Option<StoredDocument>, StorageError> {
        let id = document.to_string();
        let rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .pg
            .run_async(move |c| {
                c.query("SELECT key, bytes FROM chunks WHERE document = $1", &[&id])?
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect()
            })
            .await
            .map_err(to_storage)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut chunks = Vec::with_capacity(rows.len());
        for (key, bytes) in rows {
            chunks.push((ChunkKey::from_bytes(&key)?, bytes));
        }
        Ok(Some(StoredDocument { chunks }))
    }

    async fn write(&self, batch: Vec<WriteOp>) -> Result<(), StorageError> {
        let node = self.pg.node().to_string();
        self.pg
            .run_async(move |c| commit(c, &node, &batch))
            .await
            .map_err(to_storage)?
    }

    async fn list(&self) -> Result<Vec<DocumentId>, StorageError> {
        let ids: Vec<String> = self
            .pg
            .run_async(|c| {
                c.query("SELECT DISTINCT document FROM chunks", &[])?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect()
            })
            .await
            .map_err(to_storage)?;
        ids.into_iter()
            .map(|id| {
                id.parse::<DocumentId>()
                    .map_err(|e| StorageError::Corrupt(format!("document id {id}: {e}")))
            })
            .collect()
    }

    async fn remove(&self, document: DocumentId) -> Result<(), StorageError> {
        self.write(vec![WriteOp::Erase { document }]).await
    }
}
