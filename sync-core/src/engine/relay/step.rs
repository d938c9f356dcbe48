//! The engine's relay step: a batch of relay changes (and the acknowledgements of peers in
//! step) handled without the op set, the pending changes applied when the op set is needed,
//! and sync messages composed from the lag.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::{ChangeHash, ReadDoc};

use super::classify::{classify, split_chunks};
use super::emulate;
use crate::engine::document::{DocState, Inbound};
use crate::engine::{Access, ChangeSummary, ConnId, Engine, Policy};
use crate::ids::DocumentId;

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// Handles the document's queued batch on the relay path if every message allows it:
    /// from peers already following it, with changes only from writers and all of them relay
    /// changes that pass the policy's check, heads at one of the lag's steps. Returns whether
    /// it did (nothing changed otherwise).
    pub(in crate::engine) fn try_relay(&mut self, document: DocumentId) -> bool {
        self.build_relay_index(document);
        let Some(doc) = self.docs.get_mut(&document) else {
            return false;
        };
        let DocState::Resident(am) = &doc.state else {
            return false;
        };
        let has_changes = doc.inbox.iter().any(|i| !i.message.changes.is_empty());
        if !doc.exists
            || doc.stale
            || doc.stored.is_empty()
            || doc.inbox.is_empty()
            || !(has_changes || doc.relay.is_lagging())
        {
            return false;
        }
        let base = am.get_heads();
        let current = doc.relay.heads().map(<[_]>::to_vec).unwrap_or(base.clone());
        if current != doc.durable_heads {
            return false;
        }
        let Some(texts) = doc.relay.texts.as_ref() else {
            return false;
        };
        // Classify every change; a failure leaves the lag as it was.
        let mut fresh: Vec<(ConnId, Vec<super::RelayChange>)> = Vec::new();
        let mut batch: HashSet<ChangeHash> = HashSet::new();
        for Inbound { conn, message } in &doc.inbox {
            let Some(peer) = self.peers.get(conn) else {
                return false;
            };
            if !peer.docs.contains_key(&document) {
                return false;
            }
            let access = self.policy.access(&peer.principal, &document, true);
            let writes = !message.changes.is_empty();
            if access == Access::None || (writes && access != Access::ReadWrite) {
                return false;
            }
            let mut mine = Vec::new();
            for part in message.changes.iter() {
                let Some(chunks) = split_chunks(part) else {
                    return false;
                };
                for chunk in chunks {
                    let known = |h: &ChangeHash| {
                        batch.contains(h)
                            || doc.relay.has_pending(h)
                            || !am.get_missing_deps(&[*h]).contains(h)
                    };
                    let Ok(change) = classify(chunk, texts, known) else {
                        return false;
                    };
                    batch.insert(change.hash);
                    mine.push(change);
                }
            }
            fresh.push((*conn, mine));
        }
        // Tentatively pending: every peer's last message must be at one of the steps.
        doc.relay.rebase(&base);
        let mark = doc.relay.len();
        for (_, changes) in &fresh {
            for change in changes {
                doc.relay.push(change.clone());
            }
        }
        let mut last_of: HashMap<ConnId, usize> = HashMap::new();
        for (i, inbound) in doc.inbox.iter().enumerate() {
            last_of.insert(inbound.conn, i);
        }
        let receivable = doc.inbox.iter().enumerate().all(|(i, inbound)| {
            let resets = inbound
                .message
                .flags
                .is_some_and(|f| f.contains(automerge::sync::MessageFlags::SYNC_RESET));
            !resets
                && (last_of.get(&inbound.conn) != Some(&i)
                    || emulate::can_receive(&doc.relay, &inbound.message))
        });
        // The policy is asked last (it binds actors and audits what it accepts): only for
        // changes that will be relayed.
        if !receivable || !self.changes_pass(document, &fresh) {
            if let Some(doc) = self.docs.get_mut(&document) {
                doc.relay.truncate(mark);
            }
            return false;
        }
        let Some(doc) = self.docs.get_mut(&document) else {
            return false;
        };
        let DocState::Resident(am) = &doc.state else {
            return false;
        };
        // Committed: receive each peer's last message, as automerge would.
        let inbox = std::mem::take(&mut doc.inbox);
        let mut responders: BTreeSet<ConnId> = std::mem::take(&mut doc.needs_generate);
        let writers: BTreeSet<ConnId> = fresh
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .map(|(c, _)| *c)
            .collect();
        let relayed = batch.len();
        for (i, Inbound { conn, message }) in inbox.into_iter().enumerate() {
            if last_of.get(&conn) != Some(&i) {
                continue;
            }
            let Some(state) = self
                .peers
                .get_mut(&conn)
                .and_then(|p| p.docs.get_mut(&document))
            else {
                continue;
            };
            let last_sent = state.last_sent_heads.clone();
            emulate::receive(&doc.relay, state, message, |h| {
                !am.get_missing_deps(&[*h]).contains(h)
            });
            if writers.contains(&conn) {
                state.last_sent_heads = last_sent;
            }
            responders.insert(conn);
        }
        doc.contributors.extend(writers.iter().copied());
        self.relay_stats.relayed += relayed as u64;
        if relayed > 0 {
            let Some(doc) = self.docs.get(&document) else {
                return true;
            };
            let heads = doc.relay.heads().map(<[_]>::to_vec).unwrap_or_default();
            let bytes: Vec<u8> = doc.relay.changes()[mark..]
                .iter()
                .flat_map(|c| c.bytes.iter().copied())
                .collect();
            self.persist_bytes(document, heads, bytes);
        } else {
            for conn in responders {
                self.generate(conn, document);
            }
        }
        true
    }

    /// Whether the policy accepts every writer's relay changes (their headers: actor and
    /// trailers), as it would on the full path.
    fn changes_pass(
        &self,
        document: DocumentId,
        fresh: &[(ConnId, Vec<super::RelayChange>)],
    ) -> bool {
        if !self.policy.inspects_changes() {
            return true;
        }
        for (conn, changes) in fresh {
            let Some(peer) = self.peers.get(conn) else {
                return false;
            };
            let summaries: Vec<ChangeSummary> = changes
                .iter()
                .map(|c| ChangeSummary {
                    hash: c.hash,
                    actor: c.actor.clone(),
                    message: c.message.clone(),
                })
                .collect();
            if !summaries.is_empty()
                && self
                    .policy
                    .check_changes(&peer.principal, &document, &summaries)
                    .is_err()
            {
                return false;
            }
        }
        true
    }

    /// Builds the document's index of relay Text objects from its op set, once per
    /// materialisation (the host names them).
    fn build_relay_index(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if doc.relay.texts.is_some() {
            return;
        }
        let DocState::Resident(am) = &doc.state else {
            return;
        };
        let texts = self
            .policy
            .relay_texts(&document, am)
            .into_iter()
            .filter_map(|id| match id {
                automerge::ObjId::Id(counter, actor, _) => Some((counter, actor)),
                automerge::ObjId::Root => None,
            })
            .collect();
        doc.relay.texts = Some(texts);
    }

    /// Applies the pending relay changes to the op set, in one call.
    pub(in crate::engine) fn materialise(&mut self, document: DocumentId, need: super::Need) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if !doc.relay.is_lagging() {
            return;
        }
        let stats = &mut self.relay_stats;
        *match need {
            super::Need::Batch => &mut stats.applied_for_batch,
            super::Need::Peer => &mut stats.applied_for_peer,
            super::Need::Compaction => &mut stats.applied_for_compaction,
            super::Need::Host => &mut stats.applied_for_host,
        } += 1;
        let expected = doc.relay.heads().map(<[_]>::to_vec);
        let bytes: Vec<u8> = doc
            .relay
            .pending()
            .iter()
            .flat_map(|c| c.bytes.iter().copied())
            .collect();
        let count = doc.relay.pending().len();
        doc.relay.mark_applied();
        let Some(am) = doc.resident_mut() else {
            return;
        };
        let applied = am.load_incremental(&bytes).is_ok() && Some(am.get_heads()) == expected;
        self.relay_stats.batches_applied += 1;
        self.relay_stats.changes_applied += count as u64;
        if !applied {
            // Cannot happen for changes that were classified (checksums and dependencies
            // hold); if it does, the store has them: load the document again.
            doc.unload();
            self.ensure_loaded(document);
        }
    }

    /// A sync message for a peer from the lag, if it can be composed without the op set:
    /// `Some(message or nothing to send)`, `None` if the op set is needed.
    pub(in crate::engine) fn compose(
        &mut self,
        conn: ConnId,
        document: DocumentId,
    ) -> Option<Option<automerge::sync::Message>> {
        let doc = self.docs.get(&document)?;
        if !doc.relay.is_lagging() {
            return None;
        }
        let am = doc.resident()?;
        let state = self.peers.get_mut(&conn)?.docs.get_mut(&document)?;
        let known =
            |h: &ChangeHash| doc.relay.has_pending(h) || !am.get_missing_deps(&[*h]).contains(h);
        let composed = emulate::generate(&doc.relay, state, known)?;
        self.relay_stats.composed += 1;
        Some(composed)
    }
}
