//! `/documents/{document}/assign` and `/unassign`: a case's owner, an animator or an admin
//! assigns workers and institutions to it.

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::caller::caller;
use crate::access::DocRecord;
use crate::error::ApiError;
use crate::hub::Command;
use crate::identity::Role;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct Assignment {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    institution: Option<String>,
}

/// Assigns a user or an institution to a case.
pub(super) async fn assign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, false).await
}

/// Unassigns a user or an institution from a case.
pub(super) async fn unassign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, true).await
}

/// The case's owner, an animator or an admin assigns or unassigns workers and institutions.
async fn change_assignment(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
    Json(body): Json<Assignment>,
    remove: bool,
) -> Result<Json<DocRecord>, ApiError> {
    let user = caller(&state, &headers).await?;
    let id = sync_core::DocumentId::parse(&document)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let record = state
        .registry
        .record(&id)
        .ok_or_else(|| ApiError::not_found("no such document"))?;
    let allowed = record.owner == user.login
        || user
            .roles
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Animator));
    if !allowed {
        // Exactly what an unknown document answers: ids cannot be probed.
        return Err(ApiError::not_found("no such document"));
    }
    if body.user.is_none() && body.institution.is_none() {
        return Err(ApiError::bad_request("give a user or an institution"));
    }
    let record = state.registry.assign(
        id,
        body.user.as_deref(),
        body.institution.as_deref(),
        &user.login,
        remove,
    )?;
    state.hub.send(Command::AccessChanged(Some(id))).await;
    Ok(Json(record))
}
