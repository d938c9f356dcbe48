//! What operators and their monitoring ask: `/healthz` (the process answers), `/readyz` (the
//! store is readable) and `/metrics` (Prometheus text).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::state::AppState;

/// `/healthz`: the process answers.
pub async fn alive() -> &'static str {
    "ok"
}

/// `/readyz`: the store is readable.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let storage = state.storage.clone();
    match tokio::task::spawn_blocking(move || storage.is_ready()).await {
        Ok(true) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store not readable"),
    }
}

/// `/metrics`: Prometheus text.
pub async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
