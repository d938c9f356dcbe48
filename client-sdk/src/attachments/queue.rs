//! The upload queue: one task per tablet that sends every blob stored here and not yet on the
//! server, one at a time, while the tablet is connected. Each upload first asks the server how
//! much it has, so a transfer cut off by a lost connection, a killed app or a restarted server
//! continues where it stopped. A failure is retried after a backoff that doubles from the
//! tablet's shortest reconnect delay to its longest, with jitter ([`backoff`]); a refusal for
//! good is reported once and not retried. The queue is the device's files: nothing to lose
//! when the app is killed. Once an hour it also evicts what was not used for a while.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::local::{self, BlobKey};
use super::{transfer, AttachmentEvent, Shared};
use crate::client::ClientEvent;
use crate::error::SdkError;
use crate::status::{SyncState, SyncStatus};
use crate::transport::ServerAddress;

/// How often eviction runs while the tablet is open.
const EVICT_EVERY: Duration = Duration::from_secs(60 * 60);

/// The wait before attempt `attempt + 1` after `attempt` failures in a row: `min · 2^(attempt-1)`
/// up to `max`, then a random part of its second half (jitter, so tablets that lost the server
/// together do not come back together).
pub(crate) fn backoff(attempt: u32, min: Duration, max: Duration, rng: &mut impl Rng) -> Duration {
    let doubled = min.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let ceiling = doubled.min(max).max(min);
    let floor = ceiling / 2;
    rng.random_range(floor..=ceiling)
}

/// The queue's settings and what it listens to.
#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) server: ServerAddress,
    pub(crate) status: watch::Receiver<SyncStatus>,
    pub(crate) events: broadcast::Receiver<ClientEvent>,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) evict_after: Option<Duration>,
}

struct Retry {
    attempt: u32,
    at: Instant,
}

fn connected(status: &SyncStatus) -> bool {
    matches!(
        status.state,
        SyncState::Syncing { .. } | SyncState::UpToDate
    )
}

impl Queue {
    /// Runs until the tablet stops (its status channel closes) or the task is aborted.
    pub(crate) async fn run(mut self, shared: Arc<Shared>) {
        let mut retries: HashMap<BlobKey, Retry> = HashMap::new();
        let mut next_eviction = Instant::now();
        loop {
            if Instant::now() >= next_eviction {
                next_eviction = Instant::now() + EVICT_EVERY;
                let cutoff = self.evict_after.and_then(|after| {
                    chrono::Utc::now().checked_sub_signed(chrono::Duration::from_std(after).ok()?)
                });
                if let Some(cutoff) = cutoff {
                    if let Err(e) = evict(&shared, cutoff).await {
                        tracing::warn!(error = %e, "evicting attachments failed");
                    }
                }
            }
            let mut wake_at = next_eviction;
            if connected(&self.status.borrow_and_update()) {
                if let Some(at) = self.send_pending(&shared, &mut retries).await {
                    wake_at = wake_at.min(at);
                }
            }
            tokio::select! {
                () = shared.wake.notified() => {}
                changed = self.status.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                event = self.events.recv() => match event {
                    Ok(ClientEvent::Removed(document)) => {
                        let blobs = shared.blobs.clone();
                        let _ = tokio::task::spawn_blocking(move || blobs.remove_document(document)).await;
                    }
                    Ok(ClientEvent::Revoked) | Err(broadcast::error::RecvError::Closed) => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                },
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// Uploads what waits and is due; returns when the next retry is due, if any waits.
    async fn send_pending(
        &self,
        shared: &Arc<Shared>,
        retries: &mut HashMap<BlobKey, Retry>,
    ) -> Option<Instant> {
        let blobs = shared.blobs.clone();
        let all = match tokio::task::spawn_blocking(move || blobs.all()).await {
            Ok(Ok(all)) => all,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "listing attachments failed");
                return Some(Instant::now() + self.max_backoff);
            }
            Err(_) => return None,
        };
        let mut next: Option<Instant> = None;
        for (key, meta) in all {
            if meta.uploaded || meta.refused.is_some() {
                continue;
            }
            if let Some(retry) = retries.get(&key).filter(|r| r.at > Instant::now()) {
                next = Some(next.map_or(retry.at, |n| n.min(retry.at)));
                continue;
            }
            if !connected(&self.status.borrow()) {
                return Some(Instant::now() + self.max_backoff);
            }
            let (document, sha256) = (key.document, key.hex());
            let events = shared.events.clone();
            let size = meta.size;
            let progress = {
                let sha256 = sha256.clone();
                move |sent| {
                    let _ = events.send(AttachmentEvent::Uploading {
                        document,
                        sha256: sha256.clone(),
                        sent,
                        size,
                    });
                }
            };
            // Going offline (the app's choice, or the connection lost) stops the upload too.
            let mut status = self.status.clone();
            let result = tokio::select! {
                result = transfer::upload(&self.server, &shared.blobs, &key, progress) => result,
                _ = status.wait_for(|s| !connected(s)) => {
                    Err(SdkError::Network("the tablet went offline".into()))
                }
            };
            let outcome = match result {
                Ok(()) => mark(shared, key, |m| m.uploaded = true).await,
                Err(SdkError::AttachmentRefused(reason)) => {
                    let r = reason.clone();
                    let marked = mark(shared, key, move |m| m.refused = Some(r)).await;
                    shared.emit(AttachmentEvent::UploadRefused {
                        document,
                        sha256: sha256.clone(),
                        reason,
                    });
                    retries.remove(&key);
                    marked.map(|_| false)
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(true) => {
                    retries.remove(&key);
                    shared.emit(AttachmentEvent::Uploaded { document, sha256 });
                }
                Ok(false) => {}
                Err(e) => {
                    let attempt = retries.get(&key).map_or(1, |r| r.attempt + 1);
                    let after = backoff(
                        attempt,
                        self.min_backoff,
                        self.max_backoff,
                        &mut rand::rng(),
                    );
                    let at = Instant::now() + after;
                    tracing::info!(%document, %sha256, attempt, error = %e, "attachment upload failed");
                    shared.emit(AttachmentEvent::UploadRetry {
                        document,
                        sha256,
                        attempt,
                        after,
                        code: sync_core::Coded::code(&e),
                    });
                    retries.insert(key, Retry { attempt, at });
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
        }
        next
    }
}

/// Changes a blob's record; `true` once written.
async fn mark(
    shared: &Arc<Shared>,
    key: BlobKey,
    change: impl FnOnce(&mut local::LocalMeta) + Send + 'static,
) -> Result<bool, SdkError> {
    let blobs = shared.blobs.clone();
    tokio::task::spawn_blocking(move || {
        let Some(mut meta) = blobs.meta(&key)? else {
            return Ok(false);
        };
        change(&mut meta);
        blobs.put_meta(&key, &meta)?;
        Ok(true)
    })
    .await
    .map_err(|_| SdkError::Stopped)?
}

/// Removes from the device the blobs the server holds that were not used since `cutoff`.
pub(crate) async fn evict(
    shared: &Arc<Shared>,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<BlobKey>, SdkError> {
    let blobs = shared.blobs.clone();
    let evicted = tokio::task::spawn_blocking(move || {
        let all = blobs.all()?;
        let gone = local::to_evict(&all, local::nanos(cutoff));
        for key in &gone {
            blobs.remove(key)?;
        }
        Ok::<_, SdkError>(gone)
    })
    .await
    .map_err(|_| SdkError::Stopped)??;
    for key in &evicted {
        shared.emit(AttachmentEvent::Evicted {
            document: key.document,
            sha256: key.hex(),
        });
    }
    Ok(evicted)
}
