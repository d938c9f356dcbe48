//! What the client knows of the documents it holds ([`Holdings`]: which it holds, which were
//! created here, which the server acknowledged up to which heads, which are read-only, in sync,
//! or waiting for the server) and the [`SyncStatus`] computed from it and published to the app
//! ([`Publisher`]).
//!
//! Acknowledged heads, documents created here and the time of the last sync are kept in the
//! store's state entries ([`super::keys`]), so that the status is right again after a restart.

use std::collections::{BTreeSet, HashMap};

use automerge::{Automerge, ChangeHash};
use chrono::{DateTime, Utc};
use sync_core::engine::{AllowAll, ConnId, Engine};
use sync_core::model;
use sync_core::{DocumentId, StorageError};
use tokio::sync::{broadcast, watch};

use super::events::LocalDocument;
use super::keys;
use crate::http::Listed;
use crate::status::{SyncState, SyncStatus};
use crate::store::Meta;

/// The documents this device holds, and where each stands with the server.
#[derive(Debug, Default)]
pub(super) struct Holdings {
    /// The documents this device holds or is fetching.
    pub(super) known: BTreeSet<DocumentId>,
    /// Documents the server said it does not have.
    pub(super) unavailable: BTreeSet<DocumentId>,
    /// Documents created here and not yet acknowledged by the server.
    pub(super) local_new: BTreeSet<DocumentId>,
    /// Documents the server lets this user only read.
    pub(super) read_only: BTreeSet<DocumentId>,
    /// The heads the server last acknowledged, per document (sorted).
    acked: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Documents whose heads equal the server's on the current connection.
    in_sync: BTreeSet<DocumentId>,
    /// Unacknowledged changes per document.
    pending_changes: HashMap<DocumentId, usize>,
    /// Documents whose status must be recomputed.
    touched: BTreeSet<DocumentId>,
    /// When the client was last up to date.
    last_sync: Option<DateTime<Utc>>,
    /// The last connection or sync error in words; cleared once up to date again.
    pub(super) last_error: Option<String>,
}

impl Holdings {
    /// Reads what the state entries remember: documents created here, acknowledged heads, the
    /// last sync.
    pub(super) fn load(&mut self, meta: &impl Meta) -> Result<(), StorageError> {
        for name in meta.keys(keys::NEW)? {
            if let Ok(id) = DocumentId::parse(&name[keys::NEW.len()..]) {
                self.local_new.insert(id);
            }
        }
        for name in meta.keys(keys::ACKED)? {
            if let (Ok(id), Some(bytes)) = (
                DocumentId::parse(&name[keys::ACKED.len()..]),
                meta.get(&name)?,
            ) {
                self.acked.insert(id, keys::heads_from_bytes(&bytes));
            }
        }
        if let Some(bytes) = meta.get(keys::LAST_SYNC)? {
            if let Ok(millis) = <[u8; 8]>::try_from(bytes.as_slice()) {
                self.last_sync = DateTime::from_timestamp_millis(i64::from_be_bytes(millis));
            }
        }
        Ok(())
    }

    /// Records durably that `document` was created here (before it is stored).
    pub(super) fn created(
        &mut self,
        document: DocumentId,
        meta: &impl Meta,
    ) -> Result<(), StorageError> {
        self.local_new.insert(document);
        meta.put(&format!("{}{document}", keys::NEW), &[])
            .and_then(|()| meta.flush())
    }

    /// Holds `document` (or fetches it) and recomputes its status.
    pub(super) fn hold(&mut self, document: DocumentId) {
        self.known.insert(document);
        self.touched.insert(document);
    }

    /// Holds `document` if it is new here; says whether it was.
    pub(super) fn hold_new(&mut self, document: DocumentId) -> bool {
        let new = self.known.insert(document);
        if new {
            self.touched.insert(document);
        }
        new
    }

    /// Recomputes `document`'s status at the next publication.
    pub(super) fn touch(&mut self, document: DocumentId) {
        self.touched.insert(document);
    }

    /// Recomputes every document's status at the next publication (a new connection).
    pub(super) fn touch_all(&mut self) {
        self.touched.extend(self.known.iter().copied());
    }

    /// The server's list says which documents this user may only read.
    pub(super) fn set_read_only(&mut self, list: &[Listed]) {
        self.read_only = list.iter().filter(|l| l.read_only).map(|l| l.id).collect();
    }

    /// The connection closed: nothing is known to be in sync any more.
    pub(super) fn disconnected(&mut self) {
        self.in_sync.clear();
    }

    /// Drops everything known of a document, its state entries included.
    pub(super) fn forget(&mut self, document: DocumentId, meta: &impl Meta) {
        let _ = meta.remove(&format!("{}{document}", keys::ACKED));
        let _ = meta.remove(&format!("{}{document}", keys::NEW));
        self.acked.remove(&document);
        self.known.remove(&document);
        self.unavailable.remove(&document);
        self.local_new.remove(&document);
        self.read_only.remove(&document);
        self.in_sync.remove(&document);
        self.pending_changes.remove(&document);
    }

