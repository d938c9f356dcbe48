//! Audit records and actor bindings, written off the hub's thread: a thread of its own gathers
//! every claim handed over while the previous batch was written into one transaction (one
//! round trip per batch, not per record), on a connection of its own.
//!
//! Every write is a *claim*, compare-and-swap: a key is written only if absent. A key that
//! holds another value already means two writers on one chain (a copied data directory that
//! shares this node's id, two `admin` runs at once, two nodes binding one actor): it is
//! detected, logged and counted, never overwritten. On an audit chain, this node then stops
//! writing that chain (its records would fork it) and `/readyz` says why. While the database is
//! away, claims wait in memory (up to [`MAX_PENDING`]) and are written once it is back.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::conn::Conn;
use super::{Pg, PgHealth, PgSettings};
use crate::error::ServerError;

/// One key to write if absent.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The tree (`audit@<node>`, `actors`...).
    pub tree: String,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// Whether the other nodes are told (`kv <tree> <key hex>`): they keep a copy in memory.
    pub notify: bool,
}

/// Claims kept in memory at most while the database is away; past this, new ones are dropped
/// (and logged).
pub const MAX_PENDING: usize = 200_000;

/// How long a flush waits for a database that is away.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

enum Msg {
    Claim(Claim),
    Flush(mpsc::Sender<Result<(), ServerError>>),
}

/// The handle to the batch writer's thread.
#[derive(Debug)]
pub(super) struct Batcher {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl Batcher {
    pub(super) fn start(
        settings: Arc<PgSettings>,
        node: Arc<String>,
        health: Arc<PgHealth>,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        let conn =
            Conn::new(settings, format!("kooperacja-batch {node}"), health.clone()).uncounted();
        let spawned = std::thread::Builder::new()
            .name("postgres-batch".into())
            .spawn(move || Writer::new(conn, node, health).run(rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the PostgreSQL batch writer");
        }
        Batcher { tx }
    }

    pub(super) fn push(&self, claim: Claim) {
        if self.tx.send(Msg::Claim(claim)).is_err() {
            tracing::error!("the PostgreSQL batch writer has stopped: a record is lost");
        }
    }

    pub(super) fn flush(&self) -> Result<(), ServerError> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Msg::Flush(tx))
            .map_err(|_| ServerError::Invalid("the PostgreSQL batch writer has stopped".into()))?;
        rx.recv()
            .map_err(|_| ServerError::Invalid("the PostgreSQL batch writer has stopped".into()))?
    }
}

struct Writer {
    conn: Conn,
    node: Arc<String>,
    health: Arc<PgHealth>,
    pending: Vec<Claim>,
    flushes: Vec<(Instant, mpsc::Sender<Result<(), ServerError>>)>,
    /// Conflicts found since the last flush was answered.
    conflicts: Vec<String>,
    /// Audit chains this node stopped writing (another writer found on them).
    stopped: BTreeSet<String>,
}

