//! The fault-injecting WebSocket proxy of the tests, between clients (SDK or JS) and the server
//! on plain loopback. It passes the HTTP upgrade through, then reads whole WebSocket frames in
//! each direction and, as told: delays them, drops or duplicates binary frames, cuts a
//! connection in the middle of a frame (at its n-th frame, or once, at the first connection
//! whose client uploads more than some bytes), replays a cut connection's last client frames on
//! the next connection (reordering across reconnects), stalls what the server sends (a slow
//! reader) or holds back what it already read from the server until released (delayed
//! acknowledgements). Plain HTTP requests (no upgrade: the document list, attachments) pass
//! through as bytes, over a slow link when one is set (`slow_link.rs`). Drops, duplicates and cuts follow frame counts, so every run meets them; delays
//! come from a seeded generator.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::{broadcast, watch};

/// What goes wrong, per frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Each frame waits up to this long (order is kept).
    pub max_delay: Duration,
    /// Every n-th binary frame (counted over all connections and both directions) is dropped.
    pub drop_every: Option<usize>,
    /// Every n-th binary frame is sent twice.
    pub duplicate_every: Option<usize>,
    /// A connection is cut in the middle of its n-th frame in either direction.
    pub cut_after: Option<usize>,
    /// This many of a cut connection's last client frames are sent again on the next one.
    pub replay: usize,
}

/// What the proxy did, to check that a test really met the faults.
#[derive(Debug, Default)]
pub struct Counts {
    pub connections: AtomicUsize,
    pub dropped: AtomicUsize,
    pub duplicated: AtomicUsize,
    pub cuts: AtomicUsize,
    pub replayed: AtomicUsize,
    /// Bytes of plain HTTP passed (both directions).
    pub plain_bytes: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct Control {
    /// Where new connections go (a load balancer switching nodes).
    upstream: Mutex<SocketAddr>,
    faults: Mutex<Faults>,
    binary_frames: AtomicUsize,
    rng: Mutex<StdRng>,
    /// A cut connection's last client frames, by client (its upgrade request).
    saved: Mutex<std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>>>,
    stall: watch::Sender<bool>,
    /// What the server sends is read but held back while this is true.
    hold: watch::Sender<bool>,
    /// The first connection whose client has sent more than this many bytes is cut there.
    cut_once_after_bytes: Mutex<Option<usize>>,
    cut_all: broadcast::Sender<()>,
    counts: Counts,
    /// Plain HTTP's bytes a second in each direction (`None`: as fast as they come).
    link_rate: Mutex<Option<u64>>,
}

/// See the [module documentation](self).
#[derive(Debug)]
pub struct FrameProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    control: Arc<Control>,
    task: tokio::task::JoinHandle<()>,
}

impl FrameProxy {
    /// Forwards a port on 127.0.0.1 to `upstream`, with no faults yet.
    pub async fn start(upstream: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let control = Arc::new(Control {
            upstream: Mutex::new(upstream),
            faults: Mutex::new(Faults::default()),
            binary_frames: AtomicUsize::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            saved: Mutex::new(std::collections::HashMap::new()),
            stall: watch::channel(false).0,
            hold: watch::channel(false).0,
            cut_once_after_bytes: Mutex::new(None),
            cut_all: broadcast::channel(16).0,
            counts: Counts::default(),
            link_rate: Mutex::new(None),
        });
        let shared = control.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.counts.connections.fetch_add(1, Ordering::SeqCst);
                let upstream = *lock(&shared.upstream);
                tokio::spawn(connection(client, upstream, shared.clone()));
            }
        });
        FrameProxy {
            addr,
            control,
            task,
        }
    }

    /// Sets the faults for frames from now on.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.control.faults) = faults;
    }

    /// Sends new connections to another server (as a load balancer does when a node dies).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.control.upstream) = upstream;
    }

    /// Stops (or resumes) reading what the server sends.
    pub fn stall(&self, stalled: bool) {
        self.control.stall.send_replace(stalled);
    }

    /// Holds back what the server sends, once read (while `hold`), then delivers it in order:
    /// the client's frames still arrive, the answers do not.
    pub fn hold_server_data(&self, hold: bool) {
        self.control.hold.send_replace(hold);
    }

    /// Cuts the first connection whose client sends more than `bytes` bytes (its upgrade
    /// request and frames), in the middle of the frame that crosses the limit; once.
    pub fn cut_once_after_bytes(&self, bytes: usize) {
        *lock(&self.control.cut_once_after_bytes) = Some(bytes);
    }

    /// Cuts every open connection (clients reconnect).
    pub fn cut_all(&self) {
        let _ = self.control.cut_all.send(());
    }

    /// Plain HTTP (attachments) from now on passes at most `bytes_per_second` each way: a
    /// slow link (`None`: full speed).
    pub fn slow_link(&self, bytes_per_second: Option<u64>) {
        *lock(&self.control.link_rate) = bytes_per_second;
    }

    /// What happened so far.
    pub fn counts(&self) -> &Counts {
        &self.control.counts
    }
}