    /// Recomputes the touched documents: acknowledgement, sync, pending changes. `server` is
    /// the connection whose handshake is done, if any.
    pub(super) fn refresh_touched(
        &mut self,
        engine: &Engine<AllowAll>,
        server: Option<ConnId>,
        meta: &impl Meta,
    ) {
        for document in std::mem::take(&mut self.touched) {
            self.refresh(document, engine, server, meta);
        }
    }

    /// Recomputes what changed for a document: acknowledgement, sync, pending changes.
    fn refresh(
        &mut self,
        document: DocumentId,
        engine: &Engine<AllowAll>,
        server: Option<ConnId>,
        meta: &impl Meta,
    ) {
        if !self.known.contains(&document) {
            self.in_sync.remove(&document);
            self.pending_changes.remove(&document);
            return;
        }
        let server = server
            .and_then(|conn| engine.peer_heads(conn, &document))
            .map(|mut h| {
                h.sort();
                h
            });
        if let Some(heads) = &server {
            self.acknowledged(document, heads, meta);
        }
        let Some(doc) = engine.document(&document) else {
            self.in_sync.remove(&document);
            self.pending_changes.remove(&document);
            return;
        };
        let mut local = doc.get_heads();
        local.sort();
        let pending = self.pending_in(document, doc);
        self.pending_changes.insert(document, pending);
        if server.as_ref() == Some(&local) {
            self.in_sync.insert(document);
        } else {
            self.in_sync.remove(&document);
        }
    }

    /// The server holds `heads` of `document` (sorted): remember it, and that the document is
    /// no longer only here.
    fn acknowledged(&mut self, document: DocumentId, heads: &[ChangeHash], meta: &impl Meta) {
        if self.acked.get(&document).map(Vec::as_slice) != Some(heads) {
            let name = format!("{}{document}", keys::ACKED);
            if let Err(e) = meta.put(&name, &keys::heads_bytes(heads)) {
                tracing::warn!(error = %e, "recording an acknowledgement");
            }
            self.acked.insert(document, heads.to_vec());
        }
        if !heads.is_empty() && self.local_new.remove(&document) {
            let _ = meta.remove(&format!("{}{document}", keys::NEW));
        }
    }

    /// The changes of `doc` the server has not acknowledged.
    fn pending_in(&self, document: DocumentId, doc: &Automerge) -> usize {
        let acked: Vec<ChangeHash> = self
            .acked
            .get(&document)
            .map(|heads| {
                heads
                    .iter()
                    .filter(|h| doc.get_change_meta_by_hash(h).is_some())
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        doc.get_changes_meta(&acked).len()
    }

    /// Where syncing stands on a joined connection: how many of the documents the server has
    /// hold exactly what it holds.
    pub(super) fn progress(&self) -> SyncState {
        let counted = self.known.iter().filter(|d| !self.unavailable.contains(d));
        let (mut synced, mut total) = (0, 0);
        for document in counted {
            total += 1;
            if self.in_sync.contains(document) {
                synced += 1;
            }
        }
        if synced == total {
            SyncState::UpToDate
        } else {
            SyncState::Syncing { synced, total }
        }
    }

    /// Publishes the status in `state`; reaching up to date records the time of the sync.
    pub(super) fn publish(&mut self, state: SyncState, meta: &impl Meta, publisher: &Publisher) {
        let was_up_to_date = publisher.status.borrow().state == SyncState::UpToDate;
        if state == SyncState::UpToDate && !was_up_to_date {
            let now = Utc::now();
            self.last_sync = Some(now);
            self.last_error = None;
            let _ = meta.put(keys::LAST_SYNC, &now.timestamp_millis().to_be_bytes());
        }
        publisher.publish(SyncStatus {
            state,
            pending_changes: self.pending_changes.values().sum(),
            last_sync: self.last_sync,
            last_error: self.last_error.clone(),
        });
    }

    /// The documents held, as [`super::SyncClient::documents`] lists them.
    pub(super) fn local_documents(&self, engine: &Engine<AllowAll>) -> Vec<LocalDocument> {
        self.known
            .iter()
            .map(|id| {
                let doc = engine.document(id);
                LocalDocument {
                    id: *id,
                    kind: doc
                        .filter(|d| !d.get_heads().is_empty())
                        .and_then(|d| model::kind_of(d).ok()),
                    pending_changes: self.pending_changes.get(id).copied().unwrap_or(0),
                    on_server: !self.local_new.contains(id),
                    read_only: self.read_only.contains(id),
                }
            })
            .collect()
    }
}

/// Where the status goes: the latest for watchers, every change for listeners.
#[derive(Debug)]
pub(super) struct Publisher {
    pub(super) status: watch::Sender<SyncStatus>,
    pub(super) changes: broadcast::Sender<SyncStatus>,
}

impl Publisher {
    /// Publishes `status` if it differs from the latest.
    fn publish(&self, status: SyncStatus) {
        let changed = self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                *current = status.clone();
                true
            }
        });
        if changed {
            let _ = self.changes.send(status);
        }
    }
}
