//! The engine's state for one document.

use std::collections::BTreeSet;

use automerge::sync;
use automerge::{Automerge, ChangeHash};

use super::relay::Lag;
use super::{ConnId, EngineConfig, Millis};
use crate::storage::{ChunkKey, ChunkKind, StoredDocument};

/// Where a document is in its life: its content, and whether a load or a write of it is in
/// flight. One value, owned by the document, so nothing of it outlives the document.
#[derive(Debug)]
pub(super) enum DocState {
    /// Not in memory (never loaded, evicted, or dropped after a refused batch or a failed write).
    Unloaded,
    /// A load task is in flight.
    Loading,
    /// In memory, with nothing of ours in flight to the store.
    Resident(Box<Automerge>),
    /// In memory, with the write of its new changes in flight: no sync message is generated for
    /// it, and what arrives waits in its inbox, until the write completes.
    Flushing(Box<Automerge>),
}

/// A sync message waiting for the next tick.
#[derive(Debug)]
pub(super) struct Inbound {
    pub(super) conn: ConnId,
    pub(super) message: sync::Message,
}

/// One document: its content, who follows it, what is queued and what is durable.
#[derive(Debug)]
pub(super) struct Doc {
    pub(super) state: DocState,
    /// Whether the document has content anywhere (store or memory).
    pub(super) exists: bool,
    /// The host asked for it (client side: keep it offered to servers).
    pub(super) wanted: bool,
    /// Heads whose changes are durable in the store.
    pub(super) durable_heads: Vec<ChangeHash>,
    /// Stored chunks (key, size) as far as this engine knows.
    pub(super) stored: Vec<(ChunkKey, usize)>,
    pub(super) subscribers: BTreeSet<ConnId>,
    pub(super) inbox: Vec<Inbound>,
    /// Peers owed a sync message at the next tick.
    pub(super) needs_generate: BTreeSet<ConnId>,
    /// Peers whose changes the in-flight write carries.
    pub(super) contributors: BTreeSet<ConnId>,
    /// Peers that said they do not have it (client side).
    pub(super) unavailable_from: BTreeSet<ConnId>,
    /// Peers told it does not exist, who get it as soon as it does (if they may read it).
    pub(super) waiting: BTreeSet<ConnId>,
    /// Another writer (another server node sharing the store) changed it: it is loaded again
    /// once nothing of ours is in flight to the store.
    pub(super) stale: bool,
    /// The copy followers were last synced from was dropped as stale: once the document is
    /// loaded again (the reload may fail and a later load succeed), every follower is owed a
    /// sync message.
    pub(super) followers_behind: bool,
    /// A compaction is in flight. It overlaps every state (a batch may be applied and written,
    /// or the document dropped and loaded again, while its snapshot is written), so it is not
    /// part of [`DocState`].
    pub(super) compacting: bool,
    pub(super) last_used: Millis,
    /// Relay changes the op set lags behind, and the index of relay Text objects (issue #23).
    pub(super) relay: Lag,
}

impl Doc {
    pub(super) fn unloaded() -> Self {
        Self {
            state: DocState::Unloaded,
            exists: false,
            wanted: false,
            durable_heads: Vec::new(),
            stored: Vec::new(),
            subscribers: BTreeSet::new(),
            inbox: Vec::new(),
            needs_generate: BTreeSet::new(),
            contributors: BTreeSet::new(),
            unavailable_from: BTreeSet::new(),
            waiting: BTreeSet::new(),
            stale: false,
            followers_behind: false,
            compacting: false,
            last_used: Millis(0),
            relay: Lag::default(),
        }
    }

    /// The content, if it is in memory (a write of it may be in flight).
    pub(super) fn resident(&self) -> Option<&Automerge> {
        match &self.state {
            DocState::Resident(am) | DocState::Flushing(am) => Some(am),
            _ => None,
        }
    }

    /// The content to change, if it is in memory (a write of it may be in flight).
    pub(super) fn resident_mut(&mut self) -> Option<&mut Automerge> {
        match &mut self.state {
            DocState::Resident(am) | DocState::Flushing(am) => Some(am),
            _ => None,
        }
    }

    /// Whether a load task is in flight.
    pub(super) fn is_loading(&self) -> bool {
        matches!(self.state, DocState::Loading)
    }

    /// Whether the write of its new changes is in flight.
    pub(super) fn is_flushing(&self) -> bool {
        matches!(self.state, DocState::Flushing(_))
    }

    /// Drops the content from memory (what is pending of it is durable, or never acknowledged).
    pub(super) fn unload(&mut self) {
        self.state = DocState::Unloaded;
        self.relay.clear();
    }

    /// Puts content in memory; a write in flight stays in flight.
    pub(super) fn set_content(&mut self, am: Box<Automerge>) {
        self.relay.clear();
        self.state = match self.state {
            DocState::Flushing(_) => DocState::Flushing(am),
            _ => DocState::Resident(am),
        };
    }

    /// The write of its new changes was handed to the store.
    pub(super) fn start_flushing(&mut self) {
        self.state = match std::mem::replace(&mut self.state, DocState::Unloaded) {
            DocState::Resident(am) => DocState::Flushing(am),
            other => other,
        };
    }

    /// The write in flight completed.
    pub(super) fn flushed(&mut self) {
        self.state = match std::mem::replace(&mut self.state, DocState::Unloaded) {
            DocState::Flushing(am) => DocState::Resident(am),
            other => other,
        };
    }

    /// Queued input or owed output.
    pub(super) fn has_work(&self) -> bool {
        !self.inbox.is_empty() || !self.needs_generate.is_empty()
    }

    /// A rough size of the resident document: its stored bytes, times the in-memory expansion
    /// (measured with heaptrack on automerge 0.12: a document with 2,000 characters of notes
    /// arrives as a compressed 1.1-1.8 KB and takes about 34 KB in memory, its change graph and
    /// indexes included).
    pub(super) fn resident_size(&self) -> usize {
        let stored: usize = self.stored.iter().map(|(_, n)| n).sum();
        stored.saturating_mul(RESIDENT_EXPANSION).max(16 * 1024)
    }

    pub(super) fn set_stored(&mut self, stored: &StoredDocument) {
        self.stored = stored.chunks.iter().map(|(k, b)| (*k, b.len())).collect();
    }

    pub(super) fn appended(&mut self, key: ChunkKey, len: usize) {
        if !self.stored.iter().any(|(k, _)| *k == key) {
            self.stored.push((key, len));
        }
    }

    pub(super) fn compacted(&mut self, key: ChunkKey, replaces: &[ChunkKey], len: usize) {
        self.stored.retain(|(k, _)| !replaces.contains(k));
        self.stored.push((key, len));
    }

    pub(super) fn should_compact(&self, config: &EngineConfig) -> bool {
        let (mut snapshot, mut incremental, mut count) = (0usize, 0usize, 0usize);
        for (key, len) in &self.stored {
            match key.kind {
                ChunkKind::Snapshot => snapshot += len,
                ChunkKind::Incremental => {
                    incremental += len;
                    count += 1;
                }
            }
        }
        count > 1
            && ((incremental > snapshot && incremental > config.compact_min_bytes)
                || count > config.compact_max_chunks)
    }
}

/// Bytes in memory per stored byte of a resident document (see [`Doc::resident_size`]).
const RESIDENT_EXPANSION: usize = 30;
