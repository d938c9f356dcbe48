//! The accept loop of the plain and TLS listeners (instead of `axum::serve`, which sets no
//! header timeout).
//!
//! Each accepted connection first takes a *pending* slot (or is closed at once when none is
//! free), runs its TLS handshake within the header timeout on a task of its own (a slow client
//! holds up nobody else), and is then served by hyper's HTTP/1.1 with the header timeout on
//! every request's headers (idle keep-alive connections included). The pending slot is given
//! back when the first request's headers are in, or when the connection ends. Graceful
//! shutdown: stop accepting, let each connection finish its request, wait for all of them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::error::ServerError;
use crate::metrics::Metrics;

/// How connections are let in.
#[derive(Clone, Debug)]
pub struct Entrance {
    /// Time for the TLS handshake, and for each request's headers.
    pub header_timeout: Duration,
    /// Connections accepted but not yet past their first request's headers.
    pub pending: Arc<Semaphore>,
    /// Where refusals are counted.
    pub metrics: Arc<Metrics>,
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` resolves, then
/// lets every connection finish its request.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    entrance: Entrance,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    // Each connection holds a receiver: `closed()` resolves when every one has finished.
    let (stopping, stop) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: give connections time to close.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = entrance.pending.clone().try_acquire_owned() else {
            entrance.metrics.reject("pending-connection-cap");
            tracing::debug!(%peer, "too many connections waiting for their headers: closed");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            peer,
            tls.clone(),
            router.clone(),
            entrance.header_timeout,
            permit,
            stop.clone(),
        ));
    }
    drop(listener);
    drop(stop);
    let _ = stopping.send(());
    stopping.closed().await;
    Ok(())
}

/// One connection: the TLS handshake (if any) within the header timeout, then HTTP.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
    header_timeout: Duration,
    pending: OwnedSemaphorePermit,
    mut stop: watch::Receiver<()>,
) {
    let Some(acceptor) = tls else {
        return http(tcp, peer, router, header_timeout, pending, stop).await;
    };
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(header_timeout, acceptor.accept(tcp)) => handshake,
        // The server stops: a handshake under way is not waited for.
        _ = stop.changed() => return,
    };
    match handshake {
        Ok(Ok(stream)) => http(stream, peer, router, header_timeout, pending, stop).await,
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// HTTP/1.1 (with upgrades, for `/sync`) on one connection.
async fn http<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    pending: OwnedSemaphorePermit,
    mut stop: watch::Receiver<()>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let pending = Mutex::new(Some(pending));
    let inner = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        // Past its first request's headers: no longer pending.
        if let Ok(mut pending) = pending.lock() {
            pending.take();
        }
        request.extensions_mut().insert(ConnectInfo(peer));
        hyper::service::Service::call(&inner, request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let served = tokio::select! {
        served = conn.as_mut() => served,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}
