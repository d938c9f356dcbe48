//! The engine's state for one connection.

use std::collections::{HashMap, HashSet};

use automerge::sync;

use super::{Direction, Millis, Principal};
use crate::ids::{DocumentId, PeerId};

/// Where a connection is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Inbound: waiting for the client's `join`.
    AwaitingJoin,
    /// Outbound: we sent `join`, waiting for `peer`.
    AwaitingPeer,
    /// Handshake done.
    Ready,
}

/// One connection and the sync state of each document it follows.
#[derive(Debug)]
pub(super) struct Peer {
    pub(super) direction: Direction,
    pub(super) principal: Principal,
    pub(super) phase: Phase,
    pub(super) remote_id: Option<PeerId>,
    pub(super) docs: HashMap<DocumentId, sync::State>,
    /// Documents this peer asked for before they existed.
    pub(super) waiting_for: HashSet<DocumentId>,
    /// Its allowance of ephemeral messages, in thousandths of a message, and when it was last
    /// topped up (a token bucket).
    ephemeral_allowance: u64,
    ephemeral_topped_up: Option<Millis>,
}

impl Peer {
    pub(super) fn new(direction: Direction, principal: Principal, phase: Phase) -> Self {
        Self {
            direction,
            principal,
            phase,
            remote_id: None,
            docs: HashMap::new(),
            waiting_for: HashSet::new(),
            ephemeral_allowance: 0,
            ephemeral_topped_up: None,
        }
    }

    /// Whether the peer may send one more ephemeral message now, at `per_second` sustained
    /// with `burst` at once (and takes it from its allowance).
    pub(super) fn take_ephemeral(&mut self, now: Millis, per_second: u32, burst: u32) -> bool {
        let full = u64::from(burst.max(1)) * 1000;
        let allowance = match self.ephemeral_topped_up {
            None => full,
            Some(then) => {
                let earned = now.0.saturating_sub(then.0) * u64::from(per_second);
                self.ephemeral_allowance.saturating_add(earned).min(full)
            }
        };
        self.ephemeral_topped_up = Some(now);
        self.ephemeral_allowance = allowance.saturating_sub(1000);
        allowance >= 1000
    }
}
