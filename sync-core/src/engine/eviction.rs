//! What leaves memory: idle documents are evicted, documents least recently used go while the
//! resident ones exceed the memory budget, and documents nobody holds or waits for are forgotten.

use super::{DocumentId, Engine, Millis, Policy};

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// Evicts and forgets documents (part of the housekeeping, at most once a second).
    pub(super) fn evict(&mut self) {
        let Some(idle) = self.config.evict_idle_after else {
            return;
        };
        let now = self.now.0;
        let mut resident_bytes = 0usize;
        let mut candidates: Vec<(Millis, DocumentId, usize)> = Vec::new();
        let mut forget: Vec<DocumentId> = Vec::new();
        for (id, doc) in &mut self.docs {
            if doc.resident().is_none() {
                if doc.subscribers.is_empty()
                    && doc.waiting.is_empty()
                    && !doc.has_work()
                    && !doc.is_loading()
                {
                    forget.push(*id);
                }
                continue;
            }
            let size = doc.resident_size();
            resident_bytes += size;
            if doc.has_work() || doc.is_flushing() || doc.compacting || self.dirty.contains(id) {
                continue;
            }
            if doc.last_used.0 + idle <= now || !doc.exists {
                doc.unload();
                resident_bytes -= size;
                if doc.subscribers.is_empty() && doc.waiting.is_empty() {
                    forget.push(*id);
                }
            } else {
                candidates.push((doc.last_used, *id, size));
            }
        }
        if resident_bytes > self.config.memory_budget {
            candidates.sort();
            for (_, id, size) in candidates {
                if resident_bytes <= self.config.memory_budget {
                    break;
                }
                if let Some(doc) = self.docs.get_mut(&id) {
                    doc.unload();
                    resident_bytes -= size;
                }
            }
        }
        for id in forget {
            self.docs.remove(&id);
        }
    }
}
