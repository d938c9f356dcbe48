//! `GET /admin/documents/{document}/access-report`: the access report (GDPR art. 15) on one
//! case for an administrator answering a request ([`crate::access_report`]), as JSON or as a
//! readable HTML page (`?format=html`); making it is audited.

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::caller::admin;
use crate::access_report::{self, AccessReport};
use crate::error::{ApiError, ServerError};
use crate::state::AppState;

/// The report's format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct Format {
    /// `json` (the default) or `html`.
    format: Option<String>,
}

/// The access report on one case.
#[utoipa::path(
    get,
    path = "/api/v1/admin/documents/{document}/access-report",
    tag = "admin",
    summary = "Raport dostępu do danych (art. 15 RODO)",
    params(
        ("document" = String, Path, description = "Identyfikator sprawy (bs58check)"),
        Format
    ),
    responses(
        (status = 200, body = AccessReport, description = "JSON; z `format=html` strona HTML"),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    let by = admin(&state, &headers).await?;
    let id = sync_core::DocumentId::parse(&document)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let html = match format.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::bad_request("format is json or html")),
    };
    let (storage, registry) = (state.storage.clone(), state.registry.clone());
    let report =
        tokio::task::spawn_blocking(move || access_report::gather(&storage, &registry, id))
            .await
            .map_err(|e| ServerError::Corrupt(e.to_string()))??;
    state.registry.audit().note(
        "access-report",
        Some(&by.login),
        None,
        Some(id.to_string()),
        serde_json::json!({ "format": if html { "html" } else { "json" } }),
    );
    Ok(if html {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Html(access_report::to_html(&report)),
        )
            .into_response()
    } else {
        Json(report).into_response()
    })
}
