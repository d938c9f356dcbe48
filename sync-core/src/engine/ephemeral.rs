//! Ephemeral messages (presence): relayed from a peer to the others that follow the document,
//! and broadcast on the host's behalf.

use super::peer::Phase;
use super::{Access, ConnId, Direction, Engine, Event, Policy};
use crate::ids::DocumentId;
use crate::wire::{Ephemeral, Message};

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// A peer's ephemeral message: checked, reported to the host and relayed to the other
    /// followers that may read the document.
    pub(super) fn ephemeral(&mut self, conn: ConnId, e: Ephemeral) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        // A client may only speak for itself: what it sends on behalf of another peer is an echo
        // of our own relay (JS clients re-broadcast) or a forgery, and is dropped either way.
        if peer.direction == Direction::Inbound && peer.remote_id.as_ref() != Some(&e.sender_id) {
            return;
        }
        if self.policy.access(&peer.principal, &e.document_id, true) == Access::None {
            return;
        }
        let key = (e.sender_id.clone(), e.session_id.clone());
        match self.ephemeral_seen.get(&key) {
            Some((last, _)) if *last >= e.count => return,
            _ => {
                self.ephemeral_seen.insert(key, (e.count, self.now));
            }
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
