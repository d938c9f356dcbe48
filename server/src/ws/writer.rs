//! A connection's writer: encodes what the hub sends and writes it (everything already queued
//! with one flush), pings every few seconds, and closes the socket with the code and reason of
//! a [`Closing`] — the one place a close frame is built.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures::SinkExt;
use sync_core::wire;
use tokio::sync::mpsc;

use super::liveness::Liveness;
use crate::hub::{queued_size, Closing, ConnectionState, Limits, Outgoing};
use crate::metrics::Metrics;

/// Everything a connection's writer task works with.
pub(super) struct Writer {
    /// The socket's sending half.
    pub sink: futures::stream::SplitSink<WebSocket, WsMessage>,
    /// What the hub sends this connection.
    pub rx: mpsc::Receiver<Outgoing>,
    /// What the reader, the writer and the hub share.
    pub connection: Arc<ConnectionState>,
    /// When the peer was last heard from.
    pub liveness: Arc<Liveness>,
    /// The ping interval and idle timeout.
    pub limits: Limits,
    /// Frames and bytes out.
    pub metrics: Arc<Metrics>,
}

impl Writer {
    /// Writes until the hub lets go, the connection ends, or the peer stops answering pings;
    /// then ends the connection (the reader stops too).
    pub(super) async fn run(self) {
        let Writer {
            mut sink,
            mut rx,
            connection,
            liveness,
            limits,
            metrics,
        } = self;
        let mut ping = tokio::time::interval(limits.ping_every);
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
                                    connection.sub_queued(queued_size(&message));
                                    let bytes = wire::encode(&message);
                                    metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                                    metrics.bytes_out.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                                    // A peer that stopped reading blocks this write; the hub's
                                    // drop (slow reader, revocation) must still end it at once.
                                    let fed = tokio::select! {
                                        fed = sink.feed(WsMessage::Binary(bytes.into())) => fed.is_ok(),
                                        _ = connection.ended() => false,
                                    };
                                    if !fed {
                                        failed = true;
                                        break;
                                    }
                                }
                                Outgoing::Close(why) => {
                                    closing = Some(why);
                                    break;
                                }
                            }
                            next = rx.try_recv().ok();
                        }
                        let flushed = !failed && tokio::select! {
                            flushed = sink.flush() => flushed.is_ok(),
                            _ = connection.ended() => false,
                        };
                        if !flushed {
                            break;
                        }
                        if let Some(why) = closing {
                            let _ = sink.send(close_frame(&why)).await;
                            break;
                        }
                    }
                    Some(Outgoing::Close(why)) => {
                        let _ = sink.send(close_frame(&why)).await;
                        break;
                    }
                    // The hub let go of this connection: say why, if the reader knows.
                    None => {
                        if let Some(why) = connection.take_closing() {
                            let _ = sink.send(close_frame(&why)).await;
                        }
                        break;
                    }
                },
                _ = ping.tick() => {
                    if liveness.silent_ms() > limits.idle_timeout.as_millis() as u64 {
                        let _ = sink.send(close_frame(&Closing::NoPong)).await;
                        break;
                    }
                    if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                        break;
                    }
                }
                _ = connection.ended() => {
                    // With no reason given, the peer left: there is nobody to tell.
                    let Some(why) = connection.take_closing() else {
                        break;
                    };
                    let _ = sink.send(close_frame(&why)).await;
                    break;
                }
            }
        }
        connection.end(None);
    }
}

/// The close frame that tells the peer why.
fn close_frame(why: &Closing) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code: why.code(),
        reason: truncate(&why.reason()).into(),
    }))
}

/// Close reasons are limited to 123 bytes by the WebSocket protocol.
fn truncate(reason: &str) -> String {
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}
