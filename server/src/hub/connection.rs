//! The connection types the hub talks to: what a WebSocket's tasks hand the hub when they
//! connect ([`Connection`]), what the hub sends them ([`Outgoing`]), the state both sides share
//! ([`ConnectionState`]), and the per-connection [`Limits`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use sync_core::engine::{ConnId, Principal};
use sync_core::wire;
use tokio::sync::futures::Notified;
use tokio::sync::{mpsc, Notify};

use super::close::Closing;

/// What the hub sends a connection's writer.
#[derive(Debug)]
pub enum Outgoing {
    /// A protocol message to encode and send.
    Message(wire::Message),
    /// Close the socket with this code and reason.
    Close(Closing),
}

/// What a connection's reader and writer tasks and the hub share: the signal that ends the
/// connection at once, why it ends, and how many bytes wait to be written to it.
#[derive(Debug, Default)]
pub struct ConnectionState {
    /// Notified to end the connection at once (the peer stopped reading, or left).
    kill: Notify,
    /// Why the connection is being ended, for the writer's close frame (none: the peer left).
    closing: Mutex<Option<Closing>>,
    /// Bytes queued for the socket and not yet written (the writer counts them down).
    queued: AtomicUsize,
}

impl ConnectionState {
    /// Records why the connection ends (if anyone knows) and ends it at once.
    pub fn end(&self, why: Option<Closing>) {
        if let Some(why) = why {
            if let Ok(mut slot) = self.closing.lock() {
                *slot = Some(why);
            }
        }
        self.kill.notify_one();
    }

    /// Resolves once the connection is to end (see [`ConnectionState::end`]).
    pub fn ended(&self) -> Notified<'_> {
        self.kill.notified()
    }

    /// Takes why the connection ends, if it was said.
    pub fn take_closing(&self) -> Option<Closing> {
        self.closing.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Counts a message queued for the writer.
    pub fn add_queued(&self, size: usize) {
        self.queued.fetch_add(size, Ordering::Relaxed);
    }

    /// Counts a message the writer took off the queue.
    pub fn sub_queued(&self, size: usize) {
        self.queued.fetch_sub(size, Ordering::Relaxed);
    }
}

/// A connection that was authenticated and upgraded, as the hub is given it.
#[derive(Debug)]
pub struct Connection {
    /// Its id.
    pub conn: ConnId,
    /// Who.
    pub principal: Principal,
    /// Its outgoing queue.
    pub tx: mpsc::Sender<Outgoing>,
    /// What its socket tasks and the hub share.
    pub state: std::sync::Arc<ConnectionState>,
}

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Sustained frames per second per connection.
    pub frames_per_second: u32,
    /// Burst allowance above the sustained rate.
    pub burst: u32,
    /// Ping interval.
    pub ping_every: Duration,
    /// Close a connection that sends nothing (not even a pong) for this long.
    pub idle_timeout: Duration,
}

/// What a message counts against a peer's queue limit: its payload and a little overhead.
pub fn queued_size(message: &wire::Message) -> usize {
    64 + match message {
        wire::Message::Sync(m) | wire::Message::Request(m) => m.data.len(),
        wire::Message::Ephemeral(e) => e.data.len(),
        _ => 0,
    }
}
