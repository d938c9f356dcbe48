//! `GET /sync`: authenticate, upgrade, then pump frames between the socket and the hub.
//!
//! Each connection has a reader (decodes frames on its own task, so decoding runs in parallel
//! with the hub: [`reader`]) and a writer (encodes and sends, pings every few seconds, closes a
//! socket whose peer stopped answering: [`writer`]). What they and the hub share is the hub's
//! [`ConnectionState`].

mod liveness;
mod reader;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::StreamExt;
use serde::Deserialize;
use sync_core::engine::{ConnId, Input, Principal};
use tokio::sync::mpsc;

use crate::auth;
use crate::error::ApiError;
use crate::hub::{Command, Connection, ConnectionState};
use crate::identity::Authenticated;
use crate::state::AppState;
use liveness::Liveness;
use writer::Writer;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// `?token=` for clients (browsers) that cannot set headers on a WebSocket.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The `/sync` handler.
#[utoipa::path(
    get,
    path = "/sync",
    tag = "sync",
    summary = "Połączenie WebSocket protokołu automerge-repo",
    params(("token" = Option<String>, Query, description = "Token, gdy przeglądarka nie może wysłać nagłówka")),
    responses(
        (status = 101, description = "Przejście na WebSocket"),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 400, description = "Nie jest to żądanie WebSocket"),
    ),
    security(("bearer" = []))
)]
pub async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Some(token) = auth::bearer(&headers, query.token.as_deref()) else {
        state.metrics.reject("no-token");
        return Err(ApiError::unauthorized(
            "a device token is required (Authorization: Bearer or ?token=)",
        ));
    };
    let (user, device) = match auth::authenticate(&state.directory, token).await? {
        Authenticated::Device(user, device) => (user, device),
        Authenticated::Revoked(device) => {
            state.metrics.reject("revoked");
            // Only a real attempt (a WebSocket upgrade) is audited, and its repeats are
            // counted rather than each written: a flood cannot grow the log.
            if upgrade.is_ok() {
                state.registry.audit().refusal(
                    "revoked-contact",
                    Some(&device.user),
                    &device.device_id,
                    "revoked",
                );
            }
            return Err(ApiError::unauthorized(auth::REVOKED_MESSAGE));
        }
        Authenticated::Expired => {
            state.metrics.reject("expired-token");
            return Err(ApiError::unauthorized(auth::EXPIRED_MESSAGE));
        }
        Authenticated::Unknown => {
            state.metrics.reject("bad-token");
            return Err(ApiError::unauthorized(auth::UNKNOWN_MESSAGE));
        }
    };
    let upgrade = upgrade.map_err(|e| {
        ApiError::bad_request(format!(
            "/sync speaks the automerge-repo protocol over WebSocket: {e}"
        ))
    })?;
    let slot = match state.doors.sockets.take(&user.login, &device.device_id) {
        Ok(slot) => slot,
        Err(reached) => {
            state.metrics.reject(reached.reason());
            state.registry.audit().refusal(
                "connection-refused",
                Some(&user.login),
                &device.device_id,
                reached.reason(),
            );
            return Err(ApiError::too_many(reached.message()));
        }
    };
    let Ok(permit) = state.connection_slots.clone().try_acquire_owned() else {
        state.metrics.reject("connection-cap");
        return Err(ApiError::unavailable(
            "the server has reached its connection limit; retry later",
        ));
    };
    let limits = state.limits.clone();
    let principal = Principal::new(user.login, device.device_id);
    Ok(upgrade
        .max_message_size(limits.max_frame)
        .max_frame_size(limits.max_frame)
        .on_upgrade(move |socket| async move {
            run(socket, state, principal).await;
            drop(permit);
            drop(slot);
        }))
}

/// One connection's life: hand it to the hub, run its reader here and its writer on a task of
/// its own, and tell the hub when it is gone.
async fn run(socket: WebSocket, state: AppState, principal: Principal) {
    let conn = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
    let (tx, rx) = mpsc::channel(state.outgoing_queue);
    let connection = Arc::new(ConnectionState::default());
    if !state
        .hub
        .send(Command::Connect(Connection {
            conn,
            principal,
            tx,
            state: connection.clone(),
        }))
        .await
    {
        return;
    }
    let (sink, stream) = socket.split();
    let liveness = Arc::new(Liveness::new());
    let writer = tokio::spawn(
        Writer {
            sink,
            rx,
            connection: connection.clone(),
            liveness: liveness.clone(),
            limits: state.limits.clone(),
            metrics: state.metrics.clone(),
        }
        .run(),
    );
    let why = reader::read_loop(stream, conn, &state, &liveness, &connection).await;
    // The writer says why (if the reader knows) before the hub lets go of its queue.
    connection.end(why);
    state
        .hub
        .send(Command::Input(Input::Disconnected { conn }))
        .await;
    let _ = writer.await;
}
