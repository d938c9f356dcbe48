//! The server's doors: what stands between a socket that reaches the port and the handlers.
//!
//! - [`accept`]: the accept loop of the plain and TLS listeners. A connection must finish its
//!   TLS handshake and each request's headers within the header timeout, and at most so many
//!   connections may be *pending* at once (accepted, but not yet past their first request's
//!   headers): slow or silent clients (slowloris) cannot hold sockets and file descriptors.
//! - [`caps`]: WebSocket caps per user and per device, besides the global cap, so one account
//!   cannot take every slot.
//! - [`headers`]: the headers of every answer (`Cache-Control: no-store`,
//!   `X-Content-Type-Options: nosniff`, HSTS with a real certificate) and who may read
//!   `/metrics` (a bearer token, a listener of its own, or else loopback peers only).

pub mod accept;
pub mod caps;
pub mod headers;

use std::sync::Arc;

pub use caps::{CapReached, SocketCaps, SocketSlot};
pub use headers::{MetricsAccess, MetricsRefusal};

/// Default time a client has for its TLS handshake and for each request's headers.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Default cap on connections accepted but not yet past their first request's headers.
pub const MAX_PENDING: usize = 1024;
/// Default cap on one user's open WebSockets (all their devices).
pub const MAX_SOCKETS_PER_USER: usize = 64;
/// Default cap on one device's open WebSockets.
pub const MAX_SOCKETS_PER_DEVICE: usize = 16;

/// What the handlers need of the doors.
#[derive(Debug)]
pub struct Doors {
    /// WebSockets open per user and per device.
    pub sockets: Arc<SocketCaps>,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
}
