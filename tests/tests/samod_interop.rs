//! samod (the Rust port of automerge-repo, crates.io `samod`) as a client of our server.
//!
//! samod speaks the automerge-repo protocol itself; we only give it a socket. Its generic
//! [`samod::Dialer`] is implemented here twice:
//! - over TLS with the server's development certificate pinned and the device token in
//!   `Authorization: Bearer`, by reusing the SDK's [`client_sdk::transport::connect`] for the
//!   TCP/TLS/WebSocket plumbing only (no SDK protocol code runs on samod's connection);
//! - over plain `ws://` on loopback with `?token=` in the URL, as browsers do.
//!
//! (samod's own `tungstenite` feature would pull native-tls/OpenSSL, and its dialer cannot add an
//! `Authorization` header or pin a certificate, so we do not use it.)

use std::sync::Arc;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc, ROOT};
use client_sdk::{SdkError, ServerAddress, SyncClient};
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use samod::{BackoffConfig, DialError, DialerHandle, DocHandle, Repo, Transport};
use sync_core::DocumentId;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

/// The largest frame samod's socket accepts (our server's default limit is lower).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// How samod reaches our server.
#[derive(Clone, Debug)]
enum Route {
    /// `wss://` (or `ws://`) through the SDK's transport, token in `Authorization: Bearer`.
    Header(ServerAddress),
    /// Plain `ws://…/sync?token=…` with tokio-tungstenite directly.
    Query { url: String },
}

/// A [`samod::Dialer`] for `/sync`.
#[derive(Debug)]
struct SyncDialer {
    route: Route,
}

impl samod::Dialer for SyncDialer {
    type Error = SdkError;

