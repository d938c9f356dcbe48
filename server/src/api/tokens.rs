//! `/enroll` and `/token`: a tablet enrols itself with a one-time code, and a device exchanges
//! its device token for a short-lived access token.

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap};
use axum::Json;
use serde::Deserialize;

use crate::auth;
use crate::error::ApiError;
use crate::identity::{random_device_secret, AccessToken, Enrolment, ACCESS_TOKEN_SECONDS};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct Redeem {
    code: String,
}

/// A tablet enrols itself with a one-time code and receives its device token. Wrong codes
/// count against the code and the caller's address ([`crate::enrolment`]).
#[utoipa::path(
    post,
    path = "/api/v1/enroll",
    tag = "tokens",
    summary = "Rejestracja urządzenia kodem jednorazowym",
    request_body = Redeem,
    responses(
        (status = 200, body = Enrolment),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 429, body = crate::api::schemas::ErrorBody),
    ),
)]
pub(super) async fn redeem(
    State(state): State<AppState>,
    extensions: Extensions,
    Json(body): Json<Redeem>,
) -> Result<Json<Enrolment>, ApiError> {
    let source = extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let directory = state.directory.clone();
    // Checking a code is deliberately slow (Argon2id): off the executor's threads.
    let enrolled = tokio::task::spawn_blocking(move || {
        directory.redeem(&body.code, &source, random_device_secret())
    })
    .await
    .map_err(|_| ApiError::unavailable("enrolment failed to run"))??;
    state.registry.audit().note(
        "enrol",
        Some(&enrolled.user),
        Some(&enrolled.device_id),
        None,
        serde_json::json!({ "by": "enrolment-code" }),
    );
    Ok(Json(enrolled))
}

/// A device exchanges its device token for a short-lived access token.
#[utoipa::path(
    post,
    path = "/api/v1/token",
    tag = "tokens",
    summary = "Krótkotrwały token dostępu",
    responses(
        (status = 200, body = AccessToken),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn access_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AccessToken>, ApiError> {
    let token = auth::bearer(&headers, None)
        .ok_or_else(|| ApiError::unauthorized("a device token is required"))?;
    let directory = state.directory.clone();
    let issued =
        tokio::task::spawn_blocking(move || directory.access_token(&token, ACCESS_TOKEN_SECONDS))
            .await
            .map_err(|_| ApiError::unavailable("token service failed to run"))??;
    issued
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized("a valid device token (kt_…) is required"))
}
