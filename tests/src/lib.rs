//! # kooperacja-tests: load and benchmark tools
//!
//! - [`load`]: the load generator of issue #8. Simulated tablets, each a sync-core
//!   [`Engine`](sync_core::engine::Engine) in client mode with one WebSocket, drive any
//!   automerge-repo sync server (ours, the JS reference, samod) with the workload of
//!   `../shared/bench/load.mjs` and measure edits/s, edit-to-peer latency, the server's CPU and
//!   peak RSS, dropped sockets, stale views, and a fresh client's verification of every document.
//!   The binary is `kooperacja-load` (`src/bin/kooperacja-load.rs`).
//! - `samod-bench-server` (`src/bin/samod-bench-server.rs`): samod behind its axum acceptor, with
//!   samod's filesystem storage, as the third server of the side-by-side benchmark.

pub mod error;
pub mod load;

pub use error::LoadError;
