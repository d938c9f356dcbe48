//! Retention ([`crate::retention`]) over HTTP: the schedule for ROPS coordinators and admins
//! (`GET /retention`), an administrator's legal hold on a case (`PUT`/`DELETE
//! /admin/documents/{document}/retention-hold`) and the sweep run now (`POST
//! /admin/retention/sweep`).

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::caller::{admin, caller};
use crate::access::{Hold, Kind};
use crate::error::ApiError;
use crate::identity::Role;
use crate::retention::{self, Schedule, Swept};
use crate::state::AppState;

/// The schedule: every finished case, when it is to be erased, whether its owner was told.
#[utoipa::path(
    get,
    path = "/api/v1/retention",
    tag = "retention",
    summary = "Harmonogram retencji zakończonych spraw (pseudonimy, miesiąc zamknięcia, dzień usunięcia)",
    responses(
        (status = 200, body = Schedule),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Schedule>, ApiError> {
    let user = caller(&state, &headers).await?;
    let is_admin = user.roles.contains(&Role::Admin);
    if !is_admin && !user.roles.contains(&Role::Coordinator) {
        return Err(ApiError::forbidden(
            "the retention schedule is for ROPS coordinators and admins",
        ));
    }
    let salt = state.directory.export_salt()?;
    let schedule = retention::schedule(&state.registry, &salt, state.retention_months, is_admin);
    state.registry.audit().note(
        "retention-schedule-read",
        Some(&user.login),
        None,
        None,
        serde_json::json!({ "cases": schedule.cases.len() }),
    );
    Ok(Json(schedule))
}

/// A hold's request: why, and (for an extension) until when.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct HoldRequest {
    /// Why (e.g. the court and its file number).
    reason: String,
    /// Keep at least until this day (`YYYY-MM-DD`); none: until the hold is lifted.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    until: Option<chrono::NaiveDate>,
}

/// The case named in the path, which must be a case the server knows.
fn case_id(state: &AppState, document: &str) -> Result<sync_core::DocumentId, ApiError> {
    let id =
        sync_core::DocumentId::parse(document).map_err(|e| ApiError::bad_request(e.to_string()))?;
    match state.registry.record(&id) {
        Some(r) if r.kind == Kind::Case && !r.erased => Ok(id),
        _ => Err(ApiError::not_found(format!("no case {id}"))),
    }
}

/// Holds a case (court proceedings): it is not erased until the hold is lifted, or before the
/// hold's day. Its owner is told again a month before the new day.
#[utoipa::path(
    put,
    path = "/api/v1/admin/documents/{document}/retention-hold",
    tag = "retention",
    summary = "Wstrzymuje usunięcie sprawy (np. postępowanie sądowe) albo przedłuża jej przechowywanie",
    params(("document" = String, Path, description = "Identyfikator sprawy (bs58check)")),
    request_body = HoldRequest,
    responses(
        (status = 200, body = Hold),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn hold(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
    Json(body): Json<HoldRequest>,
) -> Result<Json<Hold>, ApiError> {
    let by = admin(&state, &headers).await?;
    let id = case_id(&state, &document)?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "a hold needs its reason (e.g. the court and its file number)",
        ));
    }
    let hold = Hold {
        reason: reason.to_owned(),
        until: body.until,
        by: by.login.clone(),
        at: state.clock.now().timestamp(),
    };
    let detail = serde_json::json!({ "until": hold.until.map(|d| d.to_string()) });
    let kept = hold.clone();
    state
        .registry
        .update_retention(id, "retention-hold", Some(&by.login), detail, move |r| {
            r.hold = Some(kept.clone());
            // A new day needs a new notice.
            r.notified_at = None;
            true
        })?;
    Ok(Json(hold))
}

/// Lifts a case's hold: its retention runs again (a new notice a month before its day).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/documents/{document}/retention-hold",
    tag = "retention",
    summary = "Znosi wstrzymanie usunięcia sprawy",
    params(("document" = String, Path, description = "Identyfikator sprawy (bs58check)")),
    responses(
        (status = 200, body = crate::api::schemas::HoldLifted),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn lift_hold(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let id = case_id(&state, &document)?;
    let had = state
        .registry
        .record(&id)
        .is_some_and(|r| r.retention.hold.is_some());
    if had {
        state.registry.update_retention(
            id,
            "retention-hold-lifted",
            Some(&by.login),
            serde_json::json!({}),
            |r| {
                r.hold = None;
                r.notified_at = None;
                true
            },
        )?;
    }
    Ok(Json(
        serde_json::json!({ "document": id.to_string(), "lifted": had }),
    ))
}

/// Runs the retention sweep now (the server also runs it every hour).
#[utoipa::path(
    post,
    path = "/api/v1/admin/retention/sweep",
    tag = "retention",
    summary = "Uruchamia teraz przegląd retencji (zawiadomienia, usunięcia)",
    responses(
        (status = 200, body = Swept),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn sweep(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Swept>, ApiError> {
    admin(&state, &headers).await?;
    Ok(Json(retention::sweep(&state).await))
}

/// What a holder of a case is told about its retention in `/me/documents`: the day it is to
/// be erased, once its owner has been notified.
pub(super) fn notice(state: &AppState, id: &sync_core::DocumentId) -> Option<String> {
    let record = state.registry.record(id)?;
    record.retention.notified_at?;
    retention::erase_on(&record.retention, state.retention_months).map(|d| d.to_string())
}
