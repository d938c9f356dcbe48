//! One attachment over HTTP, streamed both ways, over the same TLS trust as the sync connection:
//! - upload: `GET …/attachments/{sha256}/status` says how much the server has, then one `PUT`
//!   with `Content-Range: bytes FROM-LAST/SIZE` carries the rest, read from the device's
//!   encrypted blob one piece at a time;
//! - download: `GET …/attachments/{sha256}` (with `Range: bytes=FROM-` to continue an earlier
//!   one), written to the device piece by piece, the hash verified before the blob is kept.
//!
//! What fails is an [`SdkError`]: [`SdkError::AttachmentRefused`] when the server refuses for
//! good (the queue does not retry it), anything else worth retrying.

use futures::StreamExt;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{header, Method, Request, Response, StatusCode};
use serde::Deserialize;

use super::local::{BlobKey, LocalBlobs, LocalMeta, PIECE};
use crate::error::SdkError;
use crate::transport::{self, ServerAddress};

/// The longest error or status answer read, in bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// Aborts the HTTP connection's task when dropped.
struct Connection(tokio::task::JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn path(key: &BlobKey, suffix: &str) -> String {
    format!(
        "documents/{}/attachments/{}{suffix}",
        key.document,
        key.hex()
    )
}

async fn send<B>(
    server: &ServerAddress,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, String)],
    body: B,
) -> Result<(Response<Incoming>, Connection), SdkError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let uri = crate::http::api_uri(&server.url, path)?;
    let stream = transport::open_stream(&uri, &server.trust).await?;
    let network = |e: hyper::Error| SdkError::Network(format!("{path}: {e}"));
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(network)?;
    let connection = Connection(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let mut builder = Request::builder()
        .method(method)
        .uri(uri.path())
        .header(header::HOST, host)
        .header(header::AUTHORIZATION, transport::bearer(&server.token)?);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(body)
        .map_err(|e| SdkError::Url(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(network)?;
    Ok((response, connection))
}

#[derive(Debug, Deserialize)]
struct Status {
    received: u64,
    complete: bool,
}

async fn answer(response: Response<Incoming>) -> Result<(StatusCode, Bytes), SdkError> {
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| SdkError::Network(format!("reading an answer: {e}")))?
        .to_bytes();
    Ok((status, body))
}

/// What a refusal or failure the server answered means for the SDK.
fn failure(key: &BlobKey, status: StatusCode, body: &[u8]) -> SdkError {
    let reason = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    match status {
        StatusCode::NOT_FOUND => SdkError::AttachmentUnknown(key.hex()),
        StatusCode::UNAUTHORIZED => SdkError::Unauthorized(reason),
        StatusCode::FORBIDDEN
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => SdkError::AttachmentRefused(reason),
        other => SdkError::Network(format!("the server answered {other}: {reason}")),
    }
}

/// How much of the blob the server has: `(received, complete)`.
pub(crate) async fn status(server: &ServerAddress, key: &BlobKey) -> Result<(u64, bool), SdkError> {
    let (response, _connection) = send(
        server,
        Method::GET,
        &path(key, "/status"),
        &[],
        Full::new(Bytes::new()),
    )
    .await?;
    match answer(response).await? {
        (StatusCode::OK, body) => {
            let status: Status = serde_json::from_slice(&body)
                .map_err(|e| SdkError::Network(format!("an attachment's status: {e}")))?;
            Ok((status.received, status.complete))
        }
        (status, body) => Err(failure(key, status, &body)),
    }
}

/// Sends what the server lacks of a stored blob; `progress(bytes the server has or is being
/// sent)` as pieces go out. Returns once the server accepted the whole, verified blob.
pub(crate) async fn upload(
    server: &ServerAddress,
    blobs: &LocalBlobs,
    key: &BlobKey,
    mut progress: impl FnMut(u64) + Send + 'static,
) -> Result<(), SdkError> {
    let (from, complete) = status(server, key).await?;
    let mut reader = {
        let (blobs, key) = (blobs.clone(), *key);
        tokio::task::spawn_blocking(move || blobs.reader(&key))
            .await
            .map_err(|_| SdkError::Stopped)??
    };
    let size = reader.size();
    if complete {
        progress(size);
        return Ok(());
    }
    let from = from.min(size);
    progress(from);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(2);
    // The producer reads and decrypts one piece at a time; the channel holds at most two.
    let producer = tokio::task::spawn_blocking(move || {
        if let Err(e) = reader.seek_to(from) {
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            return;
        }
        loop {
            match reader.next_chunk() {
                Ok(chunk) if chunk.is_empty() => return,
                Ok(chunk) => {
                    if tx
                        .blocking_send(Ok(Frame::data(Bytes::from(chunk))))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            }
        }
    });
    let mut sent = from;
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|frame| (frame, rx))
    })
    .inspect(move |frame| {
        if let Ok(data) = frame.as_ref().map(Frame::data_ref) {
            sent += data.map_or(0, |d| d.len() as u64);
            progress(sent);
        }
    });
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (header::CONTENT_LENGTH, (size - from).to_string()),
        (
            header::CONTENT_RANGE,
            format!("bytes {from}-{}/{size}", size.saturating_sub(1)),
        ),
    ];
    let sent = send(
        server,
        Method::PUT,
        &path(key, ""),
        &headers,
        StreamBody::new(frames),
    )
    .await;
    producer.abort();
    let (response, _connection) = sent?;
    match answer(response).await? {
        (StatusCode::OK, body) => {
            let status: Status = serde_json::from_slice(&body)
                .map_err(|e| SdkError::Network(format!("an attachment's status: {e}")))?;
            if status.complete {
                Ok(())
            } else {
                Err(SdkError::Network(format!(
                    "the upload stopped at {} of {size} bytes",
                    status.received
                )))
            }
        }
        (status, body) => Err(failure(key, status, &body)),
    }
}

