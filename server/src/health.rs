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
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "Czy proces żyje",
    responses(
        (status = 200, description = "ok", body = String, content_type = "text/plain"),
    ),
)]
pub async fn alive() -> &'static str {
    "ok"
}

/// `/readyz`: the store is readable (on PostgreSQL also: this node hears the other nodes and
/// no other process writes its audit chain); when not, why, in one line.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "Czy magazyn jest gotowy",
    responses(
        (status = 200, description = "ready", body = String, content_type = "text/plain"),
        (status = 503, description = "not ready", body = String, content_type = "text/plain"),
    ),
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let storage = state.storage.clone();
    match tokio::task::spawn_blocking(move || storage.readiness()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(why)) => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response(),
    }
}

/// `/metrics` on the main listener: Prometheus text.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    summary = "Metryki Prometheusa (z pętli zwrotnej lub dla administratora)",
    responses(
        (status = 200, description = "Prometheus text", body = String, content_type = "text/plain"),
        (status = 403, description = "Nie z tego adresu"),
    ),
)]
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
    let mut text = state.metrics.render();
    if let crate::store::DocStore::Pg(pg) = state.storage.inner() {
        crate::metrics::render_postgres(pg.pg().health(), &mut text);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
}
