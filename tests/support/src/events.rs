//! Waiting for one event on a broadcast channel (a client's or a tablet's events), up to
//! [`WAIT`].

use crate::WAIT;

/// Waits (up to [`WAIT`]) for the first event on `events` for which `wanted` holds and returns
/// it; panics naming `what` on timeout or when the sender is gone.
pub async fn wait_event<T: Clone>(
    events: &mut tokio::sync::broadcast::Receiver<T>,
    what: &str,
    mut wanted: impl FnMut(&T) -> bool,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events ended while waiting for {what}: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
