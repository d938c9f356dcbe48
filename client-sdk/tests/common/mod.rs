//! Shared setup of the tablet tests: a real server in-process on 127.0.0.1:0 (TLS with a
//! development certificate), users and devices, tablets over temp directories, and waits that
//! end on events or status changes, each with a timeout.

#![allow(dead_code)]

pub mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use client_sdk::{
    ClientEvent, ServerAddress, SyncState, SyncStatus, Tablet, TabletConfig, TabletKey, Trust,
};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::hub::Command;
use kooperacja_server::identity::Role;
use kooperacja_server::serve::{self, RunningServer};
use sync_core::model::case::{GoalPlan, Referral};
use sync_core::{DocumentId, PeerId};
use tokio::sync::oneshot;

/// The longest any single wait of these tests may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// The institution of every test user.
pub const GOPS: &str = "gops-przykladowo";

pub async fn start_server(dir: &Path) -> RunningServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    serve::start(ServeConfig::for_tests(dir, TlsMode::Dev))
        .await
        .expect("server starts")
}

/// A device enrolled on the server.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub token: String,
}

/// Adds a social worker (if new) and enrols a device for them.
pub fn enroll(server: &RunningServer, login: &str) -> Device {
    let directory = &server.state.directory;
    if directory.user(login).expect("lookup").is_none() {
        directory
            .add_user(login, &format!("User {login}"), vec![Role::SocialWorker])
            .expect("user added");
        server
            .state
            .registry
            .reload_directory()
            .expect("directory reloaded");
    }
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let enrolment = directory.enroll(login, random).expect("enrolled");
    Device {
        id: enrolment.device_id,
        token: enrolment.token,
    }
}

/// Revokes a device as the admin API does: in the directory, and its open connections.
pub async fn revoke(server: &RunningServer, device: &Device) {
    server
        .state
        .directory
        .revoke(&device.id)
        .expect("device revoked");
    let (ack, closed) = oneshot::channel();
    server
        .state
        .hub
        .send(Command::DropDevice(device.id.clone(), ack))
        .await;
    let _ = tokio::time::timeout(WAIT, closed).await;
}

/// The server's address for a token, optionally through another port (a proxy).
pub fn address(
    server: &RunningServer,
    token: &str,
    via: Option<std::net::SocketAddr>,
) -> ServerAddress {
    let addr = via.unwrap_or(server.addr);
    ServerAddress {
        url: format!("wss://{addr}/sync"),
        token: token.into(),
        trust: Trust::Pinned(server.fingerprint.clone().expect("a TLS server")),
    }
}

/// A tablet's settings: quick reconnects, text committed only at explicit boundaries.
pub fn config(dir: &Path, key: &TabletKey, name: &str, login: &str) -> TabletConfig {
    let mut config = TabletConfig::new(
        dir,
        key.clone(),
        PeerId::new(name).expect("peer id"),
        login,
        GOPS,
    );
    config.min_backoff = Duration::from_millis(20);
    config.max_backoff = Duration::from_millis(400);
    config.commit_after_idle = Duration::from_secs(3600);
    config.refresh_documents_every = None;
    config
}

/// A tablet of `login` syncing with the server (through `via`, when given).
pub async fn online_tablet(
    dir: &Path,
    key: &TabletKey,
    name: &str,
    login: &str,
    server: &RunningServer,
    device: &Device,
    via: Option<std::net::SocketAddr>,
) -> Tablet {
    let config = config(dir, key, name, login).with_server(address(server, &device.token, via));
    Tablet::open(config).await.expect("tablet opens")
}

pub fn at(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, day, 9, 0, 0)
        .single()
        .expect("a time")
}

pub fn referral() -> Referral {
    Referral {
        by: "pedagog".into(),
        institution: "sp-1".into(),
        reason: "Częste nieobecności w szkole.".into(),
        at: at(1),
    }
}

pub fn no_household() -> BTreeMap<String, sync_core::model::case::HouseholdMember> {
    BTreeMap::new()
}

pub fn goal_plan() -> GoalPlan {
    GoalPlan {
        specific: "Regularne chodzenie do szkoły".into(),
        measurable: "Nieobecności poniżej 10%".into(),
        achievable: "Z pomocą świetlicy".into(),
        relevant: "Dziecko chce zdać".into(),
        deadline: chrono::NaiveDate::from_ymd_opt(2021, 6, 25).expect("a date"),
        responsible: "sp-1".into(),
        services: Default::default(),
    }
}

/// Waits until `check` holds for the tablet's status.
pub async fn wait_status(
    tablet: &Tablet,
    what: &str,
    check: impl FnMut(&SyncStatus) -> bool,
) -> SyncStatus {
    tablet
        .wait_for_status(what, WAIT, check)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn wait_up_to_date(tablet: &Tablet) -> SyncStatus {
    wait_status(tablet, "up to date", |s| s.state == SyncState::UpToDate).await
}

/// Waits until the tablet holds a document with content.
pub async fn wait_holds(tablet: &Tablet, document: DocumentId) {
    let mut events = tablet.events();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let docs = tablet.documents().await.expect("documents");
        if docs.iter().any(|d| d.id == document && d.kind.is_some()) {
            return;
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => panic!("timed out waiting for {document} to arrive; holding {docs:?}"),
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => panic!("tablet stopped"),
            Ok(_) => {}
        }
    }
}

/// Waits until every tablet is up to date and all hold the same heads of `document`.
pub async fn wait_converged(tablets: &[&Tablet], document: DocumentId) {
    let mut events: Vec<_> = tablets.iter().map(|t| t.events()).collect();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut heads = Vec::new();
        let mut all_up_to_date = true;
        for tablet in tablets {
            let mut h = tablet
                .client()
                .heads(document)
                .await
                .expect("heads")
                .unwrap_or_default();
            h.sort();
            heads.push(h);
            all_up_to_date &= tablet.status().borrow().state == SyncState::UpToDate;
        }
        if all_up_to_date && !heads[0].is_empty() && heads.iter().all(|h| *h == heads[0]) {
            return;
        }
        let next = futures::future::select_all(events.iter_mut().map(|e| Box::pin(e.recv())));
        if tokio::time::timeout_at(deadline, next).await.is_err() {
            let statuses: Vec<String> = tablets
                .iter()
                .map(|t| t.status().borrow().to_string())
                .collect();
            panic!("timed out waiting for convergence: {statuses:?}, heads {heads:?}");
        }
    }
}

/// Waits for an event matching `wanted`.
pub async fn wait_event(
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
    what: &str,
    mut wanted: impl FnMut(&ClientEvent) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Ok(event)) if wanted(&event) => return,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                panic!("the tablet stopped while waiting for {what}")
            }
            Ok(_) => {}
        }
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let needle = needle.as_bytes();
    files_under(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Every file under `dir` with the SHA-256 of its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::{Digest, Sha256};
    files_under(dir)
        .into_iter()
        .filter_map(|p| {
            std::fs::read(&p)
                .ok()
                .map(|bytes| (p, hex::encode(Sha256::digest(bytes))))
        })
        .collect()
}
