//! The tick: everything queued for a document since the last tick is processed as one batch, in
//! named steps (see [`Engine::process`]); then, at most once a second, the housekeeping.

use std::collections::{BTreeSet, HashMap};

use automerge::sync::{self, SyncDoc};
use automerge::ChangeHash;

use super::chunks::stored_as_received;
use super::document::{Doc, DocState, Inbound};
use super::peer::Peer;
use super::rejection::too_many_missing;
use super::relay::Need;
use super::{
    close_code, Access, BatchRefusal, ChangeSummary, ConnId, Effect, Engine, Event, Millis, Policy,
    Principal, Rejection,
};
use crate::catalogue::{coded_text, BATCH_DISCARDED};
use crate::ids::DocumentId;
use crate::wire::Message;

/// The messages of a batch that the access step let through.
struct Admitted {
    /// Each peer's sync messages, their changes taken out.
    messages: Vec<(ConnId, sync::Message)>,
    /// The change bytes of each message that carried changes, in arrival order.
    chunks: Vec<(ConnId, Vec<u8>)>,
}

/// What applying a batch's changes found.
struct Applied {
    /// The document's heads before the batch.
    heads_before: Vec<ChangeHash>,
    /// Peers whose changes were refused: the whole batch is discarded.
    offenders: Vec<(ConnId, BatchRefusal)>,
    /// Peers whose sync data did not apply: refused on their own, the batch stands.
    refused: Vec<(ConnId, String)>,
    /// Every change new to the document in this batch (when the policy inspects changes).
    new_changes: Vec<ChangeHash>,
    /// Each peer's bytes that brought new changes (see [`stored_as_received`]).
    received: Vec<Vec<u8>>,
    /// The peers whose changes were applied (with new ones, when the policy inspects them).
    writers: Vec<ConnId>,
}