impl Drop for FrameProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads an HTTP head (up to the empty line) byte by byte, so nothing after it is taken.
async fn http_head<R: AsyncRead + Unpin>(from: &mut R) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if from.read_exact(&mut byte).await.is_err() || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

/// Reads one whole WebSocket frame (header and payload, as sent).
async fn frame<R: AsyncRead + Unpin>(from: &mut R) -> Option<Vec<u8>> {
    let mut header = [0u8; 2];
    from.read_exact(&mut header).await.ok()?;
    let mut bytes = header.to_vec();
    let len = match header[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            from.read_exact(&mut ext).await.ok()?;
            bytes.extend_from_slice(&ext);
            u64::from(u16::from_be_bytes(ext))
        }
        127 => {
            let mut ext = [0u8; 8];
            from.read_exact(&mut ext).await.ok()?;
            bytes.extend_from_slice(&ext);
            u64::from_be_bytes(ext)
        }
        n => u64::from(n),
    };
    if len > 256 * 1024 * 1024 {
        return None;
    }
    let mask = if header[1] & 0x80 != 0 { 4 } else { 0 };
    let start = bytes.len();
    bytes.resize(start + mask + len as usize, 0);
    from.read_exact(&mut bytes[start..]).await.ok()?;
    Some(bytes)
}

fn is_binary(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x0f == 0x2)
}

/// Whether a client's binary frame carries a `join` (unmasked and decoded): a replayed join
/// would be a second handshake, which no network reorders into a new connection.
fn is_join(frame: &[u8]) -> bool {
    let Some(&len7) = frame.get(1) else {
        return false;
    };
    let start = 2 + match len7 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let masked = len7 & 0x80 != 0;
    let Some(rest) = frame.get(start..) else {
        return false;
    };
    let payload: Vec<u8> = if masked && rest.len() >= 4 {
        let (mask, data) = rest.split_at(4);
        data.iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect()
    } else {
        rest.to_vec()
    };
    matches!(
        sync_core::wire::decode(&payload, usize::MAX),
        Ok(sync_core::wire::Message::Join(_))
    )
}

/// Who a connection is: its upgrade request without the per-connection key.
fn client_key(request: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(request)
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("sec-websocket-key"))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

enum Verdict {
    Send(usize),
    Cut,
}

impl Control {
    /// Whether a client frame of `len` bytes, after `uploaded` bytes on its connection, is where
    /// the one cut by bytes happens; if so, how much of it still goes out.
    fn cut_here(&self, uploaded: usize, len: usize) -> Option<usize> {
        let mut slot = lock(&self.cut_once_after_bytes);
        let limit = (*slot)?;
        if uploaded + len <= limit {
            return None;
        }
        *slot = None;
        Some(limit.saturating_sub(uploaded).min(len))
    }

    /// What to do with the next frame: send it n times (0 = drop), or cut here.
    fn judge(&self, frame: &[u8], seen: &AtomicUsize) -> (Verdict, Duration) {
        let faults = *lock(&self.faults);
        let delay = if faults.max_delay.is_zero() {
            Duration::ZERO
        } else {
            lock(&self.rng).random_range(Duration::ZERO..=faults.max_delay)
        };
        let on_this_connection = seen.fetch_add(1, Ordering::SeqCst) + 1;
        if faults
            .cut_after
            .is_some_and(|n| on_this_connection >= n.max(1))
        {
            return (Verdict::Cut, delay);
        }
        if !is_binary(frame) {
            return (Verdict::Send(1), delay);
        }
        let n = self.binary_frames.fetch_add(1, Ordering::SeqCst) + 1;
        let every = |e: Option<usize>| e.is_some_and(|e| e > 0 && n % e == 0);
        if every(faults.drop_every) {
            self.counts.dropped.fetch_add(1, Ordering::SeqCst);
            return (Verdict::Send(0), delay);
        }
        if every(faults.duplicate_every) {
            self.counts.duplicated.fetch_add(1, Ordering::SeqCst);
            return (Verdict::Send(2), delay);
        }
        (Verdict::Send(1), delay)
    }
}

