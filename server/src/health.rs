//! What operators and their monitoring ask: `/healthz` (the process answers), `/readyz` (the
//! store is readable) and `/metrics` (Prometheus text, to whom [`crate::doors::headers`] lets in).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::doors::MetricsRefusal;
use crate::error::ApiError;
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

/// `/metrics` on the main listener: Prometheus text.
pub async fn metrics_text(State(state): State<AppState>, request: Request) -> Response {
    metrics_for(&state, false, &request)
}

/// `/metrics` on its own listener (`--metrics-listen`).
pub async fn metrics_on_own_listener(State(state): State<AppState>, request: Request) -> Response {
    metrics_for(&state, true, &request)
}

fn metrics_for(state: &AppState, on_own_listener: bool, request: &Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let bearer = crate::auth::bearer(request.headers(), None);
    if let Err(refusal) = state
        .doors
        .metrics
        .check(on_own_listener, peer, bearer.as_deref())
    {
        state.metrics.reject("metrics-refused");
        return match refusal {
            MetricsRefusal::NotHere => ApiError::not_found(refusal.message()),
            MetricsRefusal::Token => ApiError::unauthorized(refusal.message()),
            MetricsRefusal::NotLoopback => ApiError::forbidden(refusal.message()),
        }
        .into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}
