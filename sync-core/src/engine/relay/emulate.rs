//! automerge 0.12's sync protocol (`receive_sync_message` without changes, and
//! `generate_sync_message`) for a document whose op set lags behind pending relay changes,
//! computed from the lag alone. Only the cases where every heads involved is one of the lag's
//! steps are covered; anything else answers `None` and the caller applies the pending changes
//! and asks automerge.
//!
//! The steps make this exact: `steps[k]` are the heads of a set closed under dependencies (the
//! set `steps[0]` names plus `changes[..k]`, applied or pending), so the changes after
//! `steps[k]` are exactly `changes[k..]`.

use automerge::sync::{
    BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion, State,
};
use automerge::ChangeHash;

use super::Lag;

/// Whether a message can be received without the op set: no sync reset, no read-only flag,
/// and its heads one of the steps.
pub(crate) fn can_receive(lag: &Lag, message: &Message) -> bool {
    let plain_flags = message.flags.is_none_or(|f| {
        !f.contains(MessageFlags::SYNC_RESET) && !f.contains(MessageFlags::READ_ONLY)
    });
    plain_flags && !message.heads.is_empty() && lag.step_of(&message.heads).is_some()
}

/// Receives a message whose changes were taken out (and applied or made pending before), as
/// automerge's `receive_sync_message` does; `known_to_op_set` says whether the op set holds
/// a change. Call only when [`can_receive`].
pub(crate) fn receive(
    lag: &Lag,
    state: &mut State,
    message: Message,
    known_to_op_set: impl Fn(&ChangeHash) -> bool,
) {
    state.in_flight = false;
    let Message {
        heads,
        need,
        have,
        flags,
        ..
    } = message;
    if let Some(flags) = flags {
        let mut caps = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            caps.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(caps);
        state.peer_read_only = false;
    }
    // Sent changes the peer now has are forgotten: the ancestors of its heads, which are what
    // `steps[0]` names and the changes before its step.
    let k = lag.step_of(&heads).unwrap_or(0);
    state.sent_hashes.retain(|h| match lag.position(h) {
        Some(i) => i >= k,
        None => !known_to_op_set(h),
    });
    if lag.heads() == Some(heads.as_slice()) {
        state.last_sent_heads.clone_from(&heads);
    }
    state.shared_heads.clone_from(&heads);
    state.their_have = Some(have);
    state.their_heads = Some(heads);
    state.their_need = Some(need);
}

/// What `generate_sync_message` would answer, if it can be told from the lag: `Some(None)`
/// when it would send nothing, `Some(Some(message))` with its effect on `state` applied, and
/// `None` when the op set is needed (`state` untouched).
pub(crate) fn generate(
    lag: &Lag,
    state: &mut State,
    known: impl Fn(&ChangeHash) -> bool,
) -> Option<Option<Message>> {
    let ours = lag.heads()?.to_vec();
    if state.read_only || state.needs_reset || state.peer_read_only {
        return None;
    }
    // Their heads known (nothing to ask for), our bloom filter over the changes after the
    // shared heads.
    let their_heads = state.their_heads.as_ref()?;
    let theirs = lag.step_of(their_heads)?;
    let shared = lag.step_of(&state.shared_heads)?;
    let our_have = Have {
        last_sync: state.shared_heads.clone(),
        bloom: BloomFilter::from_hashes(lag.changes()[shared..].iter().map(|c| &c.hash)),
    };
    let to_send: Vec<usize> = match (&state.their_have, &state.their_need) {
        (Some(have), Some(need)) => {
            if !need.is_empty() {
                return None;
            }
            match have.as_slice() {
                [] => Vec::new(),
                // A last sync we do not know makes automerge answer with a reset. Otherwise
                // the peer's bloom filter holds every change after its last sync that its heads
                // have (a bloom filter has no false negatives: heads and filter were made from
                // the same document): what is left to send is among the changes after its
                // heads' step.
                [one] => {
                    if !one.last_sync.iter().all(&known) {
                        return None;
                    }
                    changes_to_send(lag, theirs, &one.bloom)
                }
                _ => return None,
            }
        }
        _ => Vec::new(),
    };
    let to_send: Vec<usize> = to_send
        .into_iter()
        .filter(|i| !state.sent_hashes.contains(&lag.changes()[*i].hash))
        .collect();
    let v2 = state
        .their_capabilities
        .as_ref()
        .is_some_and(|c| c.contains(&Capability::MessageV2));
    // automerge sends the whole document instead past a third of it.
    if v2 && to_send.len() * 3 > lag.graph_len_floor() {
        return None;
    }
    let heads_unchanged = state.last_sent_heads == ours;
    let heads_equal = state.their_heads.as_ref() == Some(&ours);
    if heads_unchanged && state.have_responded {
        if heads_equal && to_send.is_empty() {
            return Some(None);
        }
        if state.in_flight {
            return Some(None);
        }
    }
    state.have_responded = true;
    state.last_sent_heads.clone_from(&ours);
    state
        .sent_hashes
        .extend(to_send.iter().map(|i| lag.changes()[*i].hash));
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    let (changes, version) = if v2 {
        let joined: Vec<u8> = to_send
            .iter()
            .flat_map(|i| lag.changes()[*i].bytes.iter().copied())
            .collect();
        let list = if joined.is_empty() {
            ChunkList::empty()
        } else {
            ChunkList::from(joined)
        };
        (list, MessageVersion::V2)
    } else {
        let each: Vec<Vec<u8>> = to_send
            .iter()
            .map(|i| lag.changes()[*i].bytes.clone())
            .collect();
        (ChunkList::from(each), MessageVersion::V1)
    };
    state.in_flight = true;
    Some(Some(Message {
        heads: ours,
        need: Vec::new(),
        have: vec![our_have],
        changes,
        flags: Some(flags),
        version,
    }))
}

/// The changes after step `since` the peer's bloom filter does not hold, with every change that
/// depends on one of them (automerge's `get_hashes_to_send`), in order.
fn changes_to_send(lag: &Lag, since: usize, bloom: &BloomFilter) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    for (i, change) in lag.changes().iter().enumerate().skip(since) {
        // A dependency chosen before is a change kept at a position in `chosen`.
        let depends = change.deps.iter().any(|d| {
            lag.position(d)
                .is_some_and(|p| p >= since && chosen.binary_search(&p).is_ok())
        });
        if depends || !bloom.contains_hash(&change.hash) {
            chosen.push(i);
        }
    }
    chosen
}
