//! PostgreSQL: the store of a region served by several server nodes.
//!
//! One database holds the documents' chunks (the same content-addressed chunks as the sled
//! store), the identity, access and audit tables (as key-value trees, see [`crate::kv`]), and
//! carries the nodes' notifications: a node that commits new chunks of a document notifies
//! `kooperacja` with the document id and its node id, in the same transaction, so the other
//! nodes hear of it only once it is committed, reload the document and sync their peers.
//!
//! Connections belong to a pool of worker threads of their own (the synchronous `postgres`
//! client; `--postgres-pool` of them): callers hand them a job and wait for the answer, from
//! async code (a Tokio oneshot) or from the hub's storage threads (blocking). Each worker
//! reconnects by itself after its connection is lost ([`conn`]): while the database is away a
//! job fails at once with a clear error instead of waiting, and attempts are spaced by a
//! backoff ([`connect::Backoff`]). Audit records and actor bindings are written in batches by a
//! thread of their own ([`batch`]), compare-and-swap. Schema migrations run at start, under an
//! advisory lock so that nodes starting together do not race ([`schema`]).

mod batch;
mod conn;
pub mod connect;
mod listen;
mod schema;
mod storage;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use postgres::Client;
use sync_core::StorageError;

use crate::error::ServerError;
pub use batch::Claim;
use conn::Conn;
pub use connect::PgSettings;
pub use storage::PgStorage;

/// The channel nodes notify and listen on.
pub const CHANNEL: &str = "kooperacja";

/// Worker connections when nothing else is configured.
pub const DEFAULT_POOL: usize = 4;

type Job = Box<dyn FnOnce(Result<&mut Client, ServerError>) + Send>;

/// What a node's connections to the database are doing, for `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct PgHealth {
    /// Worker connections open now.
    pub connections_up: AtomicU64,
    /// Worker connections configured.
    pub pool_size: AtomicU64,
    /// Connections made again after one was lost.
    pub reconnects: AtomicU64,
    /// Connection attempts that failed.
    pub failed_attempts: AtomicU64,
    /// Whether the listening connection is up (false before it first connects).
    pub listening: AtomicBool,
    /// Whether this node listens at all (a server does; `admin` and tests may not).
    pub listens: AtomicBool,
    /// Times the listening connection came back and everything was reloaded.
    pub listen_reconnects: AtomicU64,
    /// Compare-and-swap writes that found another writer's value (audit chain, actor binding).
    pub conflicts: AtomicU64,
    /// Audit records and bindings waiting to be written.
    pub pending_writes: AtomicU64,
    /// Why this node's audit chain is no longer written, when another writer was found on it.
    pub audit_conflict: Mutex<Option<String>>,
}

impl PgHealth {
    /// `None` when ready; else why not, in words.
    pub fn not_ready(&self) -> Option<String> {
        if let Ok(conflict) = self.audit_conflict.lock() {
            if let Some(why) = conflict.as_ref() {
                return Some(why.clone());
            }
        }
        if self.listens.load(Ordering::Relaxed) && !self.listening.load(Ordering::Relaxed) {
            return Some("not listening for the other nodes' changes".into());
        }
        None
    }
}

/// A few connections to one database, each on its own thread.
#[derive(Clone)]
pub struct Pg {
    jobs: mpsc::Sender<Job>,
    settings: Arc<PgSettings>,
    node: Arc<String>,
    health: Arc<PgHealth>,
    batch: Arc<OnceLock<batch::Batcher>>,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg").field("node", &self.node).finish()
    }
}

fn pg_error(e: postgres::Error) -> ServerError {
    ServerError::Storage(StorageError::Io(format!("PostgreSQL: {}", describe(&e))))
}

/// An error with its causes (the client's own text says only "db error" for the database's
/// refusals, whose words are in the cause).
pub(crate) fn describe(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl Pg {
    /// Connects `workers` connections to `url`, applies the migrations, and names this node
    /// `node` in its notifications. The database must answer now; later losses are survived.
    pub fn connect(url: &str, workers: usize, node: &str) -> Result<Self, ServerError> {
        let settings = Arc::new(PgSettings::parse(url)?);
        let health = Arc::new(PgHealth::default());
        let workers = workers.max(1);
        health.pool_size.store(workers as u64, Ordering::Relaxed);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        // Each connection is made on its worker's thread (the synchronous client must not be
        // driven from async code); the first applies the migrations before the others start.
        for i in 0..workers {
            let (ready, started) = mpsc::channel::<Result<(), ServerError>>();
            let rx = rx.clone();
            let mut conn = Conn::new(
                settings.clone(),
                format!("kooperacja {node}"),
                health.clone(),
            );
            std::thread::Builder::new()
                .name(format!("postgres-{i}"))
                .spawn(move || {
                    let first = conn.first().and_then(|client| match i {
                        0 => schema::migrate(client),
                        _ => Ok(()),
                    });
                    let failed = first.is_err();
                    let _ = ready.send(first);
                    if failed {
                        return;
                    }
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => {
                                job(conn.client());
                                conn.check();
                            }
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| ServerError::io("starting a PostgreSQL worker", e))?;
            started.recv().map_err(|_| {
                ServerError::Storage(StorageError::Io("a PostgreSQL worker died".into()))
            })??;
        }
        if settings.encrypted() {
            tracing::info!(sslmode = %settings.sslmode, "PostgreSQL over TLS");
        }
        Ok(Pg {
            jobs,
            settings,
            node: Arc::new(node.to_string()),
            health,
            batch: Arc::new(OnceLock::new()),
        })
    }

    /// This node's id in notifications.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// What the connections are doing.
    pub fn health(&self) -> &Arc<PgHealth> {
        &self.health
    }

    fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
        reply: impl FnOnce(Result<R, ServerError>) + Send + 'static,
    ) -> Result<(), ServerError> {
        self.jobs
            .send(Box::new(move |client| {
                reply(client.and_then(|c| f(c).map_err(pg_error)))
            }))
            .map_err(|_| {
                ServerError::Storage(StorageError::Io("PostgreSQL workers stopped".into()))
            })
    }

    /// The batch writer of audit records and actor bindings (started on first use).
    fn batcher(&self) -> &batch::Batcher {
        self.batch.get_or_init(|| {
            batch::Batcher::start(
                self.settings.clone(),
                self.node.clone(),
                self.health.clone(),
            )
        })
    }

    /// Writes `claim` with the next batch, off the caller's thread.
    pub fn claim_later(&self, claim: Claim) {
        self.batcher().push(claim);
    }

    /// Waits until every claim handed over so far is written (or failed for good); errors name
    /// the writes another writer had made first.
    pub fn flush_claims(&self) -> Result<(), ServerError> {
        match self.batch.get() {
            Some(batcher) => batcher.flush(),
            None => Ok(()),
        }
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
}
