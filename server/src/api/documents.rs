//! `/documents/{document}/assign` and `/unassign`: whoever may change a case's sharing (its
//! owner, the animator of its lead institution's PZK, an admin: [`Registry::may_share`])
//! assigns workers and institutions to it; anyone else gets what an unknown id gets.
//!
//! [`Registry::may_share`]: crate::access::Registry::may_share

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::caller::caller;
use crate::access::DocRecord;
use crate::error::ApiError;
use crate::hub::Command;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct Assignment {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    institution: Option<String>,
}

/// Assigns a user or an institution to a case.
#[utoipa::path(
    post,
    path = "/api/v1/documents/{document}/assign",
    tag = "documents",
    summary = "Przydziela użytkownika lub instytucję do sprawy",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)")),
    request_body = Assignment,
    responses(
        (status = 200, body = DocRecord),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn assign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, false).await
}

/// Unassigns a user or an institution from a case.
#[utoipa::path(
    post,
    path = "/api/v1/documents/{document}/unassign",
    tag = "documents",
    summary = "Odbiera przydział",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)")),
    request_body = Assignment,
    responses(
        (status = 200, body = DocRecord),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn unassign(
    state: State<AppState>,
    headers: HeaderMap,
    document: UrlPath<String>,
    body: Json<Assignment>,
) -> Result<Json<DocRecord>, ApiError> {
    change_assignment(state, headers, document, body, true).await
}

/// What a document the caller may not act on answers: exactly what an unknown id answers, so
/// ids cannot be probed.
fn unknown_document() -> ApiError {
    ApiError::not_found("no such document")
}

/// Whoever may change the case's sharing assigns or unassigns workers and institutions; the
/// owner's own assignment (the owner, the lead institution) is removed only by the owner.
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
        .filter(|r| state.registry.may_share(&user, r))
        .ok_or_else(unknown_document)?;
    if body.user.is_none() && body.institution.is_none() {
        return Err(ApiError::bad_request("give a user or an institution"));
    }
    let owners_own = body.user.as_deref() == Some(record.owner.as_str())
        || (body.institution.is_some() && body.institution == record.institution);
    if remove && owners_own && user.login != record.owner {
        return Err(ApiError::forbidden(
            "only the case's owner removes the owner's own assignment",
        ));
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
