//! The load generator of issue #8, mirroring `../shared/bench/load.mjs`.
//!
//! N clients each own D documents `{title, n, notes: text, items: []}` and make E edits to each
//! (an edit is one change: `n = e` and `text_len` random characters spliced into `notes` at a
//! random position; with `typing`, the splice alone), flat out or one round every `interval`. For every document the next client
//! (`(i + 1) mod N`) watches it and records, per edit, the delay from the owner's change to its
//! arrival (one process: edits are stamped with a monotonic clock in a shared table).
//!
//! Phases: connect, create (until the server acknowledges every document), subscribe (watchers
//! fetch), edit (until the server holds every change: each owner's local heads equal the heads
//! the server advertised), settle (until every watcher has the last edit), verify (a fresh
//! client fetches every document; its heads and content must match the owner's).
//!
//! Beside it, [`archive`] (the stored-documents scenario) and [`blast`] (the acknowledged-durable
//! rate). The pieces: `config` and `workload` (the edit workload and its phases),
//! `workload_report` (what it reports), [`client`] (one simulated tablet), `socket` and
//! `document` (what every scenario's connections share), `address`, `report` and `sampler`
//! (the figures every scenario reports alike), [`procfs`].

mod address;
pub mod archive;
pub mod blast;
pub mod client;
mod config;
mod document;
pub mod procfs;
mod report;
mod sampler;
mod socket;
mod workload;
mod workload_report;

pub use address::trust_from_ca;
pub use config::LoadConfig;
pub use report::{Latency, LoadGenerator};
pub use workload::run;
pub use workload_report::{EditPhase, LoadReport, Params, ServerProcess, Wire};
