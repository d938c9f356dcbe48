//! Streams as listeners the app implements: the sync status, the tablet's events and the peers
//! present in a document. Kotlin wraps them as a `Flow` (`kotlin/src/main/kotlin/.../Flows.kt`),
//! Swift as an `AsyncStream` (see README). Each listener is called on one of the SDK's threads,
//! in order; it must return quickly (hand the value to the UI's own queue).

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::error::KooperacjaError;
use crate::records::{PresencePeer, SyncStatus, TabletEvent};
use crate::runtime::runtime;

/// Receives the sync status: the current one at once, then every change (a slow listener may
/// miss intermediate states, never the latest).
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    /// The status now.
    fn on_status(&self, status: SyncStatus);
    /// The tablet stopped (shut down, wiped or revoked): no more statuses come.
    fn on_closed(&self);
}

/// Receives the tablet's events as they happen.
#[uniffi::export(foreign)]
pub trait TabletEventListener: Send + Sync {
    /// An event.
    fn on_event(&self, event: TabletEvent);
    /// The tablet stopped: no more events come.
    fn on_closed(&self);
}

/// Receives the peers present in a document whenever they change.
#[uniffi::export(foreign)]
pub trait PeersListener: Send + Sync {
    /// The peers now.
    fn on_peers(&self, peers: Vec<PresencePeer>);
    /// Presence stopped: no more updates come.
    fn on_closed(&self);
}

/// A running delivery to a listener; cancelled by [`Subscription::cancel`] or when the app
/// drops its last reference (keep it for as long as the listener should hear).
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    task: tokio::task::AbortHandle,
}

impl Subscription {
    /// A subscription stopping `task`.
    pub(crate) fn of(task: tokio::task::AbortHandle) -> Arc<Self> {
        Arc::new(Self { task })
    }
}

#[uniffi::export]
impl Subscription {
    /// Stops the delivery (the listener's `on_closed` is not called).
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Delivers the latest value of `source`, converted, then every change, then `closed`.
pub(crate) fn follow<T, U>(
    mut source: watch::Receiver<T>,
    convert: impl Fn(&T) -> U + Send + 'static,
    deliver: impl Fn(U) + Send + 'static,
    closed: impl FnOnce() + Send + 'static,
) -> Result<Arc<Subscription>, KooperacjaError>
where
    T: Send + Sync + 'static,
{
    let task = runtime()?.spawn(async move {
        let first = convert(&source.borrow_and_update());
        deliver(first);
        while source.changed().await.is_ok() {
            let next = convert(&source.borrow_and_update());
            deliver(next);
        }
        closed();
    });
    Ok(Arc::new(Subscription {
        task: task.abort_handle(),
    }))
}

/// Delivers the status of a tablet.
pub(crate) fn statuses(
    source: watch::Receiver<client_sdk::SyncStatus>,
    listener: Arc<dyn SyncStatusListener>,
) -> Result<Arc<Subscription>, KooperacjaError> {
    let closing = listener.clone();
    follow(
        source,
        |s| SyncStatus::from(s.clone()),
        move |s| listener.on_status(s),
        move || closing.on_closed(),
    )
}

/// Delivers every event of a tablet from now on.
pub(crate) fn events(
    mut source: broadcast::Receiver<client_sdk::ClientEvent>,
    listener: Arc<dyn TabletEventListener>,
) -> Result<Arc<Subscription>, KooperacjaError> {
    let task = runtime()?.spawn(async move {
        loop {
            match source.recv().await {
                Ok(event) => {
                    if let Some(event) = TabletEvent::from_client(event) {
                        listener.on_event(event);
                    }
                }
                // A listener that fell behind misses the oldest events and goes on.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        listener.on_closed();
    });
    Ok(Arc::new(Subscription {
        task: task.abort_handle(),
    }))
}
