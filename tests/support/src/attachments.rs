//! Attachments over plain HTTP (servers on loopback): files of a given type, ranged uploads
//! (whole, or cut off after some bytes as a tablet losing its connection does), the status, and
//! downloads with their bytes.

use std::net::SocketAddr;

use sha2::{Digest, Sha256};
use sync_core::DocumentId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::WAIT;

/// A file of `len` bytes (at least 16) that sniffs as a PDF, random after its header.
pub fn pdf_file(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len.max(16)];
    rand::fill(&mut bytes[..]);
    bytes[..9].copy_from_slice(b"%PDF-1.7\n");
    bytes
}

/// The file's name on the server: its SHA-256 in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The path of an attachment (`suffix`: "" or "/status").
pub fn attachment_path(document: DocumentId, sha256: &str, suffix: &str) -> String {
    format!("/api/v1/documents/{document}/attachments/{sha256}{suffix}")
}

/// An answer with a binary body.
#[derive(Clone, Debug)]
pub struct BinaryAnswer {
    /// Status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl BinaryAnswer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON expected ({e}): {}", self.text()))
    }
}

async fn exchange(
    addr: SocketAddr,
    head: String,
    body: &[u8],
    send: usize,
) -> Option<BinaryAnswer> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    // The server may answer (a refusal) and close before the body is all sent: its answer is
    // read all the same.
    let _ = tcp.write_all(head.as_bytes()).await;
    let send = send.min(body.len());
    let _ = tcp.write_all(&body[..send]).await;
    if send < body.len() {
        // Cut off mid-body: the tablet's connection is gone.
        return None;
    }
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP answer: {:?}", String::from_utf8_lossy(&out)));
    let text = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(BinaryAnswer {
        status,
        headers,
        body: out[split + 4..].to_vec(),
    })
}

/// `PUT` of `file[start..]` as one range, sending only `send` bytes of it before the socket
/// is closed (`None` then); `usize::MAX` sends all and returns the answer.
pub async fn put_range(
    addr: SocketAddr,
    token: &str,
    document: DocumentId,
    file: &[u8],
    start: usize,
    send: usize,
) -> Option<BinaryAnswer> {
    put_named(addr, token, document, &sha256_hex(file), file, start, send).await
}

/// [`put_range`] under a name given by the caller (a wrong hash, for instance).
pub async fn put_named(
    addr: SocketAddr,
    token: &str,
    document: DocumentId,
    sha256: &str,
    file: &[u8],
    start: usize,
    send: usize,
) -> Option<BinaryAnswer> {
    let body = &file[start..];
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Content-Range: bytes {start}-{}/{}\r\n\r\n",
        attachment_path(document, sha256, ""),
        body.len(),
        file.len().saturating_sub(1),
        file.len(),
    );
    exchange(addr, head, body, send).await
}

/// `GET` with a bearer token and optional `Range` header value.
pub async fn get_binary(
    addr: SocketAddr,
    token: &str,
    path: &str,
    range: Option<&str>,
) -> BinaryAnswer {
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{range}\r\n"
    );
    exchange(addr, head, &[], 0).await.expect("an answer")
}

/// The bytes received so far (the status), waiting out an upload still running on the server
/// (`409`, the one the cut connection left) within [`WAIT`].
pub async fn received(addr: SocketAddr, token: &str, document: DocumentId, sha256: &str) -> u64 {
    let path = attachment_path(document, sha256, "/status");
    let answer = get_binary(addr, token, &path, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["received"].as_u64().expect("received")
}

/// Uploads what is left of `file` from the server's offset, retrying while the server still
/// finishes an earlier, cut request (`409`); the final answer.
pub async fn upload_rest(
    addr: SocketAddr,
    token: &str,
    document: DocumentId,
    file: &[u8],
) -> BinaryAnswer {
    tokio::time::timeout(WAIT, async {
        loop {
            let sha = sha256_hex(file);
            let from = received(addr, token, document, &sha).await as usize;
            let answer = put_range(addr, token, document, file, from, usize::MAX)
                .await
                .expect("an answer");
            if answer.status != 409 {
                return answer;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the upload finishes in time")
}
