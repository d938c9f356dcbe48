//! PostgreSQL: the store of a region served by several server nodes.
//!
//! One database holds the documents' chunks (the same content-addressed chunks as the sled
//! store), the identity, access and audit tables (as key-value trees, see [`crate::kv`]), and
//! carries the nodes' notifications: a node that commits new chunks of a document notifies
//! `kooperacja` with the document id and its node id, in the same transaction, so the other
//! nodes hear of it only once it is committed, reload the document and sync their peers.
//!
//! Connections belong to a few worker threads of their own (the synchronous `postgres` client):
//! callers hand them a job and wait for the answer, from async code (a Tokio oneshot) or from
//! the hub's storage threads (blocking). Schema migrations run at start, under an advisory lock
//! so that nodes starting together do not race.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use sync_core::storage::{ChunkKey, Storage, StoredDocument, WriteOp};
use sync_core::{DocumentId, StorageError};

use crate::error::ServerError;

/// The channel nodes notify and listen on.
pub const CHANNEL: &str = "kooperacja";

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// The schema, one migration per entry; applied in order, each once.
const MIGRATIONS: &[&str] = &[
    // 1: documents, key-value trees.
    "CREATE TABLE chunks (
        document text NOT NULL,
        key bytea NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (document, key)
    );
    CREATE TABLE kv (
        tree text NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (tree, key)
    );",
    // 2: documents' keys (`crate::at_rest`), in a table of their own: rewritten on erasure.
    "CREATE TABLE document_keys (
        document text PRIMARY KEY,
        wrapped bytea NOT NULL
    );",
];

/// A few connections to one database, each on its own thread.
#[derive(Clone)]
pub struct Pg {
    jobs: mpsc::Sender<Job>,
    url: Arc<String>,
    node: Arc<String>,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg").field("node", &self.node).finish()
    }
}

fn pg_error(e: postgres::Error) -> ServerError {
    ServerError::Storage(StorageError::Io(format!("PostgreSQL: {e}")))
}

impl Pg {
    /// Connects `workers` connections to `url`, applies the migrations, and names this node
    /// `node` in its notifications.
    pub fn connect(url: &str, workers: usize, node: &str) -> Result<Self, ServerError> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        // Each connection is made on its worker's thread (the synchronous client must not be
        // driven from async code); the first applies the migrations before the others start.
        for i in 0..workers.max(1) {
            let (ready, started) = mpsc::channel::<Result<(), ServerError>>();
            let (rx, url) = (rx.clone(), url.to_string());
            std::thread::Builder::new()
                .name(format!("postgres-{i}"))
                .spawn(move || {
                    let mut client = match Client::connect(&url, NoTls).map_err(pg_error) {
                        Ok(client) => client,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    if i == 0 {
                        if let Err(e) = migrate(&mut client) {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    }
                    let _ = ready.send(Ok(()));
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut client),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| ServerError::io("starting a PostgreSQL worker", e))?;
            started.recv().map_err(|_| {
                ServerError::Storage(StorageError::Io("a PostgreSQL worker died".into()))
            })??;
        }
        Ok(Pg {
            jobs,
            url: Arc::new(url.to_string()),
            node: Arc::new(node.to_string()),
        })
    }

    /// The connection string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This node's id in notifications.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
        reply: impl FnOnce(Result<R, ServerError>) + Send + 'static,
    ) -> Result<(), ServerError> {
        self.jobs
            .send(Box::new(move |client| reply(f(client).map_err(pg_error))))
            .map_err(|_| {
                ServerError::Storage(StorageError::Io("PostgreSQL workers stopped".into()))
            })
    }

    /// Runs `f` on a connection and waits for it (blocking this thread).
    pub fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, ServerError> {
        let (tx, rx) = mpsc::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv()
            .map_err(|_| ServerError::Storage(StorageError::Io("PostgreSQL worker lost".into())))?
    }

