//! Shared test setup: a server in-process on 127.0.0.1:0 with a temp data dir and TLS, users
//! and devices, and tablets running the SDK.

#![allow(dead_code)]

pub mod fault_proxy;
pub mod pg_cluster;

use std::path::Path;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use client_sdk::{ClientConfig, ServerAddress, SyncClient, Trust};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::identity::Role;
use kooperacja_server::serve::{self, RunningServer};
use sync_core::model::pzk::{self, PzkInit};
use sync_core::storage::MemoryStorage;
use sync_core::{DocumentId, PeerId};

pub const WAIT: Duration = Duration::from_secs(20);

pub async fn start_server(dir: &Path) -> RunningServer {
    start_with(ServeConfig::for_tests(dir, TlsMode::Dev)).await
}

/// A TLS server that refuses documents of no known type (as production does).
pub async fn start_typed_server(dir: &Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::Dev);
    config.allow_untyped = false;
    start_with(config).await
}

pub async fn start_with(config: ServeConfig) -> RunningServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    serve::start(config).await.expect("server starts")
}

/// Adds a user (if new) and enrols a device; returns its token.
pub fn enroll(server: &RunningServer, login: &str) -> String {
    let directory = &server.state.directory;
    if directory.user(login).expect("lookup").is_none() {
        directory
            .add_user(login, &format!("User {login}"), vec![Role::SocialWorker])
            .expect("user added");
    }
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    directory.enroll(login, random).expect("enrolled").token
}

pub fn address(server: &RunningServer, token: &str) -> ServerAddress {
    match &server.fingerprint {
        Some(fp) => ServerAddress {
            url: format!("wss://{}/sync", server.addr),
            token: token.into(),
            trust: Trust::Pinned(fp.clone()),
        },
        None => ServerAddress {
            url: format!("ws://{}/sync", server.addr),
            token: token.into(),
            trust: Trust::None,
        },
    }
}

/// A tablet of `login` with an in-memory store.
pub fn tablet(server: &RunningServer, login: &str, name: &str) -> SyncClient {
    let token = enroll(server, login);
    let config = ClientConfig::new(
        PeerId::new(name).expect("peer id"),
        Some(address(server, &token)),
    );
    SyncClient::start(config, MemoryStorage::new()).expect("client starts")
}

pub fn new_case() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "type", "test")?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        tx.put_object(ROOT, "fields", ObjType::Map)?;
        Ok(())
    })
    .expect("seed");
    doc
}

pub fn random_id() -> DocumentId {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    DocumentId::from_bytes(b)
}