    fn url(&self) -> samod::Url {
        let url = match &self.route {
            Route::Header(address) => address.url.clone(),
            // Keep the token out of samod's logs.
            Route::Query { url } => url.split('?').next().unwrap_or(url).to_string(),
        };
        samod::Url::parse(&url).expect("server URL")
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<SdkError>>> {
        let route = self.route.clone();
        Box::pin(async move {
            match route {
                Route::Header(address) => {
                    let socket = client_sdk::transport::connect(&address, MAX_FRAME)
                        .await
                        .map_err(|e| match e {
                            SdkError::Unauthorized(_) => DialError::PermanentFailure(e),
                            other => DialError::transient(other),
                        })?;
                    Ok(transport(socket))
                }
                Route::Query { url } => {
                    let (socket, _) = tokio_tungstenite::connect_async(url)
                        .await
                        .map_err(DialError::transient)?;
                    Ok(transport(socket))
                }
            }
        })
    }
}

/// Binary WebSocket frames in both directions, as samod's own WebSocket glue does.
fn transport<S>(socket: S) -> Transport
where
    S: futures::Sink<WsMessage, Error = WsError>
        + futures::Stream<Item = Result<WsMessage, WsError>>
        + Send
        + Unpin
        + 'static,
{
    let (sink, stream) = socket.split();
    let stream = stream
        .filter_map(|message| {
            futures::future::ready(match message {
                Ok(WsMessage::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                Ok(WsMessage::Text(text)) => Some(Err(WsError::Io(std::io::Error::other(
                    format!("unexpected text frame: {text}"),
                )))),
                // tungstenite answers pings itself; a close ends the stream.
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
        })
        .boxed();
    let sink = sink.with(|bytes: Vec<u8>| {
        futures::future::ready(Ok::<_, WsError>(WsMessage::Binary(bytes.into())))
    });
    Transport::new(stream, sink)
}

/// A samod repo (in-memory storage) with peer id `name`, connected through `route` once this
/// returns.
async fn samod_repo(name: &str, route: Route) -> (Repo, DialerHandle<SdkError>) {
    let repo = Repo::build_tokio()
        .with_peer_id(samod::PeerId::from(name))
        .load()
        .await;
    let dialer = repo
        .dial(BackoffConfig::default(), Arc::new(SyncDialer { route }))
        .expect("repo running");
    let peer = timeout(WAIT, dialer.established())
        .await
        .expect("samod connects in time")
        .expect("samod connects");
    assert!(
        peer.peer_id.to_string().starts_with("kooperacja-"),
        "the server introduced itself as {peer:?}"
    );
    (repo, dialer)
}

/// samod over TLS, the token in the `Authorization` header.
async fn samod_over_tls(
    server: &RunningServer,
    login: &str,
    name: &str,
) -> (Repo, DialerHandle<SdkError>) {
    let token = enroll(server, login).token;
    samod_repo(name, Route::Header(address(server, &token, None))).await
}

fn to_samod(id: DocumentId) -> samod::DocumentId {
    id.to_string().parse().expect("same bs58check ids")
}

fn from_samod(id: &samod::DocumentId) -> DocumentId {
    DocumentId::parse(&id.to_string()).expect("same bs58check ids")
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

fn samod_heads(handle: &DocHandle) -> Vec<ChangeHash> {
    sorted(handle.with_document(|d| d.get_heads()))
}

fn splice_at_end(doc: &mut Automerge, text: &str) {
    let (_, notes) = doc.get(ROOT, "notes").expect("get").expect("notes");
    let len = doc.text(&notes).expect("text").chars().count();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&notes, len, 0, text))
        .expect("splice");
}

/// Waits (bounded) until `check` holds for samod's copy, re-checking on every change.
async fn wait_samod(handle: &DocHandle, what: &str, check: impl Fn(&Automerge) -> bool) {
    let mut changes = handle.changes();
    let waited = timeout(WAIT, async {
        while !handle.with_document(|d| check(d)) {
            changes.next().await.expect("repo running");
        }
    })
    .await;
    if waited.is_err() {
        panic!(
            "timed out waiting for {what}; samod has notes {:?}",
            handle.with_document(|d| notes(d))
        );
    }
}

/// Waits (bounded) until samod and the tablet hold identical heads; returns them.
async fn wait_converged(
    handle: &DocHandle,
    tablet: &SyncClient,
    id: DocumentId,
) -> Vec<ChangeHash> {
    let mut changes = handle.changes();
    let mut events = tablet.events();
    let waited = timeout(WAIT, async {
        loop {
            let ours = sorted(tablet.heads(id).await.expect("read").unwrap_or_default());
            let theirs = samod_heads(handle);
            if !ours.is_empty() && ours == theirs {
                return ours;
            }
            tokio::select! {
                change = changes.next() => { change.expect("repo running"); }
                event = events.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = event {
                        panic!("the tablet stopped");
                    }
                }
            }
        }
    })
    .await;
    match waited {
        Ok(heads) => heads,
        Err(_) => panic!(
            "no convergence: samod {:?} {:?}, tablet {:?} {:?} (server acknowledged {:?})",
            samod_heads(handle),
            handle.with_document(|d| notes(d)),
            tablet.heads(id).await,
            tablet.read(id, |d| d.map(notes)).await,
            tablet.server_heads(id).await,
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_created_in_samod_reaches_an_sdk_tablet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let (repo, dialer) = samod_over_tls(&server, "anna", "samod-anna").await;

    let mut content = new_case();
    splice_at_end(&mut content, "Utworzono w samod.");
    let handle = repo.create(content).await.expect("created");
    let conn = dialer.connection_id().expect("connected");
    timeout(WAIT, handle.they_have_our_changes(conn))
        .await
        .expect("the server has samod's case in time");
    let id = from_samod(handle.document_id());
    assert_eq!(
        server
            .state
            .registry
            .record(&id)
            .map(|r| r.owner)
            .as_deref(),
        Some("anna"),
        "the case belongs to the user whose device created it"
    );

    let tablet = tablet(&server, "anna", "tablet-anna");
    tablet.find(id).expect("find");
    tablet
        .wait_until("samod's case on the tablet", WAIT, || async {
            Ok(tablet.read(id, |d| d.map(notes)).await?.as_deref() == Some("Utworzono w samod."))
        })
        .await
        .expect("the tablet reads samod's case");
    let ty = tablet
        .read(id, |d| {
            d.and_then(|d| d.get(ROOT, "type").ok().flatten())
                .and_then(|(v, _)| v.into_string().ok())
        })
        .await
        .expect("read");
    assert_eq!(ty.as_deref(), Some("test"));
    assert_eq!(
        sorted(tablet.heads(id).await.expect("read").expect("doc")),
        samod_heads(&handle)
    );

    repo.stop().await;
    tablet.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_created_on_an_sdk_tablet_is_found_by_samod() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let tablet = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Utworzono na tablecie.").await;
    wait_acknowledged(&tablet, case).await;

    let (repo, _dialer) = samod_over_tls(&server, "anna", "samod-anna").await;
    let handle = timeout(WAIT, repo.find(to_samod(case)))
        .await
        .expect("samod's find answers in time")
        .expect("repo running")
        .expect("samod finds the tablet's case");
    wait_samod(&handle, "the tablet's notes", |d| {
        notes(d) == "Utworzono na tablecie."
    })
    .await;
    assert_eq!(
        samod_heads(&handle),
        sorted(tablet.heads(case).await.expect("read").expect("doc"))
    );

    repo.stop().await;
    tablet.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_and_an_sdk_tablet_edit_concurrently_and_converge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let tablet = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Start. ").await;
    wait_acknowledged(&tablet, case).await;
    let (repo, _dialer) = samod_over_tls(&server, "anna", "samod-anna").await;
    let handle = timeout(WAIT, repo.find(to_samod(case)))
        .await
        .expect("in time")
        .expect("repo running")
        .expect("found");
    let base = wait_converged(&handle, &tablet, case).await;

    // Surely concurrent: the tablet edits offline while samod's edit reaches the server.
    tablet.set_online(false).expect("offline");
    append_note(&tablet, case, "Tablet offline. ").await;
    handle
        .with_document_async(|d| splice_at_end(d, "Samod online. "))
        .await
        .expect("samod edit");
    let tablet_heads = sorted(tablet.heads(case).await.expect("read").expect("doc"));
    assert_ne!(tablet_heads, base);
    assert_ne!(samod_heads(&handle), base);
    assert_ne!(samod_heads(&handle), tablet_heads, "two diverged branches");
    tablet.set_online(true).expect("online");
    let merged = wait_converged(&handle, &tablet, case).await;
    assert_eq!(
        merged.len(),
        2,
        "a merge of two concurrent changes: {merged:?}"
    );

    // Both online, writing at the same time.
    let samod_writes = async {
        for i in 0..5 {
            let text = format!("s{i} ");
            handle
                .with_document_async(move |d| splice_at_end(d, &text))
                .await
                .expect("samod edit");
            tokio::task::yield_now().await;
        }
    };
    let tablet_writes = async {
        for text in ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "] {
            append_note(&tablet, case, text).await;
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(samod_writes, tablet_writes);
    let heads = wait_converged(&handle, &tablet, case).await;

    let on_samod = handle.with_document(|d| notes(d));
    let on_tablet = tablet
        .read(case, |d| d.map(notes))
        .await
        .expect("read")
        .expect("doc");
    assert_eq!(on_samod, on_tablet);
    for piece in [
        "Start.",
        "Tablet offline.",
        "Samod online.",
        "s0",
        "s1",
        "s2",
        "s3",
        "s4",
        "t0",
        "t1",
        "t2",
        "t3",
        "t4",
    ] {
        assert!(
            on_samod.contains(piece),
            "{piece:?} missing from {on_samod:?}"
        );
    }
    // The server holds the same merged state durably.
    tablet
        .wait_until("the server acknowledges the merge", WAIT, || async {
            Ok(tablet.server_heads(case).await?.map(sorted).as_ref() == Some(&heads))
        })
        .await
        .expect("acknowledged");

    repo.stop().await;
    tablet.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_asking_for_an_unknown_or_foreign_case_gets_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(ServeConfig::for_tests(
        dir.path(),
        TlsMode::InsecureLoopback,
    ))
    .await;
    // Eve's case exists, but is not Anna's.
    let eve = tablet(&server, "eve", "tablet-eve");
    let foreign = random_id();
    eve.create(foreign, new_case()).await.expect("created");
    wait_acknowledged(&eve, foreign).await;

    let token = enroll(&server, "anna").token;
    let url = format!("ws://{}/sync?token={token}", server.addr);
    let (repo, _dialer) = samod_repo("samod-anna", Route::Query { url }).await;

    let unknown = random_id();
    let found = timeout(WAIT, repo.find(to_samod(unknown)))
        .await
        .expect("samod's find of an unknown id answers in time")
        .expect("repo running");
    assert!(found.is_none(), "an unknown id is unavailable");

    let found = timeout(WAIT, repo.find(to_samod(foreign)))
        .await
        .expect("samod's find of another user's case answers in time")
        .expect("repo running");
    assert!(found.is_none(), "another user's case is unavailable");
    assert_eq!(
        server.state.registry.record(&unknown),
        None,
        "asking for a document does not create it"
    );

    repo.stop().await;
    eve.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}
