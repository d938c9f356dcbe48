//! # client-sdk: Kooperacja on a tablet
//!
//! The library a tablet app uses to keep cases and PZK documents on the device, encrypted, and
//! sync them with the regional server in the background.
//!
//! A tour of the components:
//! - [`Tablet`] (`tablet/`): what the app holds. It opens the encrypted store, loads the
//!   documents kept on the device, and offers typed edits of cases and PZK documents
//!   (`sync_core::model`), [`TextSession`]s that turn keystrokes into few changes, the
//!   [`SyncStatus`] a UI shows, and [`FieldConflict`]s to resolve.
//! - [`TabletStore`] (`store.rs`): sled in the app's data directory, every value sealed with
//!   XChaCha20-Poly1305 under the host app's [`TabletKey`] ([`EncryptedStorage`] does it for
//!   document chunks), and a key check that refuses a wrong key before touching anything.
//! - [`SyncClient`] (`client/`): the thread that owns the sans-IO sync engine and the store and
//!   reconnects with exponential backoff and jitter. A tablet gives it more duties
//!   (`tablet/duties.rs`): it fetches the server's document list, prunes what the user may no
//!   longer hold, and wipes the store when the device is revoked.
//! - Attachments (`attachments/`): files attached to a case offline
//!   ([`Tablet::attach_file`]), kept encrypted in `data_dir/attachments` in 256 KiB pieces,
//!   photos stripped of EXIF and GPS; a background queue uploads them (resumed, retried with
//!   backoff, [`AttachmentEvent`]s for progress); a colleague's tablet downloads one when it is
//!   opened ([`Tablet::download_attachment`]); unused cached files are evicted.
//! - [`DocumentPresence`] (`presence.rs`): who else is in a document and where, in
//!   automerge-repo 2.x's presence format, so browsers on the meeting page and tablets see
//!   each other.
//! - [`transport`]: TCP, TLS (a pinned development certificate or CA roots) and the WebSocket;
//!   `http.rs`: the document list over the same TLS trust.
//!
//! ```no_run
//! use client_sdk::{ServerAddress, SyncState, Tablet, TabletConfig, TabletKey, TextField, Trust};
//! use sync_core::model::case::{DiagnosisSector, Referral};
//! use sync_core::PeerId;
//! # async fn run(key: [u8; 32], token: String, fingerprint: String) -> Result<(), Box<dyn std::error::Error>> {
//! let server = ServerAddress { url: "wss://127.0.0.1:8443/sync".into(), token, trust: Trust::Pinned(fingerprint) };
//! let config = TabletConfig::new("/data/kooperacja", TabletKey::new(key), PeerId::new("tablet-7")?, "anna", "gops-przykladowo");
//! let tablet = Tablet::open(config.with_server(server)).await?;     // SdkError::WrongKey if the key does not fit
//! let referral = Referral { by: "pedagog".into(), institution: "sp-1".into(), reason: "Absences.".into(), at: chrono::Utc::now() };
//! let case = tablet.create_case("gops-przykladowo", referral, Default::default()).await?; // durable on return
//! let notes = tablet.edit_text(case, TextField::Diagnosis(DiagnosisSector::Housing)).await?;
//! notes.type_text("Two rooms, damp.")?;                             // keystrokes, buffered
//! notes.close().await?;                                             // one change, durable
//! println!("{}", *tablet.status().borrow());                        // "Synchronizacja: 0 z 1 dokumentów"
//! for conflict in tablet.conflicts(case).await? { println!("{conflict:?}"); }
//! tablet.wait_for_status("sync", std::time::Duration::from_secs(30), |s| s.state == SyncState::UpToDate).await?;
//! tablet.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod attachments;
pub mod client;
mod conflicts;
mod crypto;
mod encrypted;
mod error;
mod http;
mod presence;
mod session;
mod status;
mod store;
mod tablet;
pub mod transport;

pub use attachments::{Attached, AttachmentEvent, AttachmentPlace, AttachmentState, BlobReader};
pub use client::{ClientConfig, ClientEvent, LocalDocument, SyncClient};
pub use conflicts::{ConflictValue, FieldConflict};
pub use crypto::TabletKey;
pub use encrypted::EncryptedStorage;
pub use error::SdkError;
pub use presence::{DocumentPresence, Peers, PresenceOptions};
pub use session::{SmartPart, TextField, TextSession};
pub use status::{SyncState, SyncStatus};
pub use store::TabletStore;
pub use tablet::{ReferralForm, Tablet, TabletConfig};
pub use transport::{ServerAddress, Trust};
