//! One connection that comes back by itself: made on first use, dropped when the database
//! closes it (a restart, a failover, a network cut), made again when asked for after the
//! backoff's wait. While it is down a caller gets a clear error at once: nothing waits on a
//! database that is away.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::Client;
use sync_core::StorageError;

use super::connect::{Backoff, PgSettings};
use super::PgHealth;
use crate::error::ServerError;

/// A connection of a worker (or of the batch writer).
pub(super) struct Conn {
    settings: Arc<PgSettings>,
    name: String,
    client: Option<Client>,
    backoff: Backoff,
    health: Arc<PgHealth>,
    /// Since when it is down (after having been up), for the log line when it returns.
    lost_at: Option<Instant>,
    /// Whether it counts in `connections_up` (workers do; the batch writer does not).
    counted: bool,
    /// When it last served a job.
    last_used: Instant,
}

/// A connection idle for longer than this is checked (one round trip) before it serves a job:
/// one that the database closed meanwhile (a restart while this worker had nothing to do) is
/// made again instead of failing the job.
const IDLE_CHECK: Duration = Duration::from_millis(250);

/// The error of a job while the database is away.
pub(super) fn unreachable(detail: &str) -> ServerError {
    ServerError::Storage(StorageError::Io(format!(
        "{} ({detail}); reconnecting",
        crate::error::UNREACHABLE
    )))
}

impl Conn {
    pub(super) fn new(settings: Arc<PgSettings>, name: String, health: Arc<PgHealth>) -> Self {
        Conn {
            settings,
            name,
            client: None,
            backoff: Backoff::default(),
            health,
            lost_at: None,
            counted: true,
            last_used: Instant::now(),
        }
    }

    /// Not counted among the pool's open connections.
    pub(super) fn uncounted(mut self) -> Self {
        self.counted = false;
        self
    }

    /// The first connection, made now whatever the backoff says (a node starts only with its
    /// database there).
    pub(super) fn first(&mut self) -> Result<&mut Client, ServerError> {
        self.client()
    }

    /// The connection, made again if it was lost and the backoff allows; else why not.
    pub(super) fn client(&mut self) -> Result<&mut Client, ServerError> {
        self.check();
        let idle = self.last_used.elapsed() > IDLE_CHECK;
        self.last_used = Instant::now();
        if idle
            && self
                .client
                .as_mut()
                .is_some_and(|c| c.is_valid(Duration::from_secs(2)).is_err())
        {
            tracing::warn!(
                connection = %self.name,
                "PostgreSQL connection lost while idle; reconnecting"
            );
            self.drop_client();
        }
        if self.client.is_none() {
            let now = Instant::now();
            if !self.backoff.may_try(now) {
                return Err(unreachable("the last attempt failed"));
            }
            match self.settings.connect(&self.name) {
                Ok(client) => {
                    self.backoff.reset();
                    if self.counted {
                        self.health.connections_up.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(at) = self.lost_at.take() {
                        self.health.reconnects.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(
                            connection = %self.name,
                            down_ms = at.elapsed().as_millis() as u64,
                            "PostgreSQL connection restored"
                        );
                    }
                    self.client = Some(client);
                }
                Err(e) => {
                    self.backoff.failed(now);
                    self.health.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    if self.lost_at.is_none() {
                        self.lost_at = Some(now);
                    }
                    let e = super::describe(&e);
                    tracing::debug!(connection = %self.name, error = %e, "PostgreSQL connection attempt failed");
                    return Err(unreachable(&e));
                }
            }
        }
        match self.client.as_mut() {
            Some(client) => Ok(client),
            None => Err(unreachable("no connection")),
        }
    }

    /// After a job: a connection the database closed is dropped (made again on next use).
    pub(super) fn check(&mut self) {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
            if self.counted {
                self.health.connections_up.fetch_sub(1, Ordering::Relaxed);
            }
            self.lost_at = Some(Instant::now());
            tracing::warn!(
                connection = %self.name,
                "PostgreSQL connection lost; reconnecting with backoff"
            );
        }
    }

    /// Drops the connection (found dead by other means than the client's own flag).
    pub(super) fn drop_client(&mut self) {
        if self.client.take().is_some() {
            if self.counted {
                self.health.connections_up.fetch_sub(1, Ordering::Relaxed);
            }
            self.lost_at = Some(Instant::now());
        }
    }

    /// Whether it has no connection now.
    pub(super) fn is_down(&self) -> bool {
        self.client.is_none()
    }

    /// How long until the next attempt may be made (zero when connected or allowed now).
    pub(super) fn wait(&self) -> std::time::Duration {
        self.backoff.wait(Instant::now())
    }
}
