//! Prometheus metrics: counters and latency histograms, rendered as text at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                self.counts[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// What the engine counts of the relay path (`sync_core::engine::RelayStats`).
#[derive(Debug, Default)]
pub struct RelayCounters {
    /// Changes stored and forwarded without being applied to the document in memory.
    pub relayed: AtomicU64,
    /// Changes new to a document applied to it as they arrived (the full path).
    pub materialised: AtomicU64,
    /// Times relayed changes were applied later, one batch each.
    pub batches_applied: AtomicU64,
    /// Relayed changes applied in those batches.
    pub changes_applied: AtomicU64,
    /// Sync messages composed without the document in memory.
    pub composed: AtomicU64,
    /// Batches applied because messages could not be relayed, a peer's message could not be
    /// composed, compaction or a read of the server needed the document in memory.
    pub applied_for: [AtomicU64; 4],
}

impl RelayCounters {
    /// Takes the engine's counts.
    pub fn store(&self, stats: sync_core::engine::RelayStats) {
        let pairs = [
            (&self.relayed, stats.relayed),
            (&self.materialised, stats.full_path),
            (&self.batches_applied, stats.batches_applied),
            (&self.changes_applied, stats.changes_applied),
            (&self.composed, stats.composed),
            (&self.applied_for[0], stats.applied_for_batch),
            (&self.applied_for[1], stats.applied_for_peer),
            (&self.applied_for[2], stats.applied_for_compaction),
            (&self.applied_for[3], stats.applied_for_host),
        ];
        for (counter, value) in pairs {
            counter.store(value, Ordering::Relaxed);
        }
    }
}

/// Every metric the server exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections: AtomicU64,
    /// Documents resident in memory.
    pub documents_loaded: AtomicU64,
    /// Loads of a document from the store.
    pub document_loads: AtomicU64,
    /// Bytes the engine's ephemeral de-duplication table counts for (bounded by its config).
    pub ephemeral_sessions_bytes: AtomicU64,
    /// Frames received.
    pub frames_in: AtomicU64,
    /// Frames sent.
    pub frames_out: AtomicU64,
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Time to apply one tick's batch.
    pub apply_seconds: Histogram,
    /// Time of one group commit (write + fsync).
    pub flush_seconds: Histogram,
    /// Changes in one group commit.
    pub flush_batch: AtomicU64,
    /// The relay path's counts (issue #23), copied from the engine after every tick.
    pub relay: RelayCounters,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts a refused frame or connection by reason.
    pub fn reject(&self, reason: &'static str) {
        if let Ok(mut map) = self.rejected.lock() {
            *map.entry(reason).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let gauges: [(&str, &str, &AtomicU64); 18] = [
            (
                "kooperacja_connections",
                "Open WebSocket connections.",
                &self.connections,
            ),
            (
                "kooperacja_documents_loaded",
                "Documents resident in memory.",
                &self.documents_loaded,
            ),
            (
                "kooperacja_document_loads_total",
                "Loads of a document from the store.",
                &self.document_loads,
            ),
            (
                "kooperacja_ephemeral_sessions_bytes",
                "Bytes of the ephemeral de-duplication table (bounded).",
                &self.ephemeral_sessions_bytes,
            ),
            (
                "kooperacja_frames_in_total",
                "Frames received.",
                &self.frames_in,
            ),
            (
                "kooperacja_frames_out_total",
                "Frames sent.",
                &self.frames_out,
            ),
            (
                "kooperacja_bytes_in_total",
                "Bytes received.",
                &self.bytes_in,
            ),
            ("kooperacja_bytes_out_total", "Bytes sent.", &self.bytes_out),
            (
                "kooperacja_flush_writes_total",
                "Writes made durable by group commits.",
                &self.flush_batch,
            ),
            (
                "kooperacja_relay_changes_total",
                "Changes stored and forwarded without applying them to the document in memory (relay path).",
                &self.relay.relayed,
            ),
            (
                "kooperacja_materialised_changes_total",
                "Changes applied to the document in memory as they arrived (full path).",
                &self.relay.materialised,
            ),
            (
                "kooperacja_relay_batches_applied_total",
                "Times relayed changes were applied to the document in memory, one batch each.",
                &self.relay.batches_applied,
            ),
            (
                "kooperacja_relay_changes_applied_total",
                "Relayed changes applied to the document in memory in those batches.",
                &self.relay.changes_applied,
            ),
            (
                "kooperacja_relay_messages_composed_total",
                "Sync messages composed without the document in memory.",
                &self.relay.composed,
            ),
            (
                "kooperacja_relay_applied_for_batch_total",
                "Relayed changes applied because a batch of messages could not be relayed.",
                &self.relay.applied_for[0],
            ),
            (
                "kooperacja_relay_applied_for_peer_total",
                "Relayed changes applied because a peer's sync message could not be composed without them.",
                &self.relay.applied_for[1],
            ),
            (
                "kooperacja_relay_applied_for_compaction_total",
                "Relayed changes applied before compaction.",
                &self.relay.applied_for[2],
            ),
            (
                "kooperacja_relay_applied_for_read_total",
                "Relayed changes applied because the server read or changed the document.",
                &self.relay.applied_for[3],
            ),
        ];
        for (name, help, value) in gauges {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        self.apply_seconds.render(
            "kooperacja_apply_seconds",
            "Time to apply one tick's incoming changes.",
            &mut out,
        );
        self.flush_seconds.render(
            "kooperacja_flush_seconds",
            "Time of one group commit (write and fsync).",
            &mut out,
        );
        let _ = writeln!(
            out,
            "# HELP kooperacja_rejected_total Refused frames and connections by reason.\n# TYPE kooperacja_rejected_total counter"
        );
        if let Ok(map) = self.rejected.lock() {
            for (reason, n) in map.iter() {
                let _ = writeln!(out, "kooperacja_rejected_total{{reason=\"{reason}\"}} {n}");
            }
        }
        out
    }
}

/// The PostgreSQL connections' state (a node on PostgreSQL): what an operator watches during
/// a failover (`docs/multi-node.md`).
pub fn render_postgres(health: &crate::pg::PgHealth, out: &mut String) {
    let up = |b: &std::sync::atomic::AtomicBool| u64::from(b.load(Ordering::Relaxed));
    let rows: [(&str, &str, u64); 8] = [
        (
            "kooperacja_postgres_connections_up",
            "Worker connections to PostgreSQL open now.",
            health.connections_up.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_pool_size",
            "Worker connections configured (--postgres-pool).",
            health.pool_size.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_listening",
            "1 while this node hears the other nodes' changes.",
            up(&health.listening),
        ),
        (
            "kooperacja_postgres_reconnects_total",
            "Worker connections made again after a loss.",
            health.reconnects.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_failed_attempts_total",
            "Connection attempts that failed.",
            health.failed_attempts.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_listen_reconnects_total",
            "Times the listening connection came back (everything resident reloaded).",
            health.listen_reconnects.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_pending_writes",
            "Audit records and actor bindings waiting to be written.",
            health.pending_writes.load(Ordering::Relaxed),
        ),
        (
            "kooperacja_postgres_conflicts_total",
            "Compare-and-swap writes that found another writer's value.",
            health.conflicts.load(Ordering::Relaxed),
        ),
    ];
    for (name, help, value) in rows {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
}