/// What the document verdict let stand.
struct Outcome {
    /// The document's heads after the batch.
    heads: Vec<ChangeHash>,
    /// The connection whose changes created the document, if this batch created it.
    created_by: Option<ConnId>,
}

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// Processes every document something happened to since the last tick; then, at most once
    /// a second, evicts documents and forgets old ephemeral counters.
    pub(super) fn tick(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for document in dirty {
            self.process(document);
        }
        // Housekeeping looks at every document: at most once a second, not on every tick.
        if self.now.0 >= self.last_housekeeping.0 + 1_000 {
            self.last_housekeeping = self.now;
            self.evict();
            let horizon = self.now.0.saturating_sub(10 * 60_000);
            self.ephemeral_seen.forget_before(Millis(horizon));
        }
    }

    /// Applies everything queued for one document in one batch, then persists or answers.
    ///
    /// The steps: a stale document is reloaded first; each message passes the access step;
    /// a document nobody has is not kept; the changes are applied (and checked writer by writer
    /// when the policy inspects them), a batch with refused changes is discarded whole; the
    /// sync messages are received; the host gives its verdict on the document; what is new is
    /// persisted, or the peers owed a message get it.
    fn process(&mut self, document: DocumentId) {
        if !self.ready_for_batch(document) {
            return;
        }
        if self.config.relay {
            if self.try_relay(document) {
                return;
            }
            self.materialise(document, Need::Batch);
        }
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        let inbox = std::mem::take(&mut doc.inbox);
        let mut responders: BTreeSet<ConnId> = std::mem::take(&mut doc.needs_generate);
        let Admitted { messages, chunks } = self.admit(document, inbox);
        if self.release_if_absent(document, &messages, &chunks) {
            return;
        }
        let stripped: BTreeSet<ConnId> = chunks.iter().map(|(c, _)| *c).collect();
        if !chunks.is_empty() {
            // Changes that are not relay changes may make or replace Text objects.
            if let Some(doc) = self.docs.get_mut(&document) {
                doc.relay.texts = None;
            }
        }
        let Some(mut applied) = self.apply_changes(document, chunks) else {
            return;
        };
        if !applied.offenders.is_empty() {
            self.discard_batch(document, applied.offenders);
            return;
        }
        self.receive_sync(
            document,
            messages,
            &stripped,
            &mut applied.refused,
            &mut responders,
        );
        match self.verdict(document, &applied.heads_before, &applied.writers) {
            Some(Ok(outcome)) => self.settle(document, applied, outcome, responders),
            Some(Err(reason)) => self.refuse_batch(document, reason, applied.refused),
            None => {}
        }
    }

    /// Settles a stale document (another writer changed it in the store) and says whether the
    /// document can take a batch now: resident, with no write of ours in flight.
    fn ready_for_batch(&mut self, document: DocumentId) -> bool {
        let Some(doc) = self.docs.get_mut(&document) else {
            return false;
        };
        if doc.stale && !doc.compacting {
            match doc.state {
                DocState::Resident(_) => {
                    // Everything in the store is durable: load it again (ours and the other
                    // writer's changes), then tell every follower. What arrived meanwhile
                    // waits in the inbox and is applied to the fresh state.
                    doc.stale = false;
                    doc.unload();
                    self.reload(document);
                    return false;
                }
                // The next load reads everything, and brings the followers up to date; with
                // followers (a load or write of it failed meanwhile), that load is now.
                DocState::Unloaded => {
                    doc.stale = false;
                    doc.followers_behind = true;
                    if !doc.subscribers.is_empty() {
                        self.reload(document);
                        return false;
                    }
                }
                // The load under way may have read the store before the other writer: stay
                // stale, and the loaded document (marked dirty) is loaded again. A write of
                // ours in flight is waited for.
                DocState::Loading | DocState::Flushing(_) => {}
            }
        }
        matches!(doc.state, DocState::Resident(_))
    }

    /// The access step: each queued message is checked against what its peer may do. A peer
    /// that may not see the document hears what it would for one that does not exist; changes
    /// from a reader are refused; the rest is let through, its changes taken out.
    fn admit(&mut self, document: DocumentId, inbox: Vec<Inbound>) -> Admitted {
        let mut admitted = Admitted {
            messages: Vec::with_capacity(inbox.len()),
            chunks: Vec::new(),
        };
        for Inbound { conn, mut message } in inbox {
            let Some(peer) = self.peers.get(&conn) else {
                continue;
            };
            let exists = self.docs.get(&document).is_some_and(|d| d.exists);
            let access = self.policy.access(&peer.principal, &document, exists);
            let has_changes = !message.changes.is_empty();
            let claims_content = has_changes || !message.heads.is_empty();
            let may_create = access == Access::ReadWrite;
            let may_engage = exists || (claims_content && may_create);
            if access == Access::None || !may_engage {
                self.answer_as_unknown(conn, document, message, access != Access::None);
                continue;
            }
            if has_changes {
                if access != Access::ReadWrite {
                    self.reject(
                        conn,
                        Some(document),
                        Rejection::ReadOnly,
                        close_code::POLICY_VIOLATION,
                    );
                    continue;
                }
                let bytes: Vec<u8> = message.changes.iter().flatten().copied().collect();
                admitted.chunks.push((conn, bytes));
                message.changes = sync::ChunkList::empty();
            }
            self.subscribe(conn, document);
            admitted.messages.push((conn, message));
        }
        admitted
    }

    /// A document nobody has, that nothing in this batch may create: everyone who asked was told
    /// it is unavailable, and no empty document is kept in memory (a flood of requests for
    /// made-up ids must not fill it). Returns whether the batch ends here.
    fn release_if_absent(
        &mut self,
        document: DocumentId,
        messages: &[(ConnId, sync::Message)],
        chunks: &[(ConnId, Vec<u8>)],
    ) -> bool {
        let Some(doc) = self.docs.get_mut(&document) else {
            return true;
        };
        if doc.exists || doc.wanted || !messages.is_empty() || !chunks.is_empty() {
            return false;
        }
        if doc.subscribers.is_empty() && !doc.has_work() {
            doc.unload();
            if doc.waiting.is_empty() {
                self.docs.remove(&document);
            }
        }
        true
    }

    /// Applies the batch's changes to the resident document: writer by writer when the policy
    /// inspects them, else all at once. `None` if the document is not resident.
    fn apply_changes(
        &mut self,
        document: DocumentId,
        chunks: Vec<(ConnId, Vec<u8>)>,
    ) -> Option<Applied> {
        let inspects = self.policy.inspects_changes();
        let doc = self.docs.get_mut(&document)?;
        let DocState::Resident(am) = &doc.state else {
            return None;
        };
        let mut applied = Applied {
            heads_before: am.get_heads(),
            offenders: Vec::new(),
            refused: Vec::new(),
            new_changes: Vec::new(),
            received: Vec::new(),
            writers: Vec::new(),
        };
        if chunks.is_empty() {
            return Some(applied);
        }
        if inspects {
            apply_per_writer(
                &self.policy,
                &self.peers,
                document,
                doc,
                chunks,
                &mut applied,
            );
        } else {
            apply_at_once(doc, &chunks, &mut applied);
        }
        Some(applied)
    }

    /// Discards a batch with refused changes: nothing of it was stored or advertised, so it is
    /// dropped from memory and refused; whoever else sent part of it reconnects and sends it
    /// again.
    fn discard_batch(&mut self, document: DocumentId, offenders: Vec<(ConnId, BatchRefusal)>) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.unload();
        let others: Vec<ConnId> = std::mem::take(&mut doc.contributors)
            .into_iter()
            .filter(|c| !offenders.iter().any(|(o, _)| o == c))
            .collect();
        if !doc.inbox.is_empty() {
            self.ensure_loaded(document);
        }
        for (conn, reason) in offenders {
            self.reject(
                conn,
                Some(document),
                Rejection::ChangesRefused(reason),
                close_code::POLICY_VIOLATION,
            );
        }
        for conn in others {
            self.send(
                conn,
                Message::Error {
                    message: coded_text(
                        BATCH_DISCARDED,
                        "your changes arrived with refused ones and were not stored; \
                         they will be sent again after reconnecting",
                    ),
                },
            );
            self.out.push(Effect::Close {
                conn,
                code: close_code::INTERNAL_ERROR,
                reason: "batch discarded".into(),
            });
            self.disconnected(conn);
        }
    }

    /// Receives the peers' sync messages (their changes were applied before). A peer whose
    /// message does not apply is added to `refused`; a peer whose message was received is owed
    /// an answer (`responders`).
    fn receive_sync(
        &mut self,
        document: DocumentId,
        messages: Vec<(ConnId, sync::Message)>,
        stripped: &BTreeSet<ConnId>,
        refused: &mut Vec<(ConnId, String)>,
        responders: &mut BTreeSet<ConnId>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        let DocState::Resident(am) = &mut doc.state else {
            return;
        };
        // One peer's later message supersedes its earlier ones for the sync state (the changes
        // were taken out above), and automerge's receive walks the whole history of the
        // message's heads: so only each peer's last message of the tick is received (and any
        // that asks for a sync reset).
        let mut last_of: HashMap<ConnId, usize> = HashMap::new();
        for (i, (conn, _)) in messages.iter().enumerate() {
            last_of.insert(*conn, i);
        }
        for (i, (conn, message)) in messages.into_iter().enumerate() {
            let resets = message
                .flags
                .is_some_and(|f| f.contains(sync::MessageFlags::SYNC_RESET));
            if last_of.get(&conn) != Some(&i) && !resets {
                continue;
            }
            if refused.iter().any(|(c, _)| *c == conn) {
                continue;
            }
            let Some(state) = self
                .peers
                .get_mut(&conn)
                .and_then(|p| p.docs.get_mut(&document))
            else {
                continue;
            };
            // The changes were applied above; automerge would take a message without changes
            // whose heads equal ours as proof that the peer already heard our heads, and would
            // then never acknowledge them. Keep what we really sent.
            let last_sent = state.last_sent_heads.clone();
            if let Err(e) = am.receive_sync_message(state, message) {
                refused.push((conn, e.to_string()));
                continue;
            }
            if stripped.contains(&conn) {
                state.last_sent_heads = last_sent;
            }
            responders.insert(conn);
        }
    }

    /// The document verdict: the host's last word on what peers' changes made of the document
    /// (schema, rules), asked when the batch changed it. `None` if the document is not resident.
    fn verdict(
        &self,
        document: DocumentId,
        heads_before: &[ChangeHash],
        writers: &[ConnId],
    ) -> Option<Result<Outcome, BatchRefusal>> {
        let doc = self.docs.get(&document)?;
        let DocState::Resident(am) = &doc.state else {
            return None;
        };
        let heads = am.get_heads();
        let created = heads_before.is_empty() && !heads.is_empty() && !doc.exists;
        let creator = doc.contributors.iter().next().copied();
        if heads != heads_before && !doc.contributors.is_empty() {
            let created_by = created
                .then(|| creator.and_then(|c| self.peers.get(&c)))
                .flatten()
                .map(|p| &p.principal);
            let writers: Vec<&Principal> = writers
                .iter()
                .filter_map(|c| self.peers.get(c))
                .map(|p| &p.principal)
                .collect();
            let verdict = self
                .policy
                .check_document_by(&document, am, created_by, &writers);
            if let Err(refusal) = verdict {
                return Some(Err(BatchRefusal::Document(refusal)));
            }
        }
        Some(Ok(Outcome {
            heads,
            created_by: created.then_some(creator).flatten(),
        }))
    }

    /// Refuses a batch whose document the host refused: nothing of it was stored or
    /// advertised, so it is dropped from memory (the next message reloads the durable state)
    /// and refused to everyone who sent part of it.
    fn refuse_batch(
        &mut self,
        document: DocumentId,
        reason: BatchRefusal,
        refused: Vec<(ConnId, String)>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.unload();
        let contributors: Vec<ConnId> = std::mem::take(&mut doc.contributors).into_iter().collect();
        if !doc.inbox.is_empty() {
            self.ensure_loaded(document);
        }
        for conn in contributors {
            self.reject(
                conn,
                Some(document),
                Rejection::ChangesRefused(reason.clone()),
                close_code::POLICY_VIOLATION,
            );
        }
        self.reject_bad_sync_data(document, refused);
    }

    /// What to persist: the batch's new changes are written (answers wait for the write to
    /// complete), or, with nothing new to write, every peer owed a message gets it now.
    fn settle(
        &mut self,
        document: DocumentId,
        applied: Applied,
        outcome: Outcome,
        responders: BTreeSet<ConnId>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if !outcome.heads.is_empty() {
            doc.exists = true;
        }
        let unsaved = outcome.heads != doc.durable_heads;
        // What is stored is either the bytes as received or, when they may not be exactly the
        // new changes, what automerge rebuilds from its op set.
        let as_received = (unsaved
            && applied.refused.is_empty()
            && applied.heads_before == doc.durable_heads
            && !doc.stored.is_empty())
        .then(|| {
            doc.resident()
                .and_then(|am| stored_as_received(am, &applied.received, &applied.new_changes))
        })
        .flatten();
        self.relay_stats.full_path += applied.new_changes.len() as u64;
        self.reject_bad_sync_data(document, applied.refused);
        if let Some(conn) = outcome.created_by {
            self.event(Event::DocumentCreated { conn, document });
        }
        if unsaved {
            self.persist(document, as_received);
        } else {
            for conn in responders {
                self.generate(conn, document);
            }
        }
    }

    /// Refuses the peers whose sync data did not apply.
    fn reject_bad_sync_data(&mut self, document: DocumentId, refused: Vec<(ConnId, String)>) {
        for (conn, reason) in refused {
            self.reject(
                conn,
                Some(document),
                Rejection::BadSyncData(reason),
                close_code::INVALID_DATA,
            );
        }
    }
}

