//! The engine's state for one connection.

use std::collections::{HashMap, HashSet};

use automerge::sync;

use super::{Direction, Principal};
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
        }
    }
}
