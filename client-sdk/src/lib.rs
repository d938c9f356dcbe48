//! # client-sdk: Kooperacja on a tablet
//!
//! The library a tablet app uses to keep cases and PZK documents on the device and sync them
//! with the regional server in the background.
//!
//! - [`transport`]: TCP, TLS (pinned development certificate or CA roots) and the WebSocket.
//! - [`client`]: [`SyncClient`], the background thread that owns the sync engine and the store.

pub mod client;
mod error;
pub mod transport;

pub use client::{ClientConfig, ClientEvent, SyncClient};
pub use error::SdkError;
pub use transport::{ServerAddress, Trust};
