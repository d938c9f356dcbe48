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
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

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
    /// Of [`RelayStats::batches_applied`], why the op set was needed: a batch of messages
    /// that could not be relayed (a change that is not a relay change, a peer's heads that are
    /// not a step...).
    pub applied_for_batch: u64,
    /// ...a sync message for a peer the lag could not compose.
    pub applied_for_peer: u64,
    /// ...compaction.
    pub applied_for_compaction: u64,
    /// ...the host reading or changing the document.
    pub applied_for_host: u64,
}

/// Why pending relay changes are applied to the op set (counted in [`RelayStats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// A batch that takes the full path.
    Batch,
    /// A sync message the lag cannot compose.
    Peer,
    /// Compaction.
    Compaction,
    /// The host's read or change.
    Host,
}

/// Relay changes already applied to the op set that a document keeps (see [`Lag`]): a peer up
/// to this many changes behind is still answered without the op set. Trimmed to this once
/// twice as many were kept.
const HISTORY: usize = 512;

/// A document's relay state: the index of its free-text fields, and the relay changes in the
/// order they arrived with the heads after each.
///
/// `changes[..applied]` are in the op set already; they are kept (up to [`HISTORY`]) so that a
/// peer whose heads are a few steps behind, as a watcher's acknowledgement often is while
/// typing goes on, can still be answered from the lag after the pending changes were applied:
/// without them every such answer needed the op set, and applying what was pending for it
/// made the next answer need it again. The history is valid while only relay changes were
/// applied on top of `steps[0]`: any other change to the op set shows as heads that are not
/// the last step, and [`Lag::rebase`] starts afresh.
#[derive(Debug, Default)]
pub(super) struct Lag {
    /// The Text objects whose edits may be relayed; `None` until built from the op set.
    pub(super) texts: Option<HashSet<TextId>>,
    /// Relay changes in the order they arrived (dependencies first).
    changes: Vec<RelayChange>,
    /// How many of `changes` the op set holds.
    applied: usize,
    /// `steps[k]`: the heads once `changes[..k]` is applied on top of `steps[0]`. Empty when
    /// `changes` is.
    steps: Vec<Vec<ChangeHash>>,
    /// Each change's position in `changes`.
    index: HashMap<ChangeHash, usize>,
}

impl Lag {
    /// Whether the op set lags behind.
    pub(super) fn is_lagging(&self) -> bool {
        self.applied < self.changes.len()
    }

    /// The document's heads, pending changes included; `None` when nothing is pending.
    pub(super) fn heads(&self) -> Option<&[ChangeHash]> {
        self.steps
            .last()
            .filter(|_| self.is_lagging())
            .map(Vec::as_slice)
    }

    /// Which step `heads` are (see [`Lag::steps`]); peers are mostly near the end.
    pub(super) fn step_of(&self, heads: &[ChangeHash]) -> Option<usize> {
        self.steps.iter().rposition(|s| s.as_slice() == heads)
    }

    /// Where a change is in [`Lag::changes`], if it is there.
    pub(super) fn position(&self, hash: &ChangeHash) -> Option<usize> {
        self.index.get(hash).copied()
    }

    /// Whether a change is pending.
    pub(super) fn has_pending(&self, hash: &ChangeHash) -> bool {
        self.position(hash).is_some_and(|i| i >= self.applied)
    }

    /// Every change kept, applied and pending, in order.
    pub(super) fn changes(&self) -> &[RelayChange] {
        &self.changes
    }

    /// The changes not yet applied.
    pub(super) fn pending(&self) -> &[RelayChange] {
        &self.changes[self.applied..]
    }

    /// How many changes are kept (a mark for [`Lag::truncate`]).
    pub(super) fn len(&self) -> usize {
        self.changes.len()
    }

    /// Starts afresh on `base`, the op set's heads, unless they are the last step with nothing
    /// pending (the op set then changed only by applying the kept changes). Call before
    /// [`Lag::push`] while nothing is pending.
    pub(super) fn rebase(&mut self, base: &[ChangeHash]) {
        if self.is_lagging() || self.steps.last().is_some_and(|s| s.as_slice() == base) {
            return;
        }
        self.changes.clear();
        self.index.clear();
        self.applied = 0;
        self.steps.clear();
        self.steps.push(base.to_vec());
    }

    /// Adds a relay change on top of the last step ([`Lag::rebase`] first).
    pub(super) fn push(&mut self, change: RelayChange) {
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
        self.index.insert(change.hash, self.changes.len());
        self.changes.push(change);
    }

    /// Forgets the changes pushed since `mark` ([`Lag::len`]), which were never applied.
    pub(super) fn truncate(&mut self, mark: usize) {
        let mark = mark.max(self.applied);
        for change in self.changes.drain(mark..) {
            self.index.remove(&change.hash);
        }
        self.steps.truncate(mark + 1);
    }

    /// Records that the op set now holds every change, and trims the history.
    pub(super) fn mark_applied(&mut self) {
        self.applied = self.changes.len();
        if self.applied > 2 * HISTORY {
            let drop = self.applied - HISTORY;
            self.changes.drain(..drop);
            self.steps.drain(..drop);
            self.applied -= drop;
            self.index = self
                .changes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.hash, i))
                .collect();
        }
    }

    /// Forgets everything (the op set was dropped or replaced).
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// A lower bound of the number of changes in the document: the highest sequence number of
    /// each actor with a change kept (an actor's changes are numbered from 1 without gaps).
    pub(super) fn graph_len_floor(&self) -> usize {
        let mut best: Vec<(&automerge::ActorId, u64)> = Vec::new();
        for c in &self.changes {
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