    /// Runs `f` on a connection without blocking the caller's task.
    pub async fn run_async<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, ServerError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await
            .map_err(|_| ServerError::Storage(StorageError::Io("PostgreSQL worker lost".into())))?
    }

    /// Tells the other nodes that `what` changed (committed with the caller's transaction when
    /// called inside one).
    pub fn notify_in(
        tx: &mut postgres::Transaction<'_>,
        node: &str,
        what: &str,
    ) -> Result<(), postgres::Error> {
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &format!("{node} {what}")],
        )?;
        Ok(())
    }

    /// Listens for the other nodes' notifications on a connection of its own thread; calls
    /// `on` with what changed (`doc <id>`, `kv <tree> <key hex>`...) for every notification
    /// not sent by this node. Reconnects after a lost connection.
    pub fn listen(&self, on: impl Fn(&str) + Send + 'static) -> Result<(), ServerError> {
        let url = self.url.clone();
        let node = self.node.clone();
        std::thread::Builder::new()
            .name("postgres-listen".into())
            .spawn(move || loop {
                match Client::connect(&url, NoTls) {
                    Ok(mut client) => {
                        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                            tracing::error!(error = %e, "LISTEN failed");
                        } else {
                            // Something may have changed while we were not listening.
                            on("all");
                            let mut notifications = client.notifications();
                            let mut it = notifications.blocking_iter();
                            loop {
                                match it.next() {
                                    Ok(Some(n)) => {
                                        let payload = n.payload();
                                        match payload.split_once(' ') {
                                            Some((from, what)) if from != node.as_str() => on(what),
                                            _ => {}
                                        }
                                    }
                                    Ok(None) => break,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "PostgreSQL notifications lost");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot reach PostgreSQL to listen"),
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            })
            .map_err(|e| ServerError::io("starting the PostgreSQL listener", e))?;
        Ok(())
    }
}

fn migrate(client: &mut Client) -> Result<(), ServerError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    // One node at a time; the lock ends with the transaction.
    tx.execute("SELECT pg_advisory_xact_lock(7366021)", &[])
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS kooperacja_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .map_err(pg_error)?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM kooperacja_migrations",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(pg_error)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if version <= applied {
            continue;
        }
        tx.batch_execute(sql).map_err(pg_error)?;
        tx.execute(
            "INSERT INTO kooperacja_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(pg_error)?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    tx.commit().map_err(pg_error)
}

/// The documents' chunks in PostgreSQL (see the [module documentation](self)).
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
            .run_async(move |c| {
                let mut tx = c.transaction()?;
                // Prepared once per group commit: a statement given as text is prepared again
                // on every call, a second round trip per chunk.
                let put = tx.prepare(
                    "INSERT INTO chunks (document, key, bytes) VALUES ($1, $2, $3)
                     ON CONFLICT (document, key) DO UPDATE SET bytes = excluded.bytes",
                )?;
                let mut touched = std::collections::BTreeSet::new();
                for op in &batch {
                    match op {
                        WriteOp::Put {
                            document,
                            key,
                            bytes,
                        } => {
                            tx.execute(
                                &put,
                                &[&document.to_string(), &&key.to_bytes()[..], bytes],
                            )?;
                            touched.insert(*document);
                        }
                        // Only the chunks this snapshot holds go: a chunk another node wrote
                        // meanwhile has another key and stays (concurrent compaction is safe).
                        WriteOp::Compact {
                            document,
                            key,
                            bytes,
                            replaces,
                        } => {
                            let id = document.to_string();
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
                            tx.execute(
                                "DELETE FROM chunks WHERE document = $1",
                                &[&document.to_string()],
                            )?;
                            touched.insert(*document);
                        }
                    }
                }
                for document in touched {
                    Pg::notify_in(&mut tx, &node, &format!("doc {document}"))?;
                }
                tx.commit()
            })
            .await
            .map_err(to_storage)
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
