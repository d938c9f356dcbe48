//! Connections: a peer connecting and leaving, the handshake (`join` / `peer`), refusing a peer,
//! and routing a ready peer's messages to the document they concern.

use std::collections::BTreeSet;

use automerge::sync;

use super::document::{Doc, Inbound};
use super::peer::{Peer, Phase};
use super::{close_code, ConnId, Direction, Effect, Engine, Event, Policy, Principal, Rejection};
use crate::catalogue::{coded_text, Coded};
use crate::error::DecodeError;
use crate::ids::DocumentId;
use crate::wire::{self, DocMessage, Join, Message, PeerMetadata, PeerMsg};

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// A connection opened: as the client side, we speak first (`join`).
    pub(super) fn connected(&mut self, conn: ConnId, direction: Direction, principal: Principal) {
        let phase = match direction {
            Direction::Inbound => Phase::AwaitingJoin,
            Direction::Outbound => Phase::AwaitingPeer,
        };
        self.peers
            .insert(conn, Peer::new(direction, principal, phase));
        if direction == Direction::Outbound {
            self.send(
                conn,
                Message::Join(Join {
                    sender_id: self.config.peer_id.clone(),
                    metadata: self.metadata(),
                    supported_protocol_versions: vec![wire::PROTOCOL_VERSION.into()],
                }),
            );
        }
    }

    /// What we tell peers about ourselves in the handshake.
    pub(super) fn metadata(&self) -> PeerMetadata {
        PeerMetadata {
            storage_id: self.config.storage_id.clone(),
            is_ephemeral: false,
        }
    }

    /// Forgets a connection and what it followed or waited for.
    pub(super) fn disconnected(&mut self, conn: ConnId) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        if let Some(id) = &peer.remote_id {
            if self.peer_ids.get(id) == Some(&conn) {
                self.peer_ids.remove(id);
            }
        }
        for document in peer.docs.keys().chain(peer.waiting_for.iter()) {
            if let Some(doc) = self.docs.get_mut(document) {
                doc.subscribers.remove(&conn);
                doc.contributors.remove(&conn);
                doc.waiting.remove(&conn);
            }
        }
        self.event(Event::PeerLeft { conn });
    }

    /// Tells the peer why, closes its connection and forgets it.
    pub(super) fn reject(
        &mut self,
        conn: ConnId,
        document: Option<DocumentId>,
        reason: Rejection,
        code: u16,
    ) {
        let text = coded_text(reason.code(), &reason.to_string());
        // The host hears of it first (and audits it) before the peer is told and cut off: a
        // peer that has seen its refusal finds it in the audit log.
        self.event(Event::Rejected {
            conn,
            document,
            reason,
        });
        self.send(
            conn,
            Message::Error {
                message: text.clone(),
            },
        );
        self.out.push(Effect::Close {
            conn,
            code,
            reason: text,
        });
        self.disconnected(conn);
    }

    /// A frame that did not decode: the peer is refused and cut off.
    pub(super) fn malformed(&mut self, conn: ConnId, error: DecodeError) {
        if !self.peers.contains_key(&conn) {
            return;
        }
        let code = match error {
            DecodeError::TooLarge { .. } => close_code::TOO_BIG,
            _ => close_code::PROTOCOL_ERROR,
        };
        self.reject(conn, None, Rejection::Malformed(error), code);
    }

    /// A decoded message: the handshake, an error the peer reports, or a ready peer's message.
    pub(super) fn received(&mut self, conn: ConnId, message: Message) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        let phase = peer.phase;
        match (phase, message) {
            (Phase::AwaitingJoin, Message::Join(join)) => self.join(conn, join),
            (Phase::AwaitingPeer, Message::Peer(p)) => self.peer_answered(conn, p),
            (_, Message::Error { message }) => {
                self.event(Event::Rejected {
                    conn,
                    document: None,
                    reason: Rejection::ProtocolViolation(format!("peer reported: {message}")),
                });
                self.out.push(Effect::Close {
                    conn,
                    code: close_code::PROTOCOL_ERROR,
                    reason: format!("the peer said: {message}"),
                });
                self.disconnected(conn);
            }
            (Phase::Ready, message) => {
                // Relayed ephemeral messages keep their original sender; they are checked there.
                let relayed = matches!(message, Message::Ephemeral(_));
                if !relayed
                    && message.sender_id()
                        != self.peers.get(&conn).and_then(|p| p.remote_id.as_ref())
                {
                    let reason = format!(
                        "{} message: senderId does not match the peer that joined",
                        message.type_name()
                    );
                    self.reject(
                        conn,
                        message.document_id().copied(),
                        Rejection::ProtocolViolation(reason),
                        close_code::PROTOCOL_ERROR,
                    );
                    return;
                }
                self.ready_message(conn, message);
            }
            (_, message) => {
                let reason = format!("unexpected {} before the handshake", message.type_name());
                self.reject(
                    conn,
                    None,
                    Rejection::ProtocolViolation(reason),
                    close_code::PROTOCOL_ERROR,
                );
            }
        }
    }

    /// A client's `join`: answered with `peer`, replacing an older connection of the same peer.
    fn join(&mut self, conn: ConnId, join: Join) {
        if !join
            .supported_protocol_versions
            .iter()
            .any(|v| v == wire::PROTOCOL_VERSION)
        {
            self.reject(
                conn,
                None,
                Rejection::UnsupportedVersion(join.supported_protocol_versions),
                close_code::PROTOCOL_ERROR,
            );
            return;
        }
        if let Some(&old) = self.peer_ids.get(&join.sender_id) {
            // A peer id is the device's: the same device reconnecting replaces its own stale
            // connection; another device (another user's, say) may not take it over.
            let device = |c: ConnId| self.peers.get(&c).map(|p| p.principal.device.clone());
            if old != conn && device(old) != device(conn) {
                let reason = format!(
                    "peer id {} is in use by another device: choose your own",
                    join.sender_id
                );
                self.reject(
                    conn,
                    None,
                    Rejection::ProtocolViolation(reason),
                    close_code::POLICY_VIOLATION,
                );
                return;
            }
            if old != conn {
                self.out.push(Effect::Close {
                    conn: old,
                    code: close_code::REPLACED,
                    reason: "replaced by a newer connection of the same peer".into(),
                });
                self.disconnected(old);
            }
        }
        self.peer_ids.insert(join.sender_id.clone(), conn);
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.phase = Phase::Ready;
            peer.remote_id = Some(join.sender_id.clone());
        }
        self.send(
            conn,
            Message::Peer(PeerMsg {
                sender_id: self.config.peer_id.clone(),
                metadata: self.metadata(),
                selected_protocol_version: wire::PROTOCOL_VERSION.into(),
                target_id: join.sender_id.clone(),
            }),
        );
        self.event(Event::PeerJoined {
            conn,
            peer_id: join.sender_id,
            metadata: join.metadata,
        });
    }

    /// The server's `peer` answers our `join`: as a client, we offer what we want.
    fn peer_answered(&mut self, conn: ConnId, answer: PeerMsg) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.phase = Phase::Ready;
            peer.remote_id = Some(answer.sender_id.clone());
        }
        self.peer_ids.insert(answer.sender_id.clone(), conn);
        self.event(Event::PeerJoined {
            conn,
            peer_id: answer.sender_id,
            metadata: answer.metadata,
        });
        if self.config.announce {
            let wanted: Vec<DocumentId> = self
                .docs
                .iter()
                .filter(|(_, d)| d.wanted)
                .map(|(id, _)| *id)
                .collect();
            for document in wanted {
                self.follow(conn, document);
            }
        }
    }

    /// Routes a ready peer's message.
    fn ready_message(&mut self, conn: ConnId, message: Message) {
        match message {
            Message::Request(m) | Message::Sync(m) => self.doc_message(conn, m),
            Message::DocUnavailable { document_id, .. } => self.unavailable(conn, document_id),
            Message::Ephemeral(e) => self.ephemeral(conn, e),
            Message::Join(_) | Message::Peer(_) => self.reject(
                conn,
                None,
                Rejection::ProtocolViolation("a second join (handshake) on one connection".into()),
                close_code::PROTOCOL_ERROR,
            ),
            // Heads gossip is optional in the protocol; we do not enable it. Leave is advisory.
            Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::Leave { .. }
            | Message::Error { .. } => {}
        }
    }

    /// A `request` or `sync` message: queued in its document's inbox for the next tick.
    fn doc_message(&mut self, conn: ConnId, m: DocMessage) {
        let message = match sync::Message::decode(&m.data) {
            Ok(message) => message,
            Err(e) => {
                self.reject(
                    conn,
                    Some(m.document_id),
                    Rejection::BadSyncData(e.to_string()),
                    close_code::INVALID_DATA,
                );
                return;
            }
        };
        if self.denied_before_load(conn, m.document_id) {
            self.answer_as_unknown(conn, m.document_id, message, false);
            return;
        }
        let now = self.now;
        let doc = self.docs.entry(m.document_id).or_insert_with(Doc::unloaded);
        doc.last_used = now;
        doc.inbox.push(Inbound { conn, message });
        self.ensure_loaded(m.document_id);
        self.dirty.insert(m.document_id);
    }

    /// A peer asks for a document that is not in memory and the policy denies it whatever the
    /// store holds: it is answered from the access tables, nothing is loaded (a load's time
    /// would tell a forbidden document from an unknown one).
    fn denied_before_load(&self, conn: ConnId, document: DocumentId) -> bool {
        let resident = self
            .docs
            .get(&document)
            .is_some_and(|d| d.resident().is_some());
        !resident
            && self
                .peers
                .get(&conn)
                .is_some_and(|p| self.policy.denies(&p.principal, &document))
    }

    /// A peer says it does not have a document (client side).
    fn unavailable(&mut self, conn: ConnId, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.unavailable_from.insert(conn);
        let asked: BTreeSet<ConnId> = doc.subscribers.clone();
        // Also for a document we hold: the server will not take it (no right to create it).
        if asked.iter().all(|c| doc.unavailable_from.contains(c)) {
            self.event(Event::DocumentUnavailable { document });
        }
    }
}
