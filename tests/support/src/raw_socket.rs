//! A raw WebSocket to the in-process server, for tests that speak the protocol frame by frame
//! as an attacker would: upgrade with a token, join with a chosen peer id, read until a message,
//! read the close frame.

use futures::{SinkExt, StreamExt};
use kooperacja_server::serve::RunningServer;
use sync_core::wire::{self, Join, Message, PeerMetadata};
use sync_core::PeerId;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use crate::WAIT;

/// A raw WebSocket to a plain-HTTP server (`TlsMode::InsecureLoopback`).
pub type Socket = WebSocketStream<TcpStream>;

/// A raw WebSocket with a valid token, not yet joined.
pub async fn upgraded(server: &RunningServer, token: &str) -> Socket {
    crate::websocket_attempt(server.addr, token)
        .await
        .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body}"))
}

/// The `join` frame of `peer`.
pub fn join(peer: &str) -> Vec<u8> {
    wire::encode(&Message::Join(Join {
        sender_id: PeerId::new(peer).expect("peer id"),
        metadata: PeerMetadata {
            storage_id: None,
            is_ephemeral: true,
        },
        supported_protocol_versions: vec!["1".into()],
    }))
}

/// Sends one protocol message.
pub async fn send(socket: &mut Socket, message: &Message) {
    socket
        .send(WsMessage::Binary(wire::encode(message).into()))
        .await
        .expect("send");
}

/// Reads frames until `wanted` matches a protocol message; returns it.
pub async fn next_message(
    socket: &mut Socket,
    what: &str,
    wanted: impl Fn(&Message) -> bool,
) -> Message {
    tokio::time::timeout(WAIT, async {
        while let Some(frame) = socket.next().await {
            if let Ok(WsMessage::Binary(bytes)) = frame {
                let message = wire::decode(&bytes, usize::MAX).expect("the server speaks CBOR");
                if wanted(&message) {
                    return message;
                }
            }
        }
        panic!("the socket closed before {what}");
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A joined raw socket; returns it and the server's peer id.
pub async fn joined(server: &RunningServer, token: &str, peer: &str) -> (Socket, PeerId) {
    let mut socket = upgraded(server, token).await;
    socket
        .send(WsMessage::Binary(join(peer).into()))
        .await
        .expect("send join");
    let Message::Peer(answer) = next_message(&mut socket, "the server's peer message", |m| {
        matches!(m, Message::Peer(_))
    })
    .await
    else {
        unreachable!("matched above")
    };
    (socket, answer.sender_id)
}

/// The close code and reason the server ends with, reading past anything before it; `None`
/// when the TCP connection ends without a close frame.
pub async fn closed_with(socket: &mut Socket) -> Option<(u16, String)> {
    tokio::time::timeout(WAIT, async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(WsMessage::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the server closes in time")
}
