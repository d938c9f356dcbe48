//! The hub's storage threads: a *writer* that gathers every write queued while the previous
//! group commit ran into one batch with one fsync, and a *loader*. Both run off the async
//! executor and answer on one channel the hub serves first.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use sync_core::engine::TaskId;
use sync_core::storage::{Storage, StorageRequest, StorageResponse, WriteOp};
use sync_core::StorageError;
use tokio::sync::mpsc;

use crate::disk::DiskGuard;
use crate::metrics::Metrics;

/// A storage task's answer, as the hub receives it.
pub(super) type Done = (TaskId, Result<StorageResponse, StorageError>);

/// Starts the writer thread: one group commit (one fsync) for everything queued meanwhile.
pub(super) fn spawn_writer<S: Storage>(
    storage: S,
    disk: Option<Arc<DiskGuard>>,
    done: mpsc::UnboundedSender<Done>,
    metrics: Arc<Metrics>,
) -> (
    std::sync::mpsc::Sender<(TaskId, WriteOp)>,
    Option<std::thread::JoinHandle<()>>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<(TaskId, WriteOp)>();
    let spawned = std::thread::Builder::new()
        .name("storage-writer".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < 8192 {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (tasks, ops): (Vec<TaskId>, Vec<WriteOp>) = batch.into_iter().unzip();
                let started = Instant::now();
                // Below the disk reserve nothing reaches the store (see `crate::disk`).
                let result = match disk.as_ref().map(|d| d.check()) {
                    Some(Err(full)) => Err(full),
                    _ => futures::executor::block_on(storage.write(ops)),
                };
                metrics
                    .flush_seconds
                    .observe(started.elapsed().as_secs_f64());
                metrics
                    .flush_batch
                    .fetch_add(tasks.len() as u64, Ordering::Relaxed);
                if let Err(e) = &result {
                    tracing::error!(error = %e, writes = tasks.len(), "group commit failed");
                }
                for task in tasks {
                    let r = result.clone().map(|()| StorageResponse::Written);
                    if done.send((task, r)).is_err() {
                        return;
                    }
                }
            }
        });
    let handle = spawned
        .map_err(|e| tracing::error!(error = %e, "could not start the storage writer"))
        .ok();
    (tx, handle)
}

/// Starts the loader thread: loads one request at a time.
pub(super) fn spawn_loader<S: Storage>(
    storage: S,
    done: mpsc::UnboundedSender<Done>,
) -> (
    std::sync::mpsc::Sender<(TaskId, StorageRequest)>,
    Option<std::thread::JoinHandle<()>>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<(TaskId, StorageRequest)>();
    let spawned = std::thread::Builder::new()
        .name("storage-loader".into())
        .spawn(move || {
            while let Ok((task, request)) = rx.recv() {
                let result =
                    futures::executor::block_on(sync_core::storage::execute(&storage, request));
                if done.send((task, result)).is_err() {
                    return;
                }
            }
        });
    let handle = spawned
        .map_err(|e| tracing::error!(error = %e, "could not start the storage loader"))
        .ok();
    (tx, handle)
}
