//! `GET /sync`: authenticate, upgrade, then pump frames between the socket and the hub.
//!
//! Each connection has a reader (decodes frames on its own task, so decoding runs in parallel
//! with the hub) and a writer (encodes and sends, pings every few seconds, closes a socket whose
//! peer stopped answering).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use sync_core::engine::{close_code, ConnId, Input, Principal};
use sync_core::wire;
use tokio::sync::{mpsc, Notify};

use crate::error::ApiError;
use crate::hub::{Command, Outgoing};
use crate::identity::Authenticated;
use crate::AppState;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// What a revoked device is told (the SDK wipes its local data when it reads "revoked").
pub const REVOKED_MESSAGE: &str = "this device was revoked: wipe its local data";

/// Why the connection is being ended, for the writer's close frame (none: the peer left).
pub type CloseReason = Arc<std::sync::Mutex<Option<(u16, String)>>>;

/// `?token=` for clients (browsers) that cannot set headers on a WebSocket.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The bearer token from `Authorization` or `?token=`.
pub fn bearer(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .or_else(|| query.map(str::to_string))
}

/// The `/sync` handler.
pub async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Some(token) = bearer(&headers, query.token.as_deref()) else {
        state.metrics.reject("no-token");
        return Err(ApiError::unauthorized(
            "a device token is required (Authorization: Bearer or ?token=)",
        ));
    };
    let directory = state.directory.clone();
    let identity = tokio::task::spawn_blocking(move || directory.authenticate(&token))
        .await
        .map_err(|_| ApiError::unavailable("authentication failed to run"))?
        .map_err(ApiError::from)?;
    let (user, device) = match identity {
        Authenticated::Device(user, device) => (user, device),
        Authenticated::Revoked(device) => {
            state.metrics.reject("revoked");
            state.registry.audit().note(
                "revoked-contact",
                Some(&device.user),
                Some(&device.device_id),
                None,
                serde_json::json!({}),
            );
            return Err(ApiError::unauthorized(REVOKED_MESSAGE));
        }
        Authenticated::Expired => {
            state.metrics.reject("expired-token");
            return Err(ApiError::unauthorized(
                "the access token has expired; get a new one with POST /api/v1/token",
            ));
        }
        Authenticated::Unknown => {
            state.metrics.reject("bad-token");
            return Err(ApiError::unauthorized("unknown device token"));
        }
    };
    let upgrade = upgrade.map_err(|e| {
        ApiError::bad_request(format!(
            "/sync speaks the automerge-repo protocol over WebSocket: {e}"
        ))
    })?;
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
        }))
}

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Sustained frames per second per connection.
    pub frames_per_second: u32,
    /// Burst allowance above the sustained rate.
    pub burst: u32,
    /// Ping interval.
    pub ping_every: Duration,
    /// Close a connection that sends nothing (not even a pong) for this long.
    pub idle_timeout: Duration,
}

async fn run(socket: WebSocket, state: AppState, principal: Principal) {
    let conn = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
    let (tx, rx) = mpsc::channel(state.outgoing_queue);
    let kill = Arc::new(Notify::new());
    let close_reason: CloseReason = Arc::default();
    let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    if !state
        .hub
        .send(Command::Connect {
            conn,
            principal,
            tx,
            kill: kill.clone(),
            close_reason: close_reason.clone(),
            queued: queued.clone(),
        })
        .await
    {
        return;
    }
    let (sink, stream) = socket.split();
    let last_heard = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let writer = tokio::spawn(write_loop(
        sink,
        rx,
        kill.clone(),
        state.clone(),
        (last_heard.clone(), started),
        close_reason.clone(),
        queued,
    ));
    if let Some(reason) = read_loop(stream, conn, &state, &last_heard, started, &kill).await {
        if let Ok(mut slot) = close_reason.lock() {
            *slot = Some(reason);
        }
    }
    // The writer says why (if the reader knows) before the hub lets go of its queue.
    kill.notify_one();
    state
        .hub
        .send(Command::Input(Input::Disconnected { conn }))
        .await;
    let _ = writer.await;
}