impl Writer {
    fn new(conn: Conn, node: Arc<String>, health: Arc<PgHealth>) -> Self {
        Writer {
            conn,
            node,
            health,
            pending: Vec::new(),
            flushes: Vec::new(),
            conflicts: Vec::new(),
            stopped: BTreeSet::new(),
        }
    }

    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Claim(claim) if self.stopped.contains(&claim.tree) => {}
            Msg::Claim(claim) if self.pending.len() >= MAX_PENDING => {
                tracing::error!(tree = %claim.tree, "{MAX_PENDING} writes wait for PostgreSQL already: one is dropped");
            }
            Msg::Claim(claim) => self.pending.push(claim),
            Msg::Flush(reply) => self.flushes.push((Instant::now(), reply)),
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            if self.pending.is_empty() && self.flushes.is_empty() {
                match rx.recv() {
                    Ok(msg) => self.take(msg),
                    Err(_) => return,
                }
            }
            while let Ok(msg) = rx.try_recv() {
                self.take(msg);
            }
            if !self.pending.is_empty() {
                self.write();
            }
            self.health
                .pending_writes
                .store(self.pending.len() as u64, Ordering::Relaxed);
            self.answer_flushes();
            if !self.pending.is_empty() {
                // The database is away: wait for its backoff (taking new claims meanwhile).
                let wait = self.conn.wait().max(Duration::from_millis(20));
                match rx.recv_timeout(wait) {
                    Ok(msg) => self.take(msg),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    // Nobody hands over more; what waits is still written once it can be.
                    Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
                }
            }
        }
    }

    fn answer_flushes(&mut self) {
        if self.flushes.is_empty() {
            // Conflicts wait for the next flush to be told.
            return;
        }
        let done = self.pending.is_empty();
        let conflicts = std::mem::take(&mut self.conflicts);
        let pending = self.pending.len();
        self.flushes.retain(|(since, reply)| {
            if done {
                let _ = reply.send(match conflicts.is_empty() {
                    true => Ok(()),
                    false => Err(ServerError::Conflict(conflicts.join("; "))),
                });
                false
            } else if since.elapsed() > FLUSH_WAIT {
                let _ = reply.send(Err(super::conn::unreachable(&format!(
                    "{pending} audit records and bindings wait to be written"
                ))));
                false
            } else {
                true
            }
        });
        if !done {
            self.conflicts = conflicts;
        }
    }

    fn write(&mut self) {
        let node = self.node.clone();
        let result = match self.conn.client() {
            Ok(client) => claim_all(client, &node, &self.pending),
            Err(_) => return,
        };
        match result {
            Ok(found) => {
                self.pending.clear();
                for (tree, message) in found {
                    self.conflict(tree, message);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = self.pending.len(), "writing audit records and bindings failed; retrying");
                self.conn.check();
                if !self.conn.is_down() {
                    // A refusal that is not the connection's: retrying would not help.
                    tracing::error!(error = %e, writes = self.pending.len(), "audit records and bindings dropped");
                    self.pending.clear();
                }
            }
        }
    }

    fn conflict(&mut self, tree: String, message: String) {
        self.health.conflicts.fetch_add(1, Ordering::Relaxed);
        tracing::error!(%tree, "{message}");
        if tree.starts_with("audit") {
            let why = format!(
                "another process writes the audit chain {tree} (a copied data directory with \
                 this node's node-id, or two admin runs at once): this node stopped writing it"
            );
            if let Ok(mut slot) = self.health.audit_conflict.lock() {
                slot.get_or_insert(why);
            }
            self.pending.retain(|c| c.tree != tree);
            self.stopped.insert(tree);
        }
        self.conflicts.push(message);
    }
}

/// Writes every claim in one transaction; returns the keys found holding another value.
fn claim_all(
    client: &mut postgres::Client,
    node: &str,
    claims: &[Claim],
) -> Result<Vec<(String, String)>, postgres::Error> {
    let mut tx = client.transaction()?;
    let insert =
        tx.prepare("INSERT INTO kv (tree, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")?;
    let read = tx.prepare("SELECT value FROM kv WHERE tree = $1 AND key = $2")?;
    let mut found = Vec::new();
    for claim in claims {
        if tx.execute(&insert, &[&claim.tree, &claim.key, &claim.value])? == 1 {
            if claim.notify {
                Pg::notify_in(
                    &mut tx,
                    node,
                    &format!("kv {} {}", claim.tree, hex::encode(&claim.key)),
                )?;
            }
            continue;
        }
        let existing: Option<Vec<u8>> = tx
            .query_opt(&read, &[&claim.tree, &claim.key])?
            .map(|r| r.try_get(0))
            .transpose()?;
        // The same value: our own write, committed before a lost answer.
        if existing.as_deref() != Some(claim.value.as_slice()) {
            found.push((
                claim.tree.clone(),
                format!(
                    "{} key {} was written by another writer first; ours was not written",
                    claim.tree,
                    hex::encode(&claim.key)
                ),
            ));
        }
    }
    tx.commit()?;
    Ok(found)
}
