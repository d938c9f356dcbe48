//! Tablets and sync clients of a server running in this process: its address for a token
//! (through a proxy, when given), a client of a user, a tablet of a user, a document created
//! and acknowledged.

use std::net::SocketAddr;
use std::path::Path;

use automerge::Automerge;
use client_sdk::{
    ClientConfig, ClientEvent, ServerAddress, SyncClient, Tablet, TabletConfig, TabletKey, Trust,
};
use kooperacja_server::serve::RunningServer;
use sync_core::storage::MemoryStorage;
use sync_core::{DocumentId, PeerId};

use crate::documents::random_id;
use crate::server::{enroll, http_exchange, Device, HttpAnswer};
use crate::tablet::{config, wait_acknowledged};
use crate::WAIT;
use tempfile::TempDir;

/// The server's address for a token (`wss://` with its pinned certificate, or `ws://` on plain
/// loopback), optionally through another port (a proxy).
pub fn address(server: &RunningServer, token: &str, via: Option<SocketAddr>) -> ServerAddress {
    let addr = via.unwrap_or(server.addr);
    match &server.fingerprint {
        Some(fp) => ServerAddress {
            url: format!("wss://{addr}/sync"),
            token: token.into(),
            trust: Trust::Pinned(fp.clone()),
        },
        None => ServerAddress {
            url: format!("ws://{addr}/sync"),
            token: token.into(),
            trust: Trust::None,
        },
    }
}

/// A sync client of `login` (a device enrolled now) with an in-memory store.
pub fn tablet(server: &RunningServer, login: &str, name: &str) -> SyncClient {
    let device = enroll(server, login);
    let config = ClientConfig::new(
        PeerId::new(name).expect("peer id"),
        Some(address(server, &device.token, None)),
    );
    SyncClient::start(config, MemoryStorage::new()).expect("client starts")
}

/// A tablet of `login` syncing with the server (through `via`, when given).
pub async fn online_tablet(
    dir: &Path,
    key: &TabletKey,
    name: &str,
    login: &str,
    server: &RunningServer,
    device: &Device,
    via: Option<SocketAddr>,
) -> Tablet {
    let config = config(dir, key, name, login).with_server(address(server, &device.token, via));
    Tablet::open(config).await.expect("tablet opens")
}

/// `login`'s client creates `doc`; returns the client and the id once the server acknowledged
/// it.
pub async fn create_as(
    server: &RunningServer,
    login: &str,
    doc: Automerge,
) -> (SyncClient, DocumentId) {
    let t = tablet(server, login, &format!("tablet-{login}-owner"));
    let id = random_id();
    t.create(id, doc).await.expect("created");
    wait_acknowledged(&t, id).await;
    (t, id)
}

/// A GET over TLS to a server started with a certificate (pinned by its fingerprint), with a
/// bearer token when given.
pub async fn https_get(server: &RunningServer, path: &str, bearer: Option<&str>) -> HttpAnswer {
    let fingerprint = server.fingerprint.clone().expect("a TLS server");
    let uri = format!("https://{}/", server.addr).parse().expect("uri");
    let stream = client_sdk::transport::open_stream(&uri, &Trust::Pinned(fingerprint))
        .await
        .expect("TLS connection");
    http_exchange(stream, "GET", path, bearer, "").await
}

/// `login`'s tablet (a device enrolled now) acting for `institution`, online or not.
pub async fn institution_tablet(
    server: &RunningServer,
    login: &str,
    institution: &str,
    online: bool,
) -> (Tablet, TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let device = enroll(server, login);
    let name = format!("tablet-{login}-{}", random_id());
    let mut settings = TabletConfig::new(
        dir.path(),
        TabletKey::random(),
        PeerId::new(&name).expect("peer id"),
        login,
        institution,
    )
    .with_server(address(server, &device.token, None));
    settings.min_backoff = std::time::Duration::from_millis(20);
    settings.max_backoff = std::time::Duration::from_millis(400);
    settings.refresh_documents_every = None;
    settings.online = online;
    (Tablet::open(settings).await.expect("opens"), dir)
}

/// The reason the server gave when it closed the tablet's connection over a refused change.
pub async fn refusal_reason(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Disconnected(reason)) if reason.contains("refus") => return reason,
                Ok(_) => {}
                Err(e) => return format!("{e}"),
            }
        }
    })
    .await
    .expect("refused in time")
}

/// What happens to `edit` of `doc` made on a fresh tablet of `login` once it holds `heads`:
/// acknowledged by the server, or refused with the reason the tablet was told.
pub async fn edit_outcome(
    server: &RunningServer,
    login: &str,
    doc: DocumentId,
    heads: &[automerge::ChangeHash],
    edit: impl FnOnce(&mut Automerge) + Send + 'static,
) -> Result<(), String> {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    t.find(doc).expect("find");
    let wanted = heads.to_vec();
    t.wait_until("the document arrives", WAIT, || async {
        Ok(t.heads(doc).await?.unwrap_or_default() == wanted)
    })
    .await
    .expect("the document arrives");
    let mut events = t.events();
    t.change(doc, edit).await.expect("saved locally");
    let outcome = tokio::time::timeout(WAIT, async {
        loop {
            if t.is_acknowledged(doc).await.expect("ack") {
                return Ok(());
            }
            match events.recv().await {
                Ok(ClientEvent::Disconnected(reason)) if reason.contains("refus") => {
                    return Err(reason)
                }
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .expect("acknowledged or refused");
    t.shutdown().await;
    outcome
}
