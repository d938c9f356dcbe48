//! # sync-core: the sans-IO heart of Kooperacja
//!
//! Kooperacja keeps each family's *case* and each partner team's (*PZK*) documents as Automerge
//! CRDT documents and syncs them between tablets, browsers and the regional server with the
//! automerge-repo WebSocket protocol. This crate holds everything that is not IO:
//!
//! - [`ids`]: document, peer and storage identifiers ([`DocumentId`], [`AutomergeUrl`]...).
//! - [`wire`]: the protocol's messages and their CBOR framing.
//! - [`engine`]: the sync state machine, driven as *inputs in, effects out*.
//! - [`storage`]: the fallible storage trait, its keys, and the in-memory and sled stores.
//! - [`model`]: the typed case and PZK documents, their schema and validation.
//! - [`host`]: the one-thread loop around an engine (storage carried out at once), for the test
//!   harness, the fuzzer, the benchmarks and the load generator.
//! - [`presence`]: who is in a document and where (automerge-repo 2.x presence messages).
//! - `fuzzing` (feature `fuzzing`): the properties the fuzz targets in `fuzz/` check.
//!
//! The server and the client SDK are thin loops around [`engine::Engine`]: they read sockets and
//! feed [`engine::Input`]s, then carry out the [`engine::Effect`]s (send a frame, run a storage
//! task, close a connection). Time comes in as [`engine::Millis`]; nothing here reads a clock,
//! a socket or (outside [`storage`]'s implementations) a disk.
//!
//! ```
//! use sync_core::engine::{AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Input, Millis, Principal};
//! use sync_core::PeerId;
//!
//! // A tablet's engine connecting to the regional server speaks first: it sends `join`.
//! let mut tablet = Engine::new(EngineConfig::client(PeerId::new("tablet-1").unwrap()), AllowAll);
//! let effects = tablet.handle(Millis(0), Input::Connected {
//!     conn: ConnId(1),
//!     direction: Direction::Outbound,
//!     principal: Principal::new("server", "server"),
//! });
//! assert!(matches!(&effects[0], Effect::Send { conn: ConnId(1), .. }));
//! ```

pub mod catalogue;
pub mod engine;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod host;
pub mod ids;
pub mod model;
pub mod presence;
pub mod storage;
mod violation;
pub mod wire;

pub use catalogue::{message_pl, Coded};
pub use error::{DecodeError, Error, IdError, Refusal, RuleViolation, SchemaError, StorageError};
pub use ids::{AutomergeUrl, DocumentId, PeerId, StorageId};
