//! Tablets for tests, with no server of their own: a tablet's settings (quick reconnects, text
//! committed only at explicit boundaries), a sync client at a plain address, the case data a
//! tablet enters, the case it creates and keystrokes typed one by one, and waits on what a tablet or a client reports, each up to [`WAIT`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use client_sdk::{
    ClientConfig, ServerAddress, SyncClient, SyncState, SyncStatus, Tablet, TabletConfig,
    TabletKey, TextSession, Trust,
};
use sync_core::model::case::{GoalPlan, HouseholdMember, Referral};
use sync_core::storage::MemoryStorage;
use sync_core::{DocumentId, PeerId};

use crate::WAIT;

/// The institution of every test tablet's user.
pub const GOPS: &str = "gops-przykladowo";

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

/// A sync client with an in-memory store at a plain-HTTP address (a node, a proxy, a
/// balancer), reconnecting quickly.
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

/// A fixed time: `day` of March 2021 at 9:00 UTC.
pub fn at(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, day, 9, 0, 0)
        .single()
        .expect("a time")
}

/// The school's referral a tablet enters with a new case.
pub fn referral() -> Referral {
    Referral {
        by: "pedagog".into(),
        institution: "sp-1".into(),
        reason: "Częste nieobecności w szkole.".into(),
        at: at(1),
    }
}

/// No household members.
pub fn no_household() -> BTreeMap<String, HouseholdMember> {
    BTreeMap::new()
}

/// A SMART goal of the IPP.
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

/// The tablet creates a case from the school's [`referral`], with no household yet.
pub async fn create_referred_case(tablet: &Tablet) -> DocumentId {
    tablet
        .create_case(GOPS, referral(), no_household())
        .await
        .expect("case")
}

/// Types `text` into the session one keystroke (one character) at a time, as a user does.
pub fn type_keystrokes(session: &TextSession, text: &str) {
    for c in text.chars() {
        session.type_text(&c.to_string()).expect("keystroke");
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

/// Waits until the tablet is up to date with the server.
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

/// Appends `text` to the `notes` text of an untyped document ([`crate::new_case`]).
pub async fn append_note(client: &SyncClient, id: DocumentId, text: &'static str) {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};
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

/// Anna writes a note of a home visit into the family case `id` ([`crate::new_family_case`]), a
/// change the case rules accept.
pub async fn append_visit_note(client: &SyncClient, id: DocumentId) {
    use sync_core::model::case;
    client
        .change(id, |d| {
            case::append_monitoring_note(
                d,
                &format!("n-{}", crate::random_id()),
                &case::MonitoringNote {
                    author: "anna".into(),
                    institution: "gops".into(),
                    mode: case::ContactMode::HomeVisit,
                    text: "Wizyta domowa.".into(),
                },
                Utc::now(),
            )
            .expect("note");
        })
        .await
        .expect("saved");
}

/// A well-behaved user still gets a change (`note` appended) acknowledged.
pub async fn still_works(good: &SyncClient, id: DocumentId, note: &'static str) {
    append_note(good, id, note).await;
    wait_acknowledged(good, id).await;
}

/// Waits until the server acknowledged all of `id` the client holds.
pub async fn wait_acknowledged(client: &SyncClient, id: DocumentId) {
    client
        .wait_until("server acknowledgement", WAIT, || {
            client.is_acknowledged(id)
        })
        .await
        .expect("acknowledged");
}

/// Waits until two clients hold the same heads, re-checking after an event of either (the last
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

/// Whether `client` holds every change in `hashes` of `doc`.
pub async fn holds_all(
    client: &SyncClient,
    doc: DocumentId,
    hashes: &[automerge::ChangeHash],
) -> Result<bool, client_sdk::SdkError> {
    use automerge::ReadDoc;
    let hashes = hashes.to_vec();
    client
        .read(doc, move |d| {
            d.is_some_and(|d| hashes.iter().all(|h| d.get_change_by_hash(h).is_some()))
        })
        .await
}
