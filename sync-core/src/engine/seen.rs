//! The ephemeral de-duplication table: the last count seen per sender and session, so that a
//! message that comes round again (JS clients re-broadcast what they receive) is not relayed
//! twice. Peers choose their session ids, so the table is bounded in entries and in bytes and
//! forgets the least recently heard session first: nothing a peer sends grows it past its
//! bounds.

use std::collections::{BTreeMap, HashMap};

use super::Millis;
use crate::ids::PeerId;

/// What one entry is counted as beyond its ids' bytes: the map's and the order's bookkeeping.
const ENTRY_OVERHEAD: usize = 128;

type Key = (PeerId, String);

/// The last count seen of one session, when, and its place in the order.
#[derive(Debug)]
struct Seen {
    count: u64,
    at: Millis,
    order: u64,
}

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub(super) struct SeenSessions {
    entries: HashMap<Key, Seen>,
    /// The keys by when they were last heard (oldest first).
    order: BTreeMap<u64, Key>,
    next: u64,
    bytes: usize,
}

/// What an entry counts against the byte bound (its ids are held twice: map and order).
fn cost(key: &Key) -> usize {
    2 * (key.0.as_str().len() + key.1.len()) + ENTRY_OVERHEAD
}

impl SeenSessions {
    /// Whether `count` is new for `key` (and records it); then evicts the least recently heard
    /// sessions while the table holds more than `max_entries` or `max_bytes`.
    pub(super) fn fresh(
        &mut self,
        key: Key,
        count: u64,
        now: Millis,
        max_entries: usize,
        max_bytes: usize,
    ) -> bool {
        let order = self.next;
        self.next += 1;
        match self.entries.get_mut(&key) {
            Some(seen) if seen.count >= count => return false,
            Some(seen) => {
                self.order.remove(&seen.order);
                *seen = Seen {
                    count,
                    at: now,
                    order,
                };
                self.order.insert(order, key);
            }
            None => {
                self.bytes += cost(&key);
                self.order.insert(order, key.clone());
                self.entries.insert(
                    key,
                    Seen {
                        count,
                        at: now,
                        order,
                    },
                );
            }
        }
        while self.entries.len() > max_entries || self.bytes > max_bytes {
            if !self.evict_oldest() {
                break;
            }
        }
        true
    }

    /// Forgets the sessions not heard from since `horizon`.
    pub(super) fn forget_before(&mut self, horizon: Millis) {
        while let Some((_, key)) = self.order.first_key_value() {
            if self.entries.get(key).is_some_and(|s| s.at >= horizon) {
                break;
            }
            if !self.evict_oldest() {
                break;
            }
        }
    }

    fn evict_oldest(&mut self) -> bool {
        let Some((_, key)) = self.order.pop_first() else {
            return false;
        };
        self.bytes = self.bytes.saturating_sub(cost(&key));
        self.entries.remove(&key);
        true
    }

    /// How many sessions the table holds, and the bytes they count for.
    pub(super) fn size(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(peer: &str, session: &str) -> Key {
        (PeerId::new(peer).expect("peer id"), session.to_owned())
    }

    #[test]
    fn a_count_seen_before_is_not_fresh() {
        let mut seen = SeenSessions::default();
        assert!(seen.fresh(key("a", "s"), 1, Millis(0), 10, 1 << 20));
        assert!(!seen.fresh(key("a", "s"), 1, Millis(1), 10, 1 << 20));
        assert!(seen.fresh(key("a", "s"), 2, Millis(2), 10, 1 << 20));
        assert!(seen.fresh(key("a", "t"), 1, Millis(3), 10, 1 << 20));
        assert_eq!(seen.size().0, 2);
    }

    #[test]
    fn the_least_recently_heard_session_is_forgotten_first() {
        let mut seen = SeenSessions::default();
        seen.fresh(key("a", "old"), 1, Millis(0), 2, 1 << 20);
        seen.fresh(key("a", "kept"), 1, Millis(1), 2, 1 << 20);
        seen.fresh(key("a", "old"), 2, Millis(2), 2, 1 << 20);
        seen.fresh(key("a", "new"), 1, Millis(3), 2, 1 << 20);
        // "kept" was heard least recently: it went, "old" (heard again) stayed.
        assert!(!seen.fresh(key("a", "old"), 2, Millis(4), 2, 1 << 20));
        assert!(seen.fresh(key("a", "kept"), 1, Millis(5), 2, 1 << 20));
        seen.forget_before(Millis(5));
        assert_eq!(seen.size().0, 1);
    }
}
