//! A connection's reader: takes frames off the socket, rate-limits them (a token bucket) and
//! decodes each once, on the connection's own task, so decoding runs in parallel with the hub.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures::StreamExt;
use sync_core::engine::{ConnId, Input};
use sync_core::wire;

use super::liveness::Liveness;
use crate::hub::{Closing, Command, ConnectionState};
use crate::state::AppState;

/// Reads until the peer leaves, breaks a rule, or the connection is ended; returns why to close
/// (none: the peer left, or the hub ended it).
pub(super) async fn read_loop(
    mut stream: futures::stream::SplitStream<WebSocket>,
    conn: ConnId,
    state: &AppState,
    liveness: &Liveness,
    connection: &ConnectionState,
) -> Option<Closing> {
    let limits = &state.limits;
    let mut allowance = f64::from(limits.burst);
    let mut last = Instant::now();
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = connection.ended() => return None,
        };
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("Space limit") {
                    state.metrics.reject("frame-too-large");
                    return Some(Closing::FrameTooLarge {
                        max_frame: limits.max_frame,
                    });
                }
                return None;
            }
            None => return None,
        };
        liveness.heard();
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
                    return Some(Closing::RateLimited {
                        frames_per_second: limits.frames_per_second,
                    });
                }
                allowance -= 1.0;
                let input = match wire::decode(&bytes, limits.max_frame) {
                    Ok(message) => Input::Received { conn, message },
                    // The engine turns it into a typed rejection, an error message and a close.
                    Err(error) => Input::Malformed { conn, error },
                };
                if !state.hub.send(Command::Input(input)).await {
                    return None;
                }
            }
            WsMessage::Text(_) => {
                state.metrics.reject("text-frame");
                return Some(Closing::TextFrame);
            }
            WsMessage::Close(_) => return None,
            WsMessage::Ping(_) | WsMessage::Pong(_) => {}
        }
    }
}
