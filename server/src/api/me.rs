//! `/me` and `/me/documents`: the caller's profile and the documents they may hold.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use super::caller::caller;
use super::schemas::{AccessLevel, DocumentEntry, DocumentList};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's profile: login, name, institution (with its name) and roles. The meeting page
/// shows it and announces it in its presence.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    summary = "Profil wywołującego",
    responses(
        (status = 200, body = crate::api::schemas::Profile),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn who_am_i(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = caller(&state, &headers).await?;
    let institution_name = match &user.institution {
        Some(id) => state.directory.institution(id)?.map(|i| i.name),
        None => None,
    };
    Ok(Json(serde_json::json!({
        "login": user.login,
        "name": user.name,
        "institution": user.institution,
        "institution_name": institution_name,
        "roles": user.roles,
    })))
}

/// The documents the caller may hold, with their kind and access.
#[utoipa::path(
    get,
    path = "/api/v1/me/documents",
    tag = "me",
    summary = "Dokumenty, które wywołujący może mieć",
    responses(
        (status = 200, body = crate::api::schemas::DocumentList),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn my_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<DocumentList>, ApiError> {
    let user = caller(&state, &headers).await?;
    let documents = state
        .registry
        .visible_to(&user.login)
        .into_iter()
        .map(|(id, kind, access)| DocumentEntry {
            document_id: id.to_string(),
            url: id.url(),
            kind,
            access: if access == sync_core::engine::Access::ReadWrite {
                AccessLevel::ReadWrite
            } else {
                AccessLevel::Read
            },
            erase_on: super::retention::notice(&state, &id),
        })
        .collect();
    Ok(Json(DocumentList { documents }))
}
