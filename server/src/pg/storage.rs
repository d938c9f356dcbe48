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

/// One group commit in one transaction, in a few round trips whatever its size: the
/// documents it touches are locked first, in id order (no deadlock between two nodes'
/// commits): exclusive to erase, shared to write chunks. Under the lock, a document already
/// erased (its tombstone committed) refuses the whole commit; an erasure waits for writes in
/// flight, then deletes what they wrote. Then every chunk in one `INSERT … unnest`, the
/// compactions' deletions, the erasures, and one notification statement.
fn commit(
    client: &mut postgres::Client,
    node: &str,
    batch: &[WriteOp],
) -> Result<Result<(), StorageError>, postgres::Error> {
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
    let (erasing, writing): (Vec<String>, Vec<String>) = {
        let (e, w): (Vec<_>, Vec<_>) = locks.iter().partition(|(_, erase)| **erase);
        (
            e.into_iter().map(|(d, _)| d.clone()).collect(),
            w.into_iter().map(|(d, _)| d.clone()).collect(),
        )
    };
    let mut tx = client.transaction()?;
    if !erasing.is_empty() {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(d)) FROM unnest($2::text[]) \
             WITH ORDINALITY AS t(d, n) ORDER BY n",
            &[&DOCUMENT_LOCKS, &erasing],
        )?;
    }
    if !writing.is_empty() {
        tx.execute(
            "SELECT pg_advisory_xact_lock_shared($1, hashtext(d)) FROM unnest($2::text[]) \
             WITH ORDINALITY AS t(d, n) ORDER BY n",
            &[&DOCUMENT_LOCKS, &writing],
        )?;
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
    // Chunks by (document, key), the last write of a key winning (one statement may not
    // touch a row twice).
    let mut chunks: BTreeMap<(String, Vec<u8>), &[u8]> = BTreeMap::new();
    let mut compacted: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    let mut erasures: Vec<String> = Vec::new();
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
                chunks.insert((id.clone(), key.to_bytes().to_vec()), bytes);
                touched.insert(id);
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
                chunks.insert((id.clone(), key.to_bytes().to_vec()), bytes);
                let gone: Vec<Vec<u8>> = replaces
                    .iter()
                    .filter(|k| *k != key)
                    .map(|k| k.to_bytes().to_vec())
                    .collect();
                compacted.push((id, gone));
            }
            WriteOp::Erase { document } => {
                let id = document.to_string();
                erased.insert(id.clone());
                erasures.push(id.clone());
                touched.insert(id);
            }
        }
    }
    if !chunks.is_empty() {
        let mut documents = Vec::with_capacity(chunks.len());
        let mut keys = Vec::with_capacity(chunks.len());
        let mut values = Vec::with_capacity(chunks.len());
        for ((document, key), bytes) in chunks {
            documents.push(document);
            keys.push(key);
            values.push(bytes.to_vec());
        }
        tx.execute(
            "INSERT INTO chunks (document, key, bytes) \
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) \
             ON CONFLICT (document, key) DO UPDATE SET bytes = excluded.bytes",
            &[&documents, &keys, &values],
        )?;
    }
    for (id, gone) in &compacted {
        tx.execute(
            "DELETE FROM chunks WHERE document = $1 AND key = ANY($2)",
            &[id, gone],
        )?;
    }
    if !erasures.is_empty() {
        tx.execute(
            "INSERT INTO erased (document) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            &[&erasures],
        )?;
        tx.execute("DELETE FROM chunks WHERE document = ANY($1)", &[&erasures])?;
    }
    if !touched.is_empty() {
        let touched: Vec<String> = touched.into_iter().collect();
        tx.execute(
            "SELECT pg_notify($1, $2 || d) FROM unnest($3::text[]) AS d",
            &[&super::CHANNEL, &format!("{node} doc "), &touched],
        )?;
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
