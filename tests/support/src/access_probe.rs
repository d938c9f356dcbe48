//! What a user can do with a document over the real server: [`probe`] it from a fresh tablet
//! (does it arrive? is a change acknowledged?), the access matrices' one measure.

use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::serve::RunningServer;
use sync_core::DocumentId;

use crate::documents::random_id;
use crate::in_process::tablet;
use crate::WAIT;

/// What a user can do with a document, as [`probe`] finds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Can {
    /// The document never arrives.
    Nothing,
    /// It arrives; a change to it is refused.
    Read,
    /// It arrives and a change to it is acknowledged.
    ReadWrite,
}

/// What `login`'s fresh tablet can do with `doc`: read it (it arrives with `heads`), and write
/// it (the server acknowledges a change, or refuses it).
pub async fn probe(
    server: &RunningServer,
    login: &str,
    doc: DocumentId,
    heads: &[automerge::ChangeHash],
) -> Can {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    let mut events = t.events();
    t.find(doc).expect("find");
    let wanted = heads.to_vec();
    let read = arrives(&t, &mut events, doc, move |d| {
        wanted
            .iter()
            .all(|h| d.get_change_meta_by_hash(h).is_some())
    })
    .await;
    if !read {
        t.shutdown().await;
        return Can::Nothing;
    }
    let mut events = t.events();
    // A value nobody wrote before: automerge makes no change for a write of the same value.
    let mark = random_id().to_string();
    t.change(doc, move |d| {
        use automerge::transaction::Transactable;
        d.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(automerge::ROOT, "probe", mark))
            .expect("edit");
    })
    .await
    .expect("saved locally");
    let can = if acknowledged(&t, &mut events, doc).await {
        Can::ReadWrite
    } else {
        Can::Read
    };
    t.shutdown().await;
    can
}

/// Whether `doc` arrives on `t` as `ready` wants it (true), or the server says it is
/// unavailable to `t`'s user (false); re-checked after every event, within [`WAIT`].
pub async fn arrives(
    t: &SyncClient,
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
    doc: DocumentId,
    ready: impl Fn(&automerge::Automerge) -> bool + Clone + Send + 'static,
) -> bool {
    tokio::time::timeout(WAIT, async {
        loop {
            let check = ready.clone();
            let has = t
                .read(doc, move |d| d.is_some_and(check))
                .await
                .expect("read");
            if has {
                return true;
            }
            match events.recv().await {
                Ok(ClientEvent::Unavailable(d)) if d == doc => return false,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("the server answers")
}

/// Whether the server acknowledges the tablet's change to `doc` (true) or refuses it (false).
pub async fn acknowledged(
    t: &SyncClient,
    events: &mut tokio::sync::broadcast::Receiver<ClientEvent>,
    doc: DocumentId,
) -> bool {
    tokio::time::timeout(WAIT, async {
        loop {
            if t.is_acknowledged(doc).await.expect("ack") {
                return true;
            }
            match events.recv().await {
                Ok(ClientEvent::Disconnected(reason)) if reason.contains("refused") => {
                    return false
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("acknowledged or refused")
}