/// The `notes` text, or "" while the document has not arrived.
pub fn notes(doc: &Automerge) -> String {
    match doc.get(ROOT, "notes") {
        Ok(Some((_, id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

pub async fn append_note(client: &SyncClient, id: DocumentId, text: &'static str) {
    client
        .change(id, move |d| {
            let (_, notes) = d.get(ROOT, "notes").expect("get").expect("notes");
            let len = d.text(&notes).expect("text").chars().count();
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.splice_text(&notes, len, 0, text)
            })
            .expect("splice");
        })
        .await
        .expect("change saved");
}

pub async fn wait_acknowledged(client: &SyncClient, id: DocumentId) {
    client
        .wait_until("server acknowledgement", WAIT, || {
            client.is_acknowledged(id)
        })
        .await
        .expect("acknowledged");
}

/// Waits until two tablets hold the same heads, re-checking after an event of either (the last
/// change may land on either side).
pub async fn wait_same_heads(a: &SyncClient, b: &SyncClient, id: DocumentId) {
    let mut from_a = a.events();
    let mut from_b = b.events();
    let deadline = tokio::time::Instant::now() + WAIT;
    let same = || async {
        let mut x = a.heads(id).await.ok().flatten().unwrap_or_default();
        let mut y = b.heads(id).await.ok().flatten().unwrap_or_default();
        x.sort();
        y.sort();
        !x.is_empty() && x == y
    };
    let waited: Result<(), &str> = loop {
        if same().await {
            break Ok(());
        }
        let event = tokio::time::timeout_at(deadline, async {
            tokio::select! {
                _ = from_a.recv() => {}
                _ = from_b.recv() => {}
            }
        })
        .await;
        if event.is_err() {
            break Err("timed out waiting for same heads");
        }
    };
    if let Err(e) = waited {
        panic!(
            "{e}: a={:?} (server says {:?}), b={:?} (server says {:?})",
            a.heads(id).await,
            a.server_heads(id).await,
            b.heads(id).await,
            b.server_heads(id).await
        );
    }
}

/// The region: two PZK teams, their institutions and people.
pub fn provision_region(server: &RunningServer) {
    let d = &server.state.directory;
    for (id, sector) in [
        ("gops", "social"),
        ("szkola", "education"),
        ("policja", "police"),
        ("gops2", "social"),
    ] {
        d.add_institution(id, id, sector).expect("institution");
    }
    let people = [
        ("anna", Role::SocialWorker, Some("gops")),
        ("bartek", Role::SocialWorker, Some("gops")),
        ("szkola-rep", Role::PzkMember, Some("szkola")),
        ("policja-rep", Role::PzkMember, Some("policja")),
        ("inna", Role::PzkMember, Some("gops2")),
        ("koordynator", Role::Coordinator, None),
        ("animator1", Role::Animator, Some("gops")),
    ];
    for (login, role, institution) in people {
        d.add_user(login, login, vec![role]).expect("user");
        if let Some(i) = institution {
            d.set_institution(login, i).expect("institution");
        }
    }
    d.add_team("pzk1", "PZK Gminy Przykładowo", "animator1")
        .expect("team");
    for i in ["gops", "szkola", "policja"] {
        d.add_team_member("pzk1", i).expect("member");
    }
    d.add_team("pzk2", "PZK Gminy Inne", "animator1")
        .expect("team");
    d.add_team_member("pzk2", "gops2").expect("member");
    server.state.registry.reload_directory().expect("reload");
}

/// The PZK document of team `pzk1`, as its animator makes it.
pub fn new_team_doc() -> Automerge {
    let init = PzkInit {
        actor: automerge::ActorId::random(),
        name: "PZK Gminy Przykładowo".into(),
        animator: "animator1".into(),
        agreement_text: "Porozumienie o współpracy.".into(),
    };
    pzk::new_pzk(&init, chrono::Utc::now()).expect("pzk")
}

/// `login`'s tablet creates `doc`; returns the tablet and the id once the server acknowledged it.
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

/// Waits (up to [`WAIT`]) for the first event on `events` for which `wanted` holds and returns
/// it; panics naming `what` on timeout or when the sender is gone.
pub async fn wait_event<T: Clone>(
    events: &mut tokio::sync::broadcast::Receiver<T>,
    what: &str,
    mut wanted: impl FnMut(&T) -> bool,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events ended while waiting for {what}: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// `GET /metrics` over plain HTTP (servers started with `TlsMode::InsecureLoopback`).
pub async fn metrics_text(server: &RunningServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.expect("read");
    body
}

/// The value of one metric line (`name` with its labels, as printed).
pub fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A family's case owned by `owner` of institution `gops` (the region of [`provision_region`]).
pub fn new_family_case(owner: &str) -> Automerge {
    let init = sync_core::model::case::CaseInit {
        actor: automerge::ActorId::random(),
        owner: owner.into(),
        lead_institution: "gops".into(),
        referral: sync_core::model::case::Referral {
            by: "pedagog".into(),
            institution: "szkola".into(),
            reason: "Dziecko często opuszcza lekcje.".into(),
            at: chrono::Utc::now(),
        },
        household: Default::default(),
    };
    let by = sync_core::model::Editor::new(owner, "gops").expect("editor");
    sync_core::model::case::new_case(&init, &by, chrono::Utc::now()).expect("case")
}

/// A tablet with an in-memory store at a plain-HTTP address (a node, a proxy, a balancer),
/// reconnecting quickly.
pub fn tablet_at(addr: std::net::SocketAddr, token: &str, name: &str) -> SyncClient {
    let address = ServerAddress {
        url: format!("ws://{addr}/sync"),
        token: token.into(),
        trust: Trust::None,
    };
    let mut config = ClientConfig::new(PeerId::new(name).expect("peer id"), Some(address));
    config.max_backoff = Duration::from_millis(300);
    SyncClient::start(config, MemoryStorage::new()).expect("client starts")
}

/// Whether `client` holds every change in `hashes` of `doc`.
pub async fn holds_all(
    client: &SyncClient,
    doc: DocumentId,
    hashes: &[automerge::ChangeHash],
) -> Result<bool, client_sdk::SdkError> {
    let hashes = hashes.to_vec();
    client
        .read(doc, move |d| {
            d.is_some_and(|d| hashes.iter().all(|h| d.get_change_by_hash(h).is_some()))
        })
        .await
}
