//! A fault-injecting TCP proxy for tests: it forwards 127.0.0.1:port to the server and can cut
//! connections (at once, or after some bytes from the client), refuse new ones, and hold back
//! what the server sends until released.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

#[derive(Debug)]
struct Control {
    /// The first connection whose client has sent more than this many bytes is cut there.
    cut_after: Mutex<Option<usize>>,
    /// New connections are accepted and closed at once.
    refusing: AtomicBool,
    /// What the server sends is held back while this is true.
    hold: watch::Sender<bool>,
    /// Cuts every open connection.
    cut_all: broadcast::Sender<()>,
    /// Connections accepted and connections cut so far.
    accepted: AtomicUsize,
    cuts: watch::Sender<usize>,
}

/// See the [module documentation](self).
#[derive(Debug)]
pub struct FaultProxy {
    /// Where tablets connect.
    pub addr: SocketAddr,
    control: Arc<Control>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts forwarding a port on 127.0.0.1 to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let control = Arc::new(Control {
            cut_after: Mutex::new(None),
            refusing: AtomicBool::new(false),
            hold: watch::channel(false).0,
            cut_all: broadcast::channel(16).0,
            accepted: AtomicUsize::new(0),
            cuts: watch::channel(0).0,
        });
        let shared = control.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                if shared.refusing.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, upstream, shared.clone()));
            }
        });
        Self {
            addr,
            control,
            task,
        }
    }

    /// Cuts the first connection whose client sends more than `bytes` bytes, right there.
    pub fn cut_once_after(&self, bytes: usize) {
        if let Ok(mut slot) = self.control.cut_after.lock() {
            *slot = Some(bytes);
        }
    }

    /// Cuts every open connection now.
    pub fn cut_all(&self) {
        let _ = self.control.cut_all.send(());
    }

    /// Refuses (accepts and closes) new connections while `refusing`.
    pub fn refuse(&self, refusing: bool) {
        self.control.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Holds back what the server sends (while `hold`), then delivers it in order.
    pub fn hold_server_data(&self, hold: bool) {
        self.control.hold.send_replace(hold);
    }

    /// How many connections were cut so far.
    pub fn cuts(&self) -> watch::Receiver<usize> {
        self.control.cuts.subscribe()
    }

    /// How many connections were accepted so far.
    pub fn accepted(&self) -> usize {
        self.control.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_all();
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, control: Arc<Control>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let mut cut_all = control.cut_all.subscribe();
    let up_control = control.clone();
    let up = async move {
        let mut sent = 0usize;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            let limit = up_control.cut_after.lock().ok().and_then(|slot| *slot);
            if let Some(limit) = limit {
                if sent + n > limit {
                    let claimed = up_control
                        .cut_after
                        .lock()
                        .ok()
                        .and_then(|mut slot| slot.take())
                        .is_some();
                    if claimed {
                        let part = limit.saturating_sub(sent);
                        let _ = server_write.write_all(&buf[..part]).await;
                        return true;
                    }
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                return false;
            }
            sent += n;
        }
    };
    let mut hold = control.hold.subscribe();
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if hold.wait_for(|held| !held).await.is_err() {
                return;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let cut = tokio::select! {
        cut = up => cut,
        () = down => false,
        _ = cut_all.recv() => true,
    };
    if cut {
        control.cuts.send_modify(|n| *n += 1);
    }
    // Returning drops both halves of both sockets: the connection is gone.
}
