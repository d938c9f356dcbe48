//! The server's RSS sampled in the background (every 100 ms) while a phase runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::procfs;

/// Samples the server's RSS every 100 ms until dropped.
pub(crate) struct Sampler {
    max_kib: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub(crate) fn start(pid: String) -> Self {
        let max_kib = Arc::new(AtomicU64::new(0));
        let max = max_kib.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let Some(m) = procfs::memory(&pid) {
                    max.fetch_max(m.rss_kib, Ordering::Relaxed);
                }
            }
        });
        Self { max_kib, task }
    }

    pub(crate) fn max_mib(&self) -> f64 {
        self.max_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}
