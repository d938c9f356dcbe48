//! # client-sdk-ffi: Kooperacja's tablet library for Kotlin (Android) and Swift (iPadOS)
//!
//! The whole [`client_sdk::Tablet`] API behind a C ABI made with UniFFI (proc-macro style), so a
//! vendor's native app uses the same Rust core as every other client: the encrypted store, the
//! model's rules, background sync. `uniffi-bindgen` (a binary of this crate) generates the
//! Kotlin and Swift sources from the built library; `kotlin/` beside this crate tests them on the
//! JVM against a real server.
//!
//! A tour:
//! - [`Tablet`] (`tablet.rs`, `edits.rs`, `steps.rs`): open with [`TabletSettings`] (the store key
//!   as bytes from Android Keystore / iOS Keychain, the server with a pinned certificate or CA
//!   roots), documents, creating cases and PZK documents, every typed edit, read views, history,
//!   conflicts and their resolution, sharing, online/offline, wipe.
//! - [`TextSession`] (`text.rs`): keystrokes buffered into few changes.
//! - `streams.rs`: the sync status and the tablet's events delivered to a listener the app
//!   implements (Kotlin wraps it as a `Flow`, Swift as an `AsyncStream`), and [`Subscription`].
//! - [`DocumentPresence`] (`presence.rs`): who else is in a document.
//! - `views/`: the case and PZK read views as plain records; `enums.rs`: the model's closed sets of
//!   values; `inputs.rs`: what edits take.
//! - [`KooperacjaError`] (`error.rs`): every failure as a typed exception carrying the stable
//!   reason code and the Polish message of the catalogue (`sync-core/messages/pl.json`).
//! - `attachments.rs`: attaching a file to a case offline, the case's attachments with where
//!   their bytes are, downloading one on demand, reading or saving it, eviction, and the
//!   attachment events to a listener (Kotlin `attachmentEventFlow()`).
//! - `referrals.rs`: referrals (*zgłoszenia*): refer, read, accept (a case opens), decline.
//!
//! Every `async` method runs on one Tokio runtime owned by the library (`runtime.rs`) and becomes
//! a Kotlin `suspend fun` / Swift `async` function; cancelling the caller does not undo an edit
//! that has started (it is durable on the device when it completes).

mod attachments;
mod config;
mod convert;
mod edits;
mod enums;
mod error;
mod inputs;
mod presence;
mod records;
mod referrals;
mod runtime;
mod steps;
mod streams;
mod tablet;
mod text;
mod views;

pub use attachments::{
    Attached, AttachmentEntry, AttachmentEvent, AttachmentEventListener, AttachmentPlace,
    EvictedAttachment,
};
pub use config::{ServerSettings, TabletSettings, TrustSettings};
pub use error::KooperacjaError;
pub use presence::DocumentPresence;
pub use records::{
    ConflictValue, FieldConflict, HistoryEntry, LocalDocument, PresencePeer, StageMove, SyncState,
    SyncStatus, TabletEvent, TextView,
};
pub use referrals::{ReferralDetails, ReferralForm};
pub use streams::{PeersListener, Subscription, SyncStatusListener, TabletEventListener};
pub use tablet::Tablet;
pub use text::{TextField, TextSession};

uniffi::setup_scaffolding!("kooperacja");
