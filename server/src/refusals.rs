//! Repeated refusals, counted before they reach the audit log: the first refusal of a device
//! for a reason in each window is written, the rest of that window only counted (the count goes
//! into the next record for that device and reason). The table is bounded: past
//! [`MAX_KEYS`] devices and reasons, expired entries are dropped, and if every entry is still
//! live, the newcomers share one more entry per reason (reasons are a fixed set). So however many refusals a client provokes,
//! it adds at most one record per window per entry, and the table's memory is fixed.
//!
//! Sans-IO: the time is an argument, and [`Refusals::see`] says whether to write.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long repeated refusals of one device for one reason are counted without a record.
pub const WINDOW: Duration = Duration::from_secs(600);

/// Most devices-and-reasons tracked at once.
pub const MAX_KEYS: usize = 4096;

/// The device id under which refusals are counted once the table is full.
const OVERFLOW: &str = "*";

/// Devices' recent refusals.
#[derive(Debug)]
pub struct Refusals {
    window: Duration,
    max_keys: usize,
    seen: HashMap<(String, &'static str), Seen>,
}

#[derive(Debug)]
struct Seen {
    since: Instant,
    /// Refusals in the window, the one written included.
    count: u64,
}

impl Default for Refusals {
    fn default() -> Self {
        Self::new(WINDOW, MAX_KEYS)
    }
}

impl Refusals {
    /// A table with this window and size.
    pub fn new(window: Duration, max_keys: usize) -> Self {
        Self {
            window,
            max_keys: max_keys.max(1),
            seen: HashMap::new(),
        }
    }

    /// A refusal of `device` for `reason` at `now`: `Some(n)` when it is to be written, `n`
    /// being how many refusals the previous window counted without writing; `None` when it is
    /// only counted.
    pub fn see(&mut self, now: Instant, device: &str, reason: &'static str) -> Option<u64> {
        let mut key = (device.to_string(), reason);
        if !self.seen.contains_key(&key) && self.seen.len() >= self.max_keys {
            let window = self.window;
            self.seen
                .retain(|_, seen| now.saturating_duration_since(seen.since) < window);
            if self.seen.len() >= self.max_keys {
                key = (OVERFLOW.to_string(), reason);
            }
        }
        match self.seen.get_mut(&key) {
            Some(seen) if now.saturating_duration_since(seen.since) < self.window => {
                seen.count += 1;
                None
            }
            Some(seen) => {
                let unrecorded = seen.count.saturating_sub(1);
                *seen = Seen {
                    since: now,
                    count: 1,
                };
                Some(unrecorded)
            }
            None => {
                self.seen.insert(
                    key,
                    Seen {
                        since: now,
                        count: 1,
                    },
                );
                Some(0)
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_window_carries_the_count_of_the_last() {
        let mut refusals = Refusals::new(Duration::from_secs(60), 8);
        let start = Instant::now();
        assert_eq!(refusals.see(start, "dev-1", "revoked"), Some(0));
        for i in 1..1000 {
            let at = start + Duration::from_millis(i);
            assert_eq!(refusals.see(at, "dev-1", "revoked"), None);
        }
        // Another reason, another device: their own first records.
        assert_eq!(refusals.see(start, "dev-1", "cap"), Some(0));
        assert_eq!(refusals.see(start, "dev-2", "revoked"), Some(0));
        let later = start + Duration::from_secs(61);
        assert_eq!(refusals.see(later, "dev-1", "revoked"), Some(999));
        assert_eq!(refusals.see(later, "dev-1", "revoked"), None);
    }

    #[test]
    fn the_table_never_grows_past_its_size() {
        let mut refusals = Refusals::new(Duration::from_secs(60), 16);
        let now = Instant::now();
        let mut written = 0;
        for i in 0..10_000 {
            if refusals.see(now, &format!("dev-{i}"), "revoked").is_some() {
                written += 1;
            }
        }
        // Sixteen devices, and one entry shared by every newcomer.
        assert!(refusals.len() <= 17, "{}", refusals.len());
        assert_eq!(written, 17);
        // Once the window is over, expired entries make room again.
        let later = now + Duration::from_secs(61);
        assert_eq!(refusals.see(later, "dev-new", "revoked"), Some(0));
        assert!(refusals.len() <= 17);
    }
}