async fn read_loop(
    mut stream: futures::stream::SplitStream<WebSocket>,
    conn: ConnId,
    state: &AppState,
    last_heard: &AtomicU64,
    started: Instant,
    kill: &Notify,
) -> Option<(u16, String)> {
    let limits = &state.limits;
    let mut allowance = f64::from(limits.burst);
    let mut last = Instant::now();
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = kill.notified() => return None,
        };
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("Space limit") {
                    state.metrics.reject("frame-too-large");
                    return Some((
                        close_code::TOO_BIG,
                        format!("frame over the limit of {} bytes", limits.max_frame),
                    ));
                }
                return None;
            }
            None => return None,
        };
        last_heard.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        match message {
            WsMessage::Binary(bytes) => {
                state.metrics.frames_in.fetch_add(1, Ordering::Relaxed);
                state
                    .metrics
                    .bytes_in
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                // Token bucket: a peer may not flood the hub.
                let now = Instant::now();
                allowance = (allowance
                    + now.duration_since(last).as_secs_f64() * f64::from(limits.frames_per_second))
                .min(f64::from(limits.burst));
                last = now;
                if allowance < 1.0 {
                    state.metrics.reject("rate-limit");
                    return Some((
                        close_code::RATE_LIMITED,
                        format!("more than {} frames per second", limits.frames_per_second),
                    ));
                }
                allowance -= 1.0;
                let input = match wire::decode(&bytes, limits.max_frame) {
                    Ok(message) => Input::Received { conn, message },
                    // The engine turns it into a typed rejection, an error message and a close.
                    Err(_) => Input::Frame {
                        conn,
                        bytes: bytes.to_vec(),
                    },
                };
                if !state.hub.send(Command::Input(input)).await {
                    return None;
                }
            }
            WsMessage::Text(_) => {
                state.metrics.reject("text-frame");
                return Some((
                    close_code::PROTOCOL_ERROR,
                    "text frames are not part of the protocol: send binary CBOR frames".into(),
                ));
            }
            WsMessage::Close(_) => return None,
            WsMessage::Ping(_) | WsMessage::Pong(_) => {}
        }
    }
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, WsMessage>,
    mut rx: mpsc::Receiver<Outgoing>,
    kill: Arc<Notify>,
    state: AppState,
    (last_heard, started): (Arc<AtomicU64>, Instant),
    close_reason: CloseReason,
    queued: Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut ping = tokio::time::interval(state.limits.ping_every);
    ping.tick().await;
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Message(message)) => {
                    // Everything already queued goes out with one flush (fewer syscalls).
                    let mut next = Some(Outgoing::Message(message));
                    let mut failed = false;
                    let mut closing = None;
                    while let Some(out) = next.take() {
                        match out {
                            Outgoing::Message(message) => {
                                queued.fetch_sub(queued_size(&message), Ordering::Relaxed);
                                let bytes = wire::encode(&message);
                                state.metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                                state.metrics.bytes_out.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                                // A peer that stopped reading blocks this write; the hub's
                                // drop (slow reader, revocation) must still end it at once.
                                let fed = tokio::select! {
                                    fed = sink.feed(WsMessage::Binary(bytes.into())) => fed.is_ok(),
                                    _ = kill.notified() => false,
                                };
                                if !fed {
                                    failed = true;
                                    break;
                                }
                            }
                            close @ Outgoing::Close { .. } => {
                                closing = Some(close);
                                break;
                            }
                        }
                        next = rx.try_recv().ok();
                    }
                    let flushed = !failed && tokio::select! {
                        flushed = sink.flush() => flushed.is_ok(),
                        _ = kill.notified() => false,
                    };
                    if !flushed {
                        break;
                    }
                    if let Some(Outgoing::Close { code, reason }) = closing {
                        let frame = CloseFrame { code, reason: truncate(&reason).into() };
                        let _ = sink.send(WsMessage::Close(Some(frame))).await;
                        break;
                    }
                }
                Some(Outgoing::Close { code, reason }) => {
                    let frame = CloseFrame { code, reason: truncate(&reason).into() };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                // The hub let go of this connection: say why, if the reader knows.
                None => {
                    if let Some((code, reason)) = close_reason.lock().ok().and_then(|mut r| r.take()) {
                        let frame = CloseFrame { code, reason: truncate(&reason).into() };
                        let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    }
                    break;
                }
            },
            _ = ping.tick() => {
                let heard = last_heard.load(Ordering::Relaxed);
                let silent = started.elapsed().as_millis() as u64 - heard;
                if silent > state.limits.idle_timeout.as_millis() as u64 {
                    let frame = CloseFrame { code: 1001, reason: "no answer to pings".into() };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = kill.notified() => {
                // With no reason given, the peer left: there is nobody to tell.
                let Some((code, reason)) = close_reason.lock().ok().and_then(|mut r| r.take()) else {
                    break;
                };
                let frame = CloseFrame { code, reason: truncate(&reason).into() };
                let _ = sink.send(WsMessage::Close(Some(frame))).await;
                break;
            }
        }
    }
    kill.notify_one();
}

/// What a message counts against a peer's queue limit: its payload and a little overhead.
pub(crate) fn queued_size(message: &wire::Message) -> usize {
    64 + match message {
        wire::Message::Sync(m) | wire::Message::Request(m) => m.data.len(),
        wire::Message::Ephemeral(e) => e.data.len(),
        _ => 0,
    }
}

/// Close reasons are limited to 123 bytes by the WebSocket protocol.
fn truncate(reason: &str) -> String {
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}
