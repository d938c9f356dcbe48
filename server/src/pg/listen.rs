//! The other nodes' notifications, heard on a connection of its own thread. A lost connection
//! (a restart, a failover, a cut) is made again with the workers' backoff; notifications sent
//! meanwhile are gone, so once it listens again the caller is told `all`: reload every resident
//! document and every table.

use std::sync::atomic::Ordering;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::conn::Conn;
use super::{Pg, CHANNEL};
use crate::error::ServerError;

/// How long the listener waits for a notification before it checks that its connection is
/// alive (a network cut without a reset is found this way).
const CHECK_EVERY: Duration = Duration::from_secs(5);

impl Pg {
    /// Listens for the other nodes' notifications on a connection of its own thread; calls
    /// `on` with what changed (`doc <id>`, `kv <tree> <key hex>`...) for every notification
    /// not sent by this node, and `all` each time it (re)starts listening.
    pub fn listen(&self, on: impl Fn(&str) + Send + 'static) -> Result<(), ServerError> {
        let node = self.node.clone();
        let health = self.health.clone();
        health.listens.store(true, Ordering::Relaxed);
        let mut conn = Conn::new(
            self.settings.clone(),
            format!("kooperacja-listen {node}"),
            health.clone(),
        )
        .uncounted();
        let mut first = true;
        std::thread::Builder::new()
            .name("postgres-listen".into())
            .spawn(move || loop {
                let client = match conn.client() {
                    Ok(client) => client,
                    Err(_) => {
                        // Down: wait out the backoff, then try again.
                        std::thread::sleep(conn.wait().max(Duration::from_millis(50)));
                        continue;
                    }
                };
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                    tracing::warn!(error = %e, "LISTEN failed");
                    conn.check();
                    continue;
                }
                health.listening.store(true, Ordering::Relaxed);
                if !first {
                    health.listen_reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        "listening to the other nodes again: reloading resident documents and tables"
                    );
                }
                first = false;
                // Something may have changed while we were not listening.
                on("all");
                loop {
                    let lost = {
                        let mut notifications = client.notifications();
                        let mut it = notifications.timeout_iter(CHECK_EVERY);
                        loop {
                            match it.next() {
                                Ok(Some(n)) => match n.payload().split_once(' ') {
                                    Some((from, what)) if from != node.as_str() => {
                                        tracing::debug!(node = %node, from, what, "heard");
                                        on(what)
                                    }
                                    _ => {}
                                },
                                Ok(None) => break false,
                                Err(e) => {
                                    tracing::warn!(error = %e, "PostgreSQL notifications lost");
                                    break true;
                                }
                            }
                        }
                    };
                    if lost || client.is_valid(CHECK_EVERY).is_err() {
                        break;
                    }
                }
                health.listening.store(false, Ordering::Relaxed);
                tracing::warn!(
                    "the listening connection to PostgreSQL is lost: changes of other nodes \
                     are not heard until it is back"
                );
                conn.check();
                conn.drop_client();
            })
            .map_err(|e| ServerError::io("starting the PostgreSQL listener", e))?;
        Ok(())
    }
}
