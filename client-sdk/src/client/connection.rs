//! The connection to the server as the client's thread sees it ([`Link`]): whether it should
//! be online, the attempt scheduled or under way, the open socket, the backoff with jitter
//! between failures; and the tasks that make an attempt and then move frames between the
//! socket and the thread ([`pump`]).
//!
//! The tasks report to the thread as [`Cmd`]s naming their connection's number; the thread
//! decides what each report means (see `driver/link.rs`).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sync_core::engine::ConnId;
use sync_core::wire::{self, Message};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::command::{Cmd, Ended};
use super::duties::ListFetch;
use crate::transport::{self, ServerAddress};

/// The client's connection state.
#[derive(Debug)]
pub(super) struct Link {
    /// Whether the app wants the client online (it may still be waiting to reconnect).
    pub(super) online: bool,
    /// The open connection: its number and the sender to its socket writer.
    open: Option<(u64, mpsc::UnboundedSender<WsMessage>)>,
    /// The handshake on the open connection is done.
    pub(super) joined: bool,
    /// The task of the connection attempt (and then of the connection).
    task: Option<AbortHandle>,
    /// The number of the last attempt.
    last_id: u64,
    /// The connection attempt scheduled or under way.
    pub(super) attempt: Option<u64>,
    /// The attempt has started (its delay is over).
    pub(super) attempting: bool,
    /// Consecutive failures, for the backoff.
    failures: u32,
    /// When to fetch the server's document list again.
    pub(super) next_refresh: Option<tokio::time::Instant>,
}

impl Link {
    /// No connection yet; `online` says whether to make one.
    pub(super) fn new(online: bool) -> Self {
        Self {
            online,
            open: None,
            joined: false,
            task: None,
            last_id: 0,
            attempt: None,
            attempting: false,
            failures: 0,
            next_refresh: None,
        }
    }

    /// The open connection's number.
    pub(super) fn conn_id(&self) -> Option<u64> {
        self.open.as_ref().map(|(id, _)| *id)
    }

    /// Whether a connection is open (joined or not).
    pub(super) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The open connection, once its handshake is done.
    pub(super) fn joined_conn(&self) -> Option<ConnId> {
        self.conn_id().filter(|_| self.joined).map(ConnId)
    }

    /// Whether an attempt is scheduled, under way or open.
    pub(super) fn busy(&self) -> bool {
        self.open.is_some() || self.attempt.is_some()
    }

    /// Sends a message on the open connection, if any.
    pub(super) fn send(&self, message: &Message) {
        if let Some((_, sink)) = &self.open {
            let _ = sink.send(WsMessage::Binary(wire::encode(message).into()));
        }
    }

    /// Forgets the failures: the next reconnect waits the shortest delay.
    pub(super) fn reset_backoff(&mut self) {
        self.failures = 0;
    }

    /// Counts one more failure and says how long to wait before the next attempt: `min`
    /// doubled per consecutive failure up to `max`, then a random point in its upper half.
    pub(super) fn backoff(&mut self, min: Duration, max: Duration) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let base = min.as_millis() as u64;
        let max = max.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << self.failures.min(16)).min(max);
        let jittered = rand::random_range(exp / 2..=exp.max(1));
        Duration::from_millis(jittered)
    }

    /// Starts an attempt after `delay`: it fetches `list` first when given, then connects and
    /// pumps frames, reporting every step to `tx`.
    pub(super) fn start_attempt(
        &mut self,
        delay: Duration,
        server: ServerAddress,
        list: Option<ListFetch>,
        tx: mpsc::UnboundedSender<Cmd>,
    ) {
        self.last_id += 1;
        let id = self.last_id;
        self.attempt = Some(id);
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if tx.send(Cmd::Attempting(id)).is_err() {
                return;
            }
            if let Some(list) = list {
                let listed = list.await;
                let ok = listed.is_ok();
                if tx.send(Cmd::Listed(id, listed)).is_err() || !ok {
                    return;
                }
            }
            match transport::connect(&server, wire::DEFAULT_MAX_FRAME).await {
                Ok(socket) => pump(id, socket, tx).await,
                Err(e) => {
                    let _ = tx.send(Cmd::Closed(id, Ended::Failed(e)));
                }
            }
        });
        self.task = Some(task.abort_handle());
    }

    /// Stops the attempt scheduled or under way, if any.
    pub(super) fn abort_attempt(&mut self) {
        if self.attempt.take().is_some() {
            if let Some(task) = self.task.take() {
                task.abort();
            }
        }
        self.attempting = false;
    }

    /// The attempt ended without a connection.
    pub(super) fn attempt_ended(&mut self) {
        self.attempt = None;
        self.attempting = false;
        self.task = None;
    }

    /// The attempt `id` opened its socket: it becomes the open connection.
    pub(super) fn opened(&mut self, id: u64, sink: mpsc::UnboundedSender<WsMessage>) {
        self.attempt = None;
        self.attempting = false;
        self.failures = 0;
        self.open = Some((id, sink));
    }

    /// Forgets the open connection (it closed, or is being closed); returns its sender.
    pub(super) fn drop_open(&mut self) -> Option<(u64, mpsc::UnboundedSender<WsMessage>)> {
        let open = self.open.take();
        if open.is_some() {
            self.task = None;
            self.joined = false;
            self.next_refresh = None;
        }
        open
    }
}

/// Moves frames between the socket and the client's thread until either side ends.
async fn pump(id: u64, socket: transport::Socket, tx: mpsc::UnboundedSender<Cmd>) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
    if tx.send(Cmd::Opened(id, out_tx)).is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(message) = out_rx.recv().await {
            let closing = matches!(message, WsMessage::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let ended = loop {
        match stream.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => {
                if tx.send(Cmd::Frame(id, bytes.to_vec())).is_err() {
                    return;
                }
            }
            Some(Ok(WsMessage::Close(frame))) => {
                break match frame {
                    Some(f) => Ended::Closed {
                        code: Some(u16::from(f.code)),
                        reason: f.reason.to_string(),
                    },
                    None => Ended::Closed {
                        code: None,
                        reason: "closed".into(),
                    },
                };
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                break Ended::Closed {
                    code: None,
                    reason: e.to_string(),
                }
            }
            None => {
                break Ended::Closed {
                    code: None,
                    reason: "connection ended".into(),
                }
            }
        }
    };
    writer.abort();
    let _ = tx.send(Cmd::Closed(id, ended));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_longest_delay_with_jitter_in_its_upper_half() {
        let mut link = Link::new(true);
        let (min, max) = (Duration::from_millis(200), Duration::from_secs(30));
        for (failure, ceiling) in [(1, 400), (2, 800), (3, 1_600), (10, 30_000), (40, 30_000)] {
            while link.failures + 1 < failure {
                link.backoff(min, max);
            }
            let delay = link.backoff(min, max).as_millis() as u64;
            assert!(
                (ceiling / 2..=ceiling).contains(&delay),
                "failure {failure}: {delay} ms"
            );
        }
        link.reset_backoff();
        assert!(link.backoff(min, max) <= Duration::from_millis(400));
    }
}
