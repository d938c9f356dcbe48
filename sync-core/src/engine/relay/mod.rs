//! Relay without re-materialising (issue #23): typing into a free-text field is stored and
//! forwarded from the change's bytes, while the document in memory lags behind.
//!
//! A *relay change* ([`classify`]) only inserts text into or deletes text from Text objects the
//! document's index knows as free-text fields (the host names them:
//! [`Policy::relay_texts`](super::Policy::relay_texts)), and its dependencies are present. Such
//! a change is checked on its header (actor and trailers, [`Policy::check_changes`](super::Policy::check_changes)),
//! stored durably as today, and kept *pending* ([`Lag`]); peers in step get it in a sync
//! message composed from our heads and the raw bytes ([`emulate`]: exactly what automerge
//! would generate). The pending changes are applied in one batch when something needs the op
//! set: a change that is not a relay change, a peer not in step, compaction, the host's read.
//!
//! Off unless [`EngineConfig::relay`](super::EngineConfig::relay) is set.

pub(crate) mod classify;
pub(crate) mod emulate;
mod step;

use std::collections::HashSet;

use automerge::ChangeHash;

pub(crate) use classify::{RelayChange, TextId};

/// Counts of the relay path, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Changes stored and forwarded without being applied to the op set.
    pub relayed: u64,
    /// Times pending changes were applied to the op set (one call each).
    pub batches_applied: u64,
    /// Pending changes applied in those batches.
    pub changes_applied: u64,
    /// Sync messages composed without the op set.
    pub composed: u64,
    /// Changes new to a document applied to its op set as they arrived: the full path
    /// (counted when the policy inspects changes, as a server's does; relay on or off).
    pub full_path: u64,
}

/// A document's relay state: the index of its free-text fields and the changes the document
/// in memory lags behind.
#[derive(Debug, Default)]
pub(super) struct Lag {
    /// The Text objects whose edits may be relayed; `None` until built from the op set.
    pub(super) texts: Option<HashSet<TextId>>,
    /// Relay changes not yet applied, in the order they arrived (dependencies first).
    pub(super) pending: Vec<RelayChange>,
    /// `steps[k]`: the heads once `pending[..k]` is applied; `steps[0]` the op set's heads.
    /// Empty when nothing is pending.
    pub(super) steps: Vec<Vec<ChangeHash>>,
}

impl Lag {
    /// Whether the op set lags behind.
    pub(super) fn is_lagging(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The document's heads, pending changes included; `None` when nothing is pending.
    pub(super) fn heads(&self) -> Option<&[ChangeHash]> {
        self.steps
            .last()
            .filter(|_| self.is_lagging())
            .map(Vec::as_slice)
    }

    /// Which step `heads` are (see [`Lag::steps`]).
    pub(super) fn step_of(&self, heads: &[ChangeHash]) -> Option<usize> {
        self.steps.iter().position(|s| s.as_slice() == heads)
    }

    /// Whether a change is pending.
    pub(super) fn has_pending(&self, hash: &ChangeHash) -> bool {
        self.pending.iter().any(|c| c.hash == *hash)
    }

    /// Adds a relay change on top of `base` (the op set's heads) and what is pending.
    pub(super) fn push(&mut self, base: &[ChangeHash], change: RelayChange) {
        if self.steps.is_empty() {
            self.steps.push(base.to_vec());
        }
        let mut heads: Vec<ChangeHash> = self
            .steps
            .last()
            .map(|h| {
                h.iter()
                    .filter(|h| !change.deps.contains(h))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        heads.push(change.hash);
        heads.sort();
        self.steps.push(heads);
        self.pending.push(change);
    }

    /// Takes what is pending (to apply it); the index stays.
    pub(super) fn take(&mut self) -> Vec<RelayChange> {
        self.steps.clear();
        std::mem::take(&mut self.pending)
    }

    /// Forgets everything (the op set was dropped or replaced).
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// A lower bound of the number of changes in the document: the highest sequence number of
    /// each actor with a pending change (an actor's changes are numbered from 1 without gaps).
    pub(super) fn graph_len_floor(&self) -> usize {
        let mut best: Vec<(&automerge::ActorId, u64)> = Vec::new();
        for c in &self.pending {
            match best.iter_mut().find(|(a, _)| *a == &c.actor) {
                Some((_, s)) => *s = (*s).max(c.seq),
                None => best.push((&c.actor, c.seq)),
            }
        }
        best.iter()
            .map(|(_, s)| usize::try_from(*s).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add)
    }
}
