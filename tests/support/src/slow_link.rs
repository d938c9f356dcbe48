//! The fault proxy's plain HTTP path (attachments' uploads and downloads, the document list):
//! bytes pass both ways as they come, at most `rate` bytes a second in each direction when a
//! slow link is set (a tablet on a weak mobile connection), and the connection is cut when the
//! proxy cuts all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// Bytes moved at a time.
const CHUNK: usize = 16 * 1024;

/// Whether an HTTP request head asks for a WebSocket upgrade.
pub(crate) fn is_upgrade(head: &[u8]) -> bool {
    String::from_utf8_lossy(head)
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"))
}

/// Copies `from` to `to`, paced to `rate` bytes a second (fault timing, not synchronisation),
/// counting into `moved`.
async fn pace<R, W>(mut from: R, mut to: W, rate: Option<u64>, moved: Arc<AtomicUsize>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let started = Instant::now();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        total += n as u64;
        moved.fetch_add(n, Ordering::SeqCst);
        if let Some(rate) = rate.filter(|r| *r > 0) {
            let due = started + Duration::from_secs_f64(total as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
        }
    }
    let _ = to.shutdown().await;
}

/// Passes a plain HTTP connection (its request head already read) to the server.
pub(crate) async fn pass(
    client: TcpStream,
    mut server: TcpStream,
    head: Vec<u8>,
    rate: Option<u64>,
    moved: Arc<AtomicUsize>,
    mut cut: broadcast::Receiver<()>,
) {
    if server.write_all(&head).await.is_err() {
        return;
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pace(client_read, server_write, rate, moved.clone());
    let down = pace(server_read, client_write, rate, moved);
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = cut.recv() => {}
    }
}
