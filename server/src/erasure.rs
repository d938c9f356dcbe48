//! Erasing a case (GDPR art. 17, or the end of its retention): the one path the admin API and
//! the retention sweep share. Its id is tombstoned so no device can upload it again, its
//! attachments are deleted, its justice documents (art. 10) go with it, and its history leaves the store (devices holding it are told it is
//! unavailable); the audit log keeps only that an erasure happened and who asked.

use sync_core::DocumentId;
use tokio::sync::oneshot;

use crate::error::ServerError;
use crate::hub::Command;
use crate::state::AppState;

/// Erases `document` for `by` (an administrator's login, or `retencja` for the sweep); returns
/// once the removal is durable.
pub async fn erase_case(
    state: &AppState,
    document: DocumentId,
    by: &str,
) -> Result<(), ServerError> {
    // A case's justice documents (police and court information) go with it.
    for erased in state.registry.erase(document, by)? {
        let blobs = state.blobs.clone();
        tokio::task::spawn_blocking(move || blobs.erase_document(erased))
            .await
            .map_err(|e| ServerError::Corrupt(e.to_string()))??;
        let (ack, done) = oneshot::channel();
        if !state.hub.send(Command::Erase(erased, ack)).await {
            return Err(ServerError::Stopping);
        }
        done.await.map_err(|_| ServerError::Stopping)??;
    }
    Ok(())
}
