//! The sweep: every finished case taken one [`Step`] at a time until it waits: its closing
//! date read from its history and kept, its owner told, or it is erased. A case that fails is
//! logged and left for the next sweep; the others go on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sync_core::model::{case, timeline};
use sync_core::DocumentId;

use super::{due_date, erase_on, next_step, Step, SWEEPER};
use crate::error::ServerError;
use crate::state::AppState;

/// What one sweep did.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Swept {
    /// Cases whose closing date was read (they enter the schedule).
    pub scheduled: usize,
    /// Owners told that a case will be erased.
    pub notified: usize,
    /// Cases erased.
    pub erased: usize,
    /// Cases that failed (see the server's log); tried again at the next sweep.
    pub failed: usize,
}

/// Runs the rule over every finished case at the state's clock's time.
pub async fn sweep(state: &AppState) -> Swept {
    let now = state.clock.now();
    let mut swept = Swept::default();
    for (id, _) in state.registry.finished_cases() {
        if let Err(e) = sweep_case(state, id, now, &mut swept).await {
            tracing::warn!(error = %e, document = %id, "retention: the case waits for the next sweep");
            swept.failed += 1;
        }
    }
    swept
}

/// Takes one case as far as it goes now (at most a step of each kind).
async fn sweep_case(
    state: &AppState,
    id: DocumentId,
    now: DateTime<Utc>,
    swept: &mut Swept,
) -> Result<(), ServerError> {
    let months = state.retention_months;
    let registry = &state.registry;
    for _ in 0..3 {
        let Some(record) = registry.record(&id).filter(|r| r.finished && !r.erased) else {
            return Ok(());
        };
        let retention = &record.retention;
        match next_step(retention, months, now) {
            Step::Wait => return Ok(()),
            Step::Schedule => {
                let Some(closed) = closing_time(state, id).await? else {
                    // Not yet durable in the store, or not a readable case: next time.
                    return Ok(());
                };
                let detail = serde_json::json!({
                    "closed": super::polish_month(closed),
                    "erase_on": due_date(closed, months).to_string(),
                    "months": months,
                });
                let taken =
                    registry.update_retention(id, "retention-scheduled", None, detail, |r| {
                        // Another node may have read it first.
                        r.closed_at.is_none() && {
                            r.closed_at = Some(closed.timestamp());
                            true
                        }
                    })?;
                swept.scheduled += usize::from(taken.is_some());
            }
            Step::Notify => {
                let told = crate::access::Retention {
                    notified_at: Some(now.timestamp()),
                    ..retention.clone()
                };
                let detail = serde_json::json!({
                    "to": record.owner,
                    "erase_on": erase_on(&told, months).map(|d| d.to_string()),
                });
                // Only if the record as stored still calls for the notice (another node may
                // have given it, an administrator may have held the case meanwhile).
                let taken =
                    registry.update_retention(id, "retention-notified", None, detail, |r| {
                        next_step(r, months, now) == Step::Notify && {
                            r.notified_at = Some(now.timestamp());
                            true
                        }
                    })?;
                swept.notified += usize::from(taken.is_some());
            }
            Step::Erase => {
                let detail = serde_json::json!({
                    "closed": retention.closed_at
                        .and_then(|at| DateTime::from_timestamp(at, 0))
                        .map(super::polish_month),
                    "erase_on": erase_on(retention, months).map(|d| d.to_string()),
                    "months": months,
                });
                // The record as stored, not this node's copy: a hold placed through another
                // node a moment ago keeps the case.
                let stored = registry.stored_case(id)?;
                if !stored.is_some_and(|(_, r)| next_step(&r.retention, months, now) == Step::Erase)
                {
                    return Ok(());
                }
                crate::erasure::erase_case(state, id, SWEEPER).await?;
                registry
                    .audit()
                    .note("retention-erased", None, None, Some(id.to_string()), detail);
                swept.erased += 1;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// When the case was closed or handed over, read from its stored history.
async fn closing_time(
    state: &AppState,
    id: DocumentId,
) -> Result<Option<DateTime<Utc>>, ServerError> {
    let storage = state.storage.clone();
    tokio::task::spawn_blocking(move || {
        let Some(stored) = storage.load_now(id)? else {
            return Ok(None);
        };
        let doc = sync_core::engine::load_stored(&stored)?;
        let Ok(view) = case::read_case(&doc) else {
            return Ok(None);
        };
        let spans = timeline::stage_timeline(&doc, view.created_at)
            .map_err(|e| ServerError::Corrupt(format!("the history of {id}: {e}")))?;
        Ok(timeline::closed_at(&spans))
    })
    .await
    .map_err(|e| ServerError::Corrupt(e.to_string()))?
}