async fn connection(mut client: TcpStream, upstream: SocketAddr, control: Arc<Control>) {
    // A small, fixed receive buffer (no autotuning): a stalled reader stalls the server soon.
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
        return;
    };
    let _ = socket.set_recv_buffer_size(64 * 1024);
    let Ok(mut server) = socket.connect(upstream).await else {
        return;
    };
    let mut cut = control.cut_all.subscribe();
    // The upgrade passes through untouched.
    let Some(request) = http_head(&mut client).await else {
        return;
    };
    if !crate::slow_link::is_upgrade(&request) {
        let rate = *lock(&control.link_rate);
        let moved = control.counts.plain_bytes.clone();
        crate::slow_link::pass(client, server, request, rate, moved, cut).await;
        return;
    }
    if server.write_all(&request).await.is_err() {
        return;
    }
    let Some(response) = http_head(&mut server).await else {
        return;
    };
    if client.write_all(&response).await.is_err() {
        return;
    }
    if !response.starts_with(b"HTTP/1.1 101") {
        // Not a WebSocket: plain HTTP passes through as bytes.
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        return;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let who = client_key(&request);
    let request_len = request.len();
    let replay: Vec<Vec<u8>> = lock(&control.saved).remove(&who).unwrap_or_default();
    let recent: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();

    // Frames of this connection in either direction, for `cut_after`.
    let seen = Arc::new(AtomicUsize::new(0));
    let upstream_seen = seen.clone();
    let upstream_control = control.clone();
    let upstream_recent = recent.clone();
    let to_server = async move {
        let mut first = true;
        let mut uploaded = request_len;
        while let Some(frame) = frame(&mut client_read).await {
            let (verdict, delay) = upstream_control.judge(&frame, &upstream_seen);
            pause(delay).await;
            if let Some(part) = upstream_control.cut_here(uploaded, frame.len()) {
                upstream_control.counts.cuts.fetch_add(1, Ordering::SeqCst);
                let _ = server_write.write_all(&frame[..part]).await;
                return;
            }
            uploaded += frame.len();
            match verdict {
                Verdict::Cut => {
                    upstream_control.counts.cuts.fetch_add(1, Ordering::SeqCst);
                    let _ = server_write.write_all(&frame[..frame.len() / 2]).await;
                    return;
                }
                Verdict::Send(times) => {
                    for _ in 0..times {
                        if server_write.write_all(&frame).await.is_err() {
                            return;
                        }
                    }
                }
            }
            if is_binary(&frame) && !is_join(&frame) {
                let keep = lock(&upstream_control.faults).replay;
                let mut recent = lock(&upstream_recent);
                recent.push(frame.clone());
                let excess = recent.len().saturating_sub(keep);
                recent.drain(..excess);
            }
            // The last connection's frames arrive after this one's join: stale and out of order.
            if first && is_binary(&frame) {
                first = false;
                for stale in &replay {
                    upstream_control
                        .counts
                        .replayed
                        .fetch_add(1, Ordering::SeqCst);
                    if server_write.write_all(stale).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let downstream_control = control.clone();
    let to_client = async move {
        let mut stall = downstream_control.stall.subscribe();
        let mut hold = downstream_control.hold.subscribe();
        loop {
            while *stall.borrow_and_update() {
                if stall.changed().await.is_err() {
                    return;
                }
            }
            let Some(frame) = frame(&mut server_read).await else {
                return;
            };
            if hold.wait_for(|held| !held).await.is_err() {
                return;
            }
            let (verdict, delay) = downstream_control.judge(&frame, &seen);
            pause(delay).await;
            match verdict {
                Verdict::Cut => {
                    downstream_control
                        .counts
                        .cuts
                        .fetch_add(1, Ordering::SeqCst);
                    let _ = client_write.write_all(&frame[..frame.len() / 2]).await;
                    return;
                }
                Verdict::Send(times) => {
                    for _ in 0..times {
                        if client_write.write_all(&frame).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    };
    tokio::select! {
        () = to_server => {}
        () = to_client => {}
        _ = cut.recv() => {}
    }
    // Dropping both halves closes both sockets; what the client sent last may come again.
    let last = std::mem::take(&mut *lock(&recent));
    lock(&control.saved).insert(who, last);
}

/// Holds a frame back (fault timing, not synchronisation).
async fn pause(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}