/// Applies each writer's changes on its own, so that what is new to the document can be
/// checked against who sent it (only changes new to us: a peer relays others' changes too).
fn apply_per_writer<P: Policy>(
    policy: &P,
    peers: &HashMap<ConnId, Peer>,
    document: DocumentId,
    doc: &mut Doc,
    chunks: Vec<(ConnId, Vec<u8>)>,
    applied: &mut Applied,
) {
    let DocState::Resident(am) = &mut doc.state else {
        return;
    };
    let mut per_peer: Vec<(ConnId, Vec<u8>)> = Vec::new();
    for (conn, bytes) in chunks {
        match per_peer.iter_mut().find(|(c, _)| *c == conn) {
            Some((_, all)) => all.extend_from_slice(&bytes),
            None => per_peer.push((conn, bytes)),
        }
    }
    for (conn, bytes) in per_peer {
        let before = am.get_heads();
        if let Err(e) = am.load_incremental(&bytes) {
            applied
                .offenders
                .push((conn, BatchRefusal::Undecodable(e.to_string())));
            continue;
        }
        if let Some(reason) = too_many_missing(am) {
            applied.offenders.push((conn, reason));
            continue;
        }
        let fresh: Vec<ChangeSummary> = am
            .get_changes_meta(&before)
            .into_iter()
            .map(|m| ChangeSummary {
                hash: m.hash,
                actor: m.actor.into_owned(),
                message: m.message.map(|m| m.into_owned()),
            })
            .collect();
        doc.contributors.insert(conn);
        if fresh.is_empty() {
            continue;
        }
        applied.new_changes.extend(fresh.iter().map(|c| c.hash));
        applied.writers.push(conn);
        applied.received.push(bytes);
        let Some(peer) = peers.get(&conn) else {
            continue;
        };
        if let Err(refusal) = policy.check_changes(&peer.principal, &document, &fresh) {
            applied
                .offenders
                .push((conn, BatchRefusal::Changes(refusal)));
        }
    }
}

/// Applies every writer's changes in one call; only if that fails is each writer's applied on
/// its own, to find the culprit.
fn apply_at_once(doc: &mut Doc, chunks: &[(ConnId, Vec<u8>)], applied: &mut Applied) {
    let DocState::Resident(am) = &mut doc.state else {
        return;
    };
    let all: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let loaded = am.load_incremental(&all);
    if let Some(reason) = too_many_missing(am) {
        // Whose changes they were is not known here: refuse the whole batch.
        applied
            .offenders
            .extend(chunks.iter().map(|(c, _)| (*c, reason.clone())));
    } else if loaded.is_err() {
        for (conn, bytes) in chunks {
            if let Err(e) = am.load_incremental(bytes) {
                applied.refused.push((*conn, e.to_string()));
            }
        }
    }
    for (conn, _) in chunks {
        if !applied.refused.iter().any(|(c, _)| c == conn) {
            doc.contributors.insert(*conn);
            applied.writers.push(*conn);
        }
    }
}
