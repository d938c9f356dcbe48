//! Who follows which document and what a peer is sent: documents the host finds, creates or
//! forgets, subscriptions, peers waiting for a document that does not exist yet, access
//! re-checked, and the sync messages generated for a peer.

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;

use super::document::Doc;
use super::peer::Phase;
use super::relay::Need;
use super::{Access, ConnId, Direction, Engine, Event, Policy};
use crate::ids::DocumentId;
use crate::wire::{DocMessage, Message};

/// How many absent documents one peer is remembered to be waiting for.
pub const MAX_WAITING_PER_PEER: usize = 1_000;

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// The host wants a document: offered to servers if resident, loaded otherwise.
    pub(super) fn find(&mut self, document: DocumentId) {
        let now = self.now;
        let doc = self.docs.entry(document).or_insert_with(Doc::unloaded);
        doc.wanted = true;
        doc.last_used = now;
        if doc.resident().is_some() {
            self.offer(document);
        } else {
            self.ensure_loaded(document);
        }
    }

    /// The host created a document: resident, stored and offered from the next tick on.
    pub(super) fn create(&mut self, document: DocumentId, content: Automerge) {
        let doc = self.docs.entry(document).or_insert_with(Doc::unloaded);
        doc.set_content(Box::new(content));
        doc.exists = true;
        doc.wanted = true;
        doc.last_used = self.now;
        self.dirty.insert(document);
        self.offer(document);
    }

    /// As a client, offers a wanted resident document to every ready outbound peer.
    pub(super) fn offer(&mut self, document: DocumentId) {
        if !self.config.announce {
            return;
        }
        let ready: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.phase == Phase::Ready && p.direction == Direction::Outbound)
            .map(|(c, _)| *c)
            .collect();
        for conn in ready {
            self.follow(conn, document);
        }
        self.dirty.insert(document);
    }

    /// Subscribes a peer to a document and owes it a sync message at the next tick.
    pub(super) fn follow(&mut self, conn: ConnId, document: DocumentId) {
        self.subscribe(conn, document);
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.needs_generate.insert(conn);
        }
        self.dirty.insert(document);
    }

    /// Subscribes a peer to a document; its first read of the document in this session is an
    /// event for the host (the audit log).
    pub(super) fn subscribe(&mut self, conn: ConnId, document: DocumentId) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let first = !peer.docs.contains_key(&document);
        peer.docs.entry(document).or_default();
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.subscribers.insert(conn);
        }
        if first {
            self.event(Event::DocumentOpened { conn, document });
        }
    }

    /// Ends a peer's subscription to a document.
    pub(super) fn unsubscribe(&mut self, conn: ConnId, document: DocumentId) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.docs.remove(&document);
        }
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.subscribers.remove(&conn);
        }
    }

    /// Access rules changed: followers that may no longer read a document stop following it.
    pub(super) fn access_changed(&mut self, document: Option<DocumentId>) {
        let targets: Vec<DocumentId> = match document {
            Some(d) => vec![d],
            None => self.docs.keys().copied().collect(),
        };
        for document in targets {
            let Some(doc) = self.docs.get(&document) else {
                continue;
            };
            let exists = doc.exists;
            let subscribers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
            for conn in subscribers {
                let Some(peer) = self.peers.get(&conn) else {
                    continue;
                };
                if self.policy.access(&peer.principal, &document, exists) == Access::None {
                    self.answer_unavailable(conn, document);
                    self.event(Event::AccessRevoked { conn, document });
                }
            }
        }
    }

    /// Drops a document at once (erasure); its followers are told it is unavailable.
    pub(super) fn forget(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.remove(&document) else {
            return;
        };
        self.dirty.remove(&document);
        for conn in doc.waiting {
            if let Some(peer) = self.peers.get_mut(&conn) {
                peer.waiting_for.remove(&document);
            }
        }
        for conn in doc.subscribers {
            self.answer_unavailable(conn, document);
        }
    }

    /// Remembers that a peer waits for a document that does not exist yet.
    pub(super) fn remember_waiting(&mut self, conn: ConnId, document: DocumentId) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            // A peer asking for ever more documents that do not exist is not remembered for
            // all of them: past the cap it has to ask again later.
            if peer.waiting_for.len() >= MAX_WAITING_PER_PEER
                && !peer.waiting_for.contains(&document)
            {
                return;
            }
            peer.waiting_for.insert(document);
        }
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.waiting.insert(conn);
        }
    }

    /// A document that peers asked for now exists: those who may read it follow it from now
    /// on (they receive it once its first write is durable).
    pub(super) fn serve_waiting(&mut self, document: DocumentId) {
        let waiting = self
            .docs
            .get_mut(&document)
            .map(|d| std::mem::take(&mut d.waiting))
            .unwrap_or_default();
        for conn in waiting {
            let Some(peer) = self.peers.get_mut(&conn) else {
                continue;
            };
            peer.waiting_for.remove(&document);
            let principal = peer.principal.clone();
            if self.policy.access(&principal, &document, true) != Access::None {
                self.follow(conn, document);
            }
        }
    }

    /// Answers exactly what a peer sees for a document that does not exist: to a peer that says
    /// it has content, the answer of an empty document; otherwise `doc-unavailable` (and, when
    /// `waits`, the peer gets the document once it exists).
    pub(super) fn answer_as_unknown(
        &mut self,
        conn: ConnId,
        document: DocumentId,
        message: sync::Message,
        waits: bool,
    ) {
        let has_changes = !message.changes.is_empty();
        if !has_changes && !message.heads.is_empty() {
            self.answer_as_empty(conn, document, message);
        } else {
            self.answer_unavailable(conn, document);
            if waits {
                self.remember_waiting(conn, document);
            }
        }
    }

    /// Answers a sync message as a document with no content would, keeping no state.
    pub(super) fn answer_as_empty(
        &mut self,
        conn: ConnId,
        document: DocumentId,
        message: sync::Message,
    ) {
        let Some(target_id) = self.peers.get(&conn).and_then(|p| p.remote_id.clone()) else {
            return;
        };
        self.unsubscribe(conn, document);
        let mut empty = Automerge::new();
        let mut state = sync::State::new();
        if empty.receive_sync_message(&mut state, message).is_err() {
            self.answer_unavailable(conn, document);
            return;
        }
        if let Some(reply) = empty.generate_sync_message(&mut state) {
            self.send(
                conn,
                Message::Sync(DocMessage {
                    sender_id: self.config.peer_id.clone(),
                    target_id,
                    document_id: document,
                    data: reply.encode(),
                }),
            );
        }
    }

    /// Tells a peer a document is unavailable (also what a peer that may not read it hears).
    pub(super) fn answer_unavailable(&mut self, conn: ConnId, document: DocumentId) {
        let Some(target_id) = self.peers.get(&conn).and_then(|p| p.remote_id.clone()) else {
            return;
        };
        self.unsubscribe(conn, document);
        self.send(
            conn,
            Message::DocUnavailable {
                sender_id: self.config.peer_id.clone(),
                target_id,
                document_id: document,
            },
        );
    }

    /// Sends a peer what it lacks of a document, if anything (heads here are always durable).
    pub(super) fn generate(&mut self, conn: ConnId, document: DocumentId) {
        if self
            .docs
            .get(&document)
            .is_some_and(|d| d.relay.is_lagging())
        {
            if self.may_be_sent(conn, document) {
                match self.compose(conn, document) {
                    Some(composed) => return self.send_sync(conn, document, composed),
                    None => self.materialise(document, Need::Peer),
                }
            } else {
                return;
            }
        }
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let Some(am) = doc.resident() else {
            return;
        };
        let exists = doc.exists;
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        if peer.phase != Phase::Ready
            || self.policy.access(&peer.principal, &document, exists) == Access::None
        {
            return;
        }
        let Some(target_id) = peer.remote_id.clone() else {
            return;
        };
        let state = peer.docs.entry(document).or_default();
        let Some(message) = am.generate_sync_message(state) else {
            return;
        };
        let msg = DocMessage {
            sender_id: self.config.peer_id.clone(),
            target_id,
            document_id: document,
            data: message.encode(),
        };
        // Only a client asks for a document it lacks; a server answers with `sync`.
        let message = if self.config.announce && am.get_heads().is_empty() {
            Message::Request(msg)
        } else {
            Message::Sync(msg)
        };
        self.send(conn, message);
    }

    /// Whether a peer is ready and may read a document (to be sent a sync message).
    fn may_be_sent(&self, conn: ConnId, document: DocumentId) -> bool {
        let exists = self.docs.get(&document).is_some_and(|d| d.exists);
        self.peers.get(&conn).is_some_and(|peer| {
            peer.phase == Phase::Ready
                && peer.remote_id.is_some()
                && self.policy.access(&peer.principal, &document, exists) != Access::None
        })
    }

    /// Sends a sync message composed on the relay path (a server's `sync`).
    fn send_sync(&mut self, conn: ConnId, document: DocumentId, message: Option<sync::Message>) {
        let (Some(message), Some(target_id)) = (
            message,
            self.peers.get(&conn).and_then(|p| p.remote_id.clone()),
        ) else {
            return;
        };
        let msg = DocMessage {
            sender_id: self.config.peer_id.clone(),
            target_id,
            document_id: document,
            data: message.encode(),
        };
        self.send(conn, Message::Sync(msg));
    }
}
