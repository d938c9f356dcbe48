//! Ephemeral messages (presence): relayed from a peer to the others that follow the document,
//! and broadcast on the host's behalf.

use super::peer::Phase;
use super::{close_code, Access, ConnId, Direction, Engine, Event, Policy, Rejection};
use crate::ids::DocumentId;
use crate::wire::{Ephemeral, Message};

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// A peer's ephemeral message: checked, reported to the host and relayed to the other
    /// followers that may read the document.
    pub(super) fn ephemeral(&mut self, conn: ConnId, mut e: Ephemeral) {
        let now = self.now;
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let inbound = peer.direction == Direction::Inbound;
        // A client may only speak for itself: what it sends on behalf of another peer is an echo
        // of our own relay (JS clients re-broadcast) or a forgery, and is dropped either way.
        if inbound && peer.remote_id.as_ref() != Some(&e.sender_id) {
            return;
        }
        // What a peer sends is copied to every follower and its session is remembered: both
        // are capped, and a peer over its rate is not relayed (presence is lossy by design).
        let too_big = if e.data.len() > self.config.max_ephemeral {
            Some(format!(
                "ephemeral message of {} bytes over the limit of {} bytes",
                e.data.len(),
                self.config.max_ephemeral
            ))
        } else if e.session_id.len() > self.config.max_session_id {
            Some(format!(
                "ephemeral session id of {} bytes over the limit of {} bytes",
                e.session_id.len(),
                self.config.max_session_id
            ))
        } else {
            None
        };
        if let Some(reason) = too_big {
            if inbound {
                let document = Some(e.document_id);
                let reason = Rejection::ProtocolViolation(reason);
                self.reject(conn, document, reason, close_code::TOO_BIG);
            }
            return;
        }
        let (rate, burst) = (
            self.config.ephemeral_per_second,
            self.config.ephemeral_burst,
        );
        if inbound && !peer.take_ephemeral(now, rate, burst) {
            return;
        }
        let principal = peer.principal.clone();
        if self.policy.access(&principal, &e.document_id, true) == Access::None {
            return;
        }
        let key = (e.sender_id.clone(), e.session_id.clone());
        let (entries, bytes) = (
            self.config.ephemeral_sessions,
            self.config.ephemeral_sessions_bytes,
        );
        if !self.ephemeral_seen.fresh(key, e.count, now, entries, bytes) {
            return;
        }
        if inbound {
            // The host binds what the data says (who is present) to the peer's account.
            let Some(data) =
                self.policy
                    .ephemeral(&principal, &e.document_id, std::mem::take(&mut e.data))
            else {
                return;
            };
            e.data = data;
        }
        self.event(Event::Ephemeral {
            conn,
            sender_id: e.sender_id.clone(),
            document: e.document_id,
            data: e.data.clone(),
        });
        let Some(doc) = self.docs.get(&e.document_id) else {
            return;
        };
        let targets: Vec<ConnId> = doc
            .subscribers
            .iter()
            .copied()
            .filter(|c| *c != conn)
            .collect();
        for target in targets {
            let Some(peer) = self.peers.get(&target) else {
                continue;
            };
            if peer.phase != Phase::Ready
                || peer.remote_id.as_ref() == Some(&e.sender_id)
                || self.policy.access(&peer.principal, &e.document_id, true) == Access::None
            {
                continue;
            }
            let Some(target_id) = peer.remote_id.clone() else {
                continue;
            };
            self.send(
                target,
                Message::Ephemeral(Ephemeral {
                    target_id,
                    ..e.clone()
                }),
            );
        }
    }

    /// Sends the host's ephemeral data about a document to every peer that follows it.
    pub(super) fn broadcast(&mut self, document: DocumentId, data: Vec<u8>) {
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let targets: Vec<ConnId> = doc.subscribers.iter().copied().collect();
        for target in targets {
            let Some(target_id) = self.peers.get(&target).and_then(|p| p.remote_id.clone()) else {
                continue;
            };
            self.ephemeral_count += 1;
            self.send(
                target,
                Message::Ephemeral(Ephemeral {
                    sender_id: self.config.peer_id.clone(),
                    target_id,
                    document_id: document,
                    count: self.ephemeral_count,
                    session_id: self.config.session_id.clone(),
                    data: data.clone(),
                }),
            );
        }
    }
}