/// Fetches a blob the device lacks (continuing an earlier, unfinished download), writes it
/// piece by piece, verifies its hash and keeps it; `progress(bytes here, size)` as it arrives.
pub(crate) async fn download(
    server: &ServerAddress,
    blobs: &LocalBlobs,
    key: &BlobKey,
    mime: &str,
    size: u64,
    mut progress: impl FnMut(u64),
) -> Result<LocalMeta, SdkError> {
    let (store, k) = (blobs.clone(), *key);
    let mut writer = tokio::task::spawn_blocking(move || store.begin_download(&k))
        .await
        .map_err(|_| SdkError::Stopped)??;
    let from = writer.size;
    let headers: Vec<_> = if from > 0 {
        vec![(header::RANGE, format!("bytes={from}-"))]
    } else {
        Vec::new()
    };
    let (response, _connection) = send(
        server,
        Method::GET,
        &path(key, ""),
        &headers,
        Full::new(Bytes::new()),
    )
    .await?;
    let status = response.status();
    if status == StatusCode::OK && from > 0 {
        // The server sent the whole file after all: start again.
        blobs.abandon_download(key);
        let (store, k) = (blobs.clone(), *key);
        writer = tokio::task::spawn_blocking(move || store.begin_download(&k))
            .await
            .map_err(|_| SdkError::Stopped)??;
    } else if status != StatusCode::OK && status != StatusCode::PARTIAL_CONTENT {
        let (status, body) = answer(response).await?;
        return Err(failure(key, status, &body));
    }
    progress(writer.size);
    let mut body = response.into_body();
    let mut gathered: Vec<u8> = Vec::with_capacity(PIECE);
    loop {
        let frame = body.frame().await;
        let end = match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    gathered.extend_from_slice(data);
                }
                false
            }
            Some(Err(e)) => return Err(SdkError::Network(format!("downloading: {e}"))),
            None => true,
        };
        if writer.size + gathered.len() as u64 > size {
            blobs.abandon_download(key);
            return Err(SdkError::AttachmentCorrupt(key.hex()));
        }
        if gathered.len() >= PIECE || (end && !gathered.is_empty()) {
            let chunk = std::mem::replace(&mut gathered, Vec::with_capacity(PIECE));
            let (back, pushed) = tokio::task::spawn_blocking(move || {
                let pushed = writer.push(&chunk);
                (writer, pushed)
            })
            .await
            .map_err(|_| SdkError::Stopped)?;
            writer = back;
            pushed?;
            progress(writer.size);
        }
        if end {
            break;
        }
    }
    if writer.size < size {
        return Err(SdkError::Network(format!(
            "the download stopped at {} of {size} bytes",
            writer.size
        )));
    }
    let (store, k, mime) = (blobs.clone(), *key, mime.to_owned());
    tokio::task::spawn_blocking(move || {
        store.finish_download(&k, writer, &mime, chrono::Utc::now())
    })
    .await
    .map_err(|_| SdkError::Stopped)?
}
