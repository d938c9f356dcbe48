//! # The Kooperacja regional server
//!
//! A ROPS runs one per voivodeship. Tablets (our SDK) and browsers (the official automerge-repo
//! JS client) connect to `GET /sync` with a device token and speak the automerge-repo WebSocket
//! protocol; the server merges their changes with `sync-core`'s engine, keeps them durably in
//! sled, and serves each person only the documents they may see.
//!
//! A tour of the components:
//! - [`config`]: the command line (`serve`, `admin`), TOML file and environment.
//! - [`app`]: the HTTP router (`/sync`, `/healthz`, `/readyz`, `/metrics`, the API), a library
//!   function so tests drive it without `main`.
//! - [`ws`]: one WebSocket connection: authenticate, then reader and writer tasks.
//! - [`hub`]: the task that owns the engine, and the storage threads with group commit.
//! - [`access`]: who may read and write which document.
//! - [`identity`]: users, roles, devices and tokens.
//! - [`tls`]: certificates from files, or a development one made on first start.
//! - [`serve`]: binds, serves over TLS or loopback HTTP, shuts down gracefully.
//! - [`web`]: the remote PZK meeting page (`/`, `/meeting/…`), built into the binary.

pub mod access;
pub mod admin;
pub mod audit;
pub mod config;
pub mod disk;
pub mod error;
pub mod export;
pub mod hub;
pub mod identity;
pub mod kv;
pub mod metrics;
pub mod migrate;
pub mod pg;
pub mod serve;
pub mod store;
pub mod tls;
pub mod web;
pub mod ws;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;

pub use error::{ApiError, ServerError};

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The engine's task.
    pub hub: hub::HubHandle,
    /// Users, devices, tokens.
    pub directory: identity::Directory,
    /// Documents' access records and the audit log.
    pub registry: access::Registry,
    /// Metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Caps open WebSocket connections.
    pub connection_slots: Arc<Semaphore>,
    /// Per-connection limits.
    pub limits: ws::Limits,
    /// Size of each connection's outgoing queue.
    pub outgoing_queue: usize,
    /// The identity, access and audit trees.
    pub kv: kv::Kv,
    /// The document store (readiness, online backups, exports).
    pub storage: store::DocStore,
    /// The data directory.
    pub data_dir: std::path::PathBuf,
}

/// The HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/sync", get(ws::sync))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .nest("/api/v1", admin::api())
        .route("/", get(web::page))
        .route("/meeting/{*route}", get(web::page))
        .route("/assets/{*path}", get(web::asset))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let storage = state.storage.clone();
    match tokio::task::spawn_blocking(move || storage.is_ready()).await {
        Ok(true) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store not readable"),
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
