//! The server's list of the documents this user may hold, for a client whose duties keep one
//! (a tablet): fetched before each connection and again while connected; what is listed and
//! missing is fetched, what the duties say must go is removed from the device.

use std::collections::BTreeSet;

use sync_core::engine::Input;
use sync_core::storage::Storage;
use sync_core::DocumentId;

use super::{new_engine, Driver};
use crate::client::command::Cmd;
use crate::client::events::ClientEvent;
use crate::error::SdkError;
use crate::http::Listed;
use crate::store::Meta;

impl<S: Storage + Clone, M: Meta> Driver<S, M> {
    /// The list fetched before attempt `id` connects: the token works; the list is applied,
    /// or the attempt fails.
    pub(super) async fn listed_before_connecting(
        &mut self,
        id: u64,
        listed: Result<Vec<Listed>, SdkError>,
    ) {
        if self.link.attempt != Some(id) {
            return;
        }
        match listed {
            Ok(list) => {
                self.token_accepted();
                self.listed(list).await;
            }
            Err(e) => self.attempt_failed(e).await,
        }
    }

    /// The server listed what this user may hold: fetch what is missing, remove what the
    /// duties say must go. No connection is open: the list is fetched before the WebSocket.
    async fn listed(&mut self, list: Vec<Listed>) {
        self.docs.set_read_only(&list);
        let listed: BTreeSet<DocumentId> = list.into_iter().map(|l| l.id).collect();
        let mut held = self.docs.known.clone();
        match self.storage.list().await {
            Ok(stored) => held.extend(stored),
            Err(e) => {
                tracing::warn!(error = %e, "listing the store; nothing is removed this time");
                return;
            }
        }
        let gone = self.duties.must_go(&listed, &held, &self.docs.local_new);
        let mut removed = false;
        for document in gone {
            if let Err(e) = self.storage.remove(document).await {
                tracing::warn!(error = %e, %document, "removing a document no longer held");
                continue;
            }
            self.forget(document);
            removed = true;
            let _ = self.out.events.send(ClientEvent::Removed(document));
        }
        if removed {
            // The engine cannot forget a document; a fresh one is told about the rest.
            self.engine = new_engine(&self.config);
            for document in self.docs.known.clone() {
                self.input(Input::Find { document }).await;
            }
        }
        self.fetch_new(listed).await;
    }

    /// Fetches the listed documents this device does not hold yet.
    async fn fetch_new(&mut self, listed: BTreeSet<DocumentId>) {
        for document in listed {
            if self.docs.hold_new(document) {
                self.input(Input::Find { document }).await;
            }
        }
    }

    /// Fetches the server's document list again, on the open connection's behalf.
    pub(super) fn refresh(&mut self) {
        self.link.next_refresh = None;
        let (Some(id), Some(server)) = (self.link.conn_id(), self.config.server.as_ref()) else {
            return;
        };
        let Some(fetch) = self.duties.fetch_list(server) else {
            return;
        };
        let tx = self.out.tx.clone();
        tokio::spawn(async move {
            let listed = fetch.await;
            let _ = tx.send(Cmd::Refreshed(id, listed));
        });
    }

    /// The list fetched while connection `id` was open.
    pub(super) async fn refreshed(&mut self, id: u64, listed: Result<Vec<Listed>, SdkError>) {
        if self.link.conn_id() != Some(id) {
            return;
        }
        match listed {
            Ok(list) => self.refreshed_list(list).await,
            Err(SdkError::Unauthorized(why)) => {
                self.close_connection("the server refused the token");
                self.unauthorized(why).await;
            }
            Err(e) => tracing::info!(error = %e, "refreshing the document list"),
        }
    }

    /// Documents newly listed are fetched at once; when some must go, the client reconnects,
    /// and the connection sequence removes them.
    async fn refreshed_list(&mut self, list: Vec<Listed>) {
        self.schedule_refresh();
        self.docs.set_read_only(&list);
        let listed: BTreeSet<DocumentId> = list.into_iter().map(|l| l.id).collect();
        let must_go = self
            .duties
            .must_go(&listed, &self.docs.known, &self.docs.local_new);
        if !must_go.is_empty() {
            self.close_connection("documents must be removed");
            self.connect_later(std::time::Duration::ZERO);
            return;
        }
        self.fetch_new(listed).await;
    }

    /// Schedules the next fetch of the list, as often as the duties say.
    pub(super) fn schedule_refresh(&mut self) {
        self.link.next_refresh = self
            .duties
            .refresh_every()
            .map(|every| tokio::time::Instant::now() + every);
    }

    /// Drops everything the client knows of a document (its chunks are removed by the caller).
    pub(super) fn forget(&mut self, document: DocumentId) {
        self.docs.forget(document, &self.meta);
        self.sessions.forget(document);
        self.fail_waiters(document, || SdkError::UnknownDocument(document));
    }
}
