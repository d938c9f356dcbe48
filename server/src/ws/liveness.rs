//! When a peer was last heard from: the reader notes every frame, the writer's ping closes a
//! connection that stayed silent past the idle timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// When a connection's peer last sent anything (a frame, a ping, a pong).
#[derive(Debug)]
pub struct Liveness {
    started: Instant,
    /// Milliseconds after `started`.
    last_heard: AtomicU64,
}

impl Liveness {
    /// A connection that starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            last_heard: AtomicU64::new(0),
        }
    }

    /// The peer was heard from just now.
    pub fn heard(&self) {
        self.last_heard
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long, in milliseconds, the peer has been silent.
    pub fn silent_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 - self.last_heard.load(Ordering::Relaxed)
    }
}

impl Default for Liveness {
    fn default() -> Self {
        Self::new()
    }
}
