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
//!   function so tests drive it without `main`; [`AppState`] is what its handlers share.
//! - [`ws`]: one WebSocket connection: authenticate, then reader and writer tasks.
//! - [`hub`]: the task that owns the engine, the connection types it talks to, and the storage
//!   threads with group commit.
//! - [`auth`]: the one place bearer tokens are read and checked.
//! - [`api`]: the HTTP API under `/api/v1` (the caller's documents, tokens, administration).
//! - [`admin`]: the `admin` command line, run on a stopped server's data directory.
//! - [`access`]: who may read and write which document, and the policy the engine asks.
//! - [`identity`]: users, roles, devices and tokens; [`enrolment`]: one-time codes, hashed and
//!   guarded against guessing; [`signing`]: the access-token keys, wrapped, and their rotation.
//! - [`secrets`]: the master and audit keys, kept outside the store and its backups.
//! - [`backup`]: backup files, encrypted and authenticated with the operator's backup key.
//! - [`at_rest`]: documents encrypted at rest under per-document keys; erasure destroys the key.
//! - [`blobs`]: attachments' bytes, sealed under their case's key, uploaded in resumable ranges.
//! - [`tls`]: certificates from files, or a development one made on first start.
//! - [`serve`]: binds, serves over TLS or loopback HTTP, shuts down gracefully.
//! - [`doors`]: header timeout, pending-connection and per-account caps, security headers and
//!   who may read `/metrics`.
//! - [`access_report`]: the access report on one case (GDPR art. 15).
//! - [`evaluation`]: the region's de-identified figures (`/api/v1/evaluation`).
//! - [`erasure`]: erasing a case (the admin API's and the retention's one path);
//!   [`retention`]: finished cases kept for a period, their owners told, then erased.
//! - [`web`]: the remote PZK meeting page (`/`, `/meeting/…`), built into the binary.

pub mod access;
pub mod access_report;
pub mod admin;
pub mod api;
pub mod at_rest;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod config;
pub mod disk;
pub mod doors;
pub mod enrolment;
pub mod erasure;
pub mod error;
pub mod evaluation;
pub mod export;
pub mod health;
pub mod hub;
pub mod identity;
pub mod kv;
pub mod metrics;
pub mod migrate;
pub mod pg;
pub mod place;
pub mod refusals;
pub mod retention;
pub mod secrets;
pub mod serve;
pub mod signing;
pub mod state;
pub mod store;
pub mod tls;
pub mod web;
pub mod ws;

use axum::routing::get;
use axum::Router;

pub use error::{ApiError, ServerError};
pub use state::AppState;

/// The HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/sync", get(ws::sync))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics_text))
        .nest("/api/v1", api::router())
        .route("/", get(web::page))
        .route("/meeting/{*route}", get(web::page))
        .route("/app", get(web::app_root))
        .route("/app/", get(web::app))
        .route("/app/{*route}", get(web::app_route))
        .route("/assets/{*path}", get(web::asset))
        .layer(axum::middleware::map_response(doors::headers::no_store))
        .with_state(state)
}
