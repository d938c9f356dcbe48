//! The connection's life as the driver sees it: going online and offline, starting attempts
//! (after the backoff), a connection opening and closing, the server refusing the token, and
//! revocation (which, when the duties say so, wipes the store).

use std::time::Duration;

use sha2::{Digest, Sha256};
use sync_core::engine::{close_code, ConnId, Direction, Input, Principal};
use sync_core::storage::Storage;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{new_engine, Driver};
use crate::client::command::Ended;
use crate::client::duties::{AfterRefusal, AfterRevocation};
use crate::client::events::ClientEvent;
use crate::client::keys;
use crate::error::SdkError;
use crate::store::Meta;

impl<S: Storage + Clone, M: Meta> Driver<S, M> {
    /// Goes offline (closing the connection, stopping attempts) or back online at once.
    pub(super) fn set_online(&mut self, online: bool) {
        if self.revoked {
            return;
        }
        self.link.online = online;
        if online {
            self.link.reset_backoff();
            self.connect_later(Duration::ZERO);
        } else {
            self.close_connection("went offline");
            self.link.abort_attempt();
        }
    }

    /// Schedules another attempt after the backoff (when the app wants to be online).
    pub(super) fn reconnect_with_backoff(&mut self) {
        if !self.link.online {
            return;
        }
        let delay = self
            .link
            .backoff(self.config.min_backoff, self.config.max_backoff);
        self.connect_later(delay);
    }

    /// Starts an attempt after `delay`, unless one is under way, a connection is open, or the
    /// client is offline, revoked or has no server.
    pub(super) fn connect_later(&mut self, delay: Duration) {
        let Some(server) = self.config.server.clone() else {
            return;
        };
        if self.link.busy() || !self.link.online || self.revoked {
            return;
        }
        let list = self.duties.fetch_list(&server);
        self.link
            .start_attempt(delay, server, list, self.out.tx.clone());
    }

    /// Closes the connection (if any) and tells the app why.
    pub(super) fn close_connection(&mut self, why: &str) {
        if let Some((id, sink)) = self.link.drop_open() {
            let _ = sink.send(WsMessage::Close(None));
            let effects = self
                .engine
                .handle(self.now(), Input::Disconnected { conn: ConnId(id) });
            drop(effects);
            self.docs.disconnected();
            let _ = self
                .out
                .events
                .send(ClientEvent::Disconnected(why.to_owned()));
        }
    }

    /// Attempt `id` opened its socket: the engine starts the handshake.
    pub(super) async fn opened(&mut self, id: u64, sink: mpsc::UnboundedSender<WsMessage>) {
        if self.link.attempt != Some(id) || !self.link.online {
            let _ = sink.send(WsMessage::Close(None));
            return;
        }
        self.link.opened(id, sink);
        self.token_accepted();
        self.input(Input::Connected {
            conn: ConnId(id),
            direction: Direction::Outbound,
            principal: Principal::new("server", "server"),
        })
        .await;
    }

    /// Connection or attempt `id` ended.
    pub(super) async fn closed(&mut self, id: u64, ended: Ended) {
        if self.link.conn_id() == Some(id) {
            self.link.drop_open();
            self.docs.disconnected();
            self.input(Input::Disconnected { conn: ConnId(id) }).await;
            match ended {
                Ended::Closed {
                    code: Some(close_code::REVOKED),
                    reason,
                } => {
                    let _ = self
                        .out
                        .events
                        .send(ClientEvent::Disconnected(format!("4001 {reason}")));
                    self.revoke().await;
                }
                Ended::Closed { code, reason } => {
                    let words = match code {
                        Some(code) => {
                            format!("the server closed the connection ({code}): {reason}")
                        }
                        None => format!("the connection ended: {reason}"),
                    };
                    self.disconnected(words);
                }
                Ended::Failed(e) => self.disconnected(e.to_string()),
            }
        } else if self.link.attempt == Some(id) {
            let error = match ended {
                Ended::Failed(e) => e,
                Ended::Closed { reason, .. } => SdkError::Network(reason),
            };
            self.attempt_failed(error).await;
        }
    }

    /// The connection was lost or never came: say why, and try again after the backoff.
    fn disconnected(&mut self, words: String) {
        self.docs.last_error = Some(words.clone());
        let _ = self.out.events.send(ClientEvent::Disconnected(words));
        self.reconnect_with_backoff();
    }

    /// The attempt failed before a connection opened.
    pub(super) async fn attempt_failed(&mut self, error: SdkError) {
        self.link.attempt_ended();
        match error {
            SdkError::Unauthorized(why) => self.unauthorized(why).await,
            error => self.disconnected(error.to_string()),
        }
    }

    fn token_hash(&self) -> Option<Vec<u8>> {
        let server = self.config.server.as_ref()?;
        Some(Sha256::digest(server.token.as_bytes()).to_vec())
    }

    /// The server accepted the token: remember it, so that a later refusal means revocation.
    pub(super) fn token_accepted(&mut self) {
        let Some(hash) = self.token_hash() else {
            return;
        };
        if self.meta.get(keys::TOKEN).ok().flatten() != Some(hash.clone()) {
            if let Err(e) = self.meta.put(keys::TOKEN, &hash) {
                tracing::warn!(error = %e, "recording the accepted token");
            }
        }
    }

    /// The server refused the token: revocation if it accepted it before, else a setup error.
    pub(super) async fn unauthorized(&mut self, why: String) {
        // A token the server accepted before, or one it says is revoked (the server tells a
        // revoked device so in the 401's body), means this device was revoked.
        let accepted = self.token_hash().is_some_and(|hash| {
            self.meta.get(keys::TOKEN).ok().flatten().as_deref() == Some(hash.as_slice())
        });
        let accepted = accepted || why.contains("revoked");
        let words = format!("the server refused this device's token: {why}");
        self.docs.last_error = Some(words.clone());
        let _ = self.out.events.send(ClientEvent::Disconnected(words));
        if accepted {
            self.revoke().await;
        } else {
            match self.duties.after_refusal() {
                AfterRefusal::StayOffline => self.link.online = false,
                AfterRefusal::Retry => self.reconnect_with_backoff(),
            }
        }
    }

    /// The device is revoked: stop syncing and, when the duties say so, wipe everything stored.
    async fn revoke(&mut self) {
        self.close_connection("revoked");
        self.link.abort_attempt();
        self.link.online = false;
        self.revoked = true;
        match self.duties.after_revocation() {
            AfterRevocation::WipeAndStop => {
                self.wipe().await;
                self.stop = true;
            }
            AfterRevocation::Keep => {}
        }
        let _ = self.out.events.send(ClientEvent::Revoked);
    }

    /// Removes every document and state entry, ends the text sessions and fails the calls
    /// waiting on a change.
    async fn wipe(&mut self) {
        let mut documents = std::mem::take(&mut self.docs.known);
        if let Ok(stored) = self.storage.list().await {
            documents.extend(stored);
        }
        for document in documents {
            if let Err(e) = self.storage.remove(document).await {
                tracing::error!(error = %e, %document, "wiping a revoked device");
            }
            self.forget(document);
        }
        if let Err(e) = self.meta.clear() {
            tracing::error!(error = %e, "wiping a revoked device's state");
        }
        self.engine = new_engine(&self.config);
        self.sessions.clear();
        for (_, waiters) in self.waiters.drain() {
            for w in waiters {
                let _ = w.send(Err(SdkError::Revoked));
            }
        }
    }
}
