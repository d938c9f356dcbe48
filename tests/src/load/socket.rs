//! One WebSocket to the server as the scenarios use it: a writer task that flushes once per
//! burst, and the stream of frames received.

use client_sdk::transport::{self, ServerAddress, Socket};
use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use sync_core::wire;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Opens a WebSocket to the server: frames to send go into the returned sender (a writer task
/// feeds them to the socket, flushing once per burst), frames received come from the stream.
pub(crate) async fn open(
    address: &ServerAddress,
) -> Result<
    (
        mpsc::UnboundedSender<WsMessage>,
        SplitStream<Socket>,
        JoinHandle<()>,
    ),
    String,
> {
    let socket = transport::connect(address, wire::DEFAULT_MAX_FRAME)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let (sink, stream) = socket.split();
    let (out, writer) = writer(sink);
    Ok((out, stream, writer))
}

/// A task feeding frames from the returned sender to `sink`, flushing once per burst; it ends
/// after a close frame or when the socket fails.
pub(crate) fn writer(
    mut sink: futures::stream::SplitSink<Socket, WsMessage>,
) -> (mpsc::UnboundedSender<WsMessage>, JoinHandle<()>) {
    let (out, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut closing = matches!(first, WsMessage::Close(_));
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                closing |= matches!(more, WsMessage::Close(_));
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() || closing {
                return;
            }
        }
    });
    (out, task)
}
