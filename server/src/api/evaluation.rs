//! `GET /evaluation`: the region's de-identified figures ([`crate::evaluation`]) for ROPS
//! coordinators (and admins) while the server runs, as JSON or CSV, for the whole region or one
//! PZK, gmina or powiat and a range of months; every export is audited. The dashboard of the
//! case app (`/app/#/ewaluacja`) draws them.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::caller::caller;
use crate::error::{ApiError, ServerError};
use crate::evaluation::{self, Figures, Filter};
use crate::identity::Role;
use crate::state::AppState;

/// The export's options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct Options {
    /// `json` (the default) or `csv`.
    format: Option<String>,
    /// A larger smallest group than the server's (never a smaller one).
    min_group: Option<usize>,
    /// Only this PZK (its id).
    pzk: Option<String>,
    /// Only this gmina (TERYT code, 7 digits).
    gmina: Option<String>,
    /// Only this powiat (TERYT code, 4 digits).
    powiat: Option<String>,
    /// From this month (`YYYY-MM`), inclusive.
    from: Option<String>,
    /// Up to this month (`YYYY-MM`), inclusive.
    to: Option<String>,
}

/// The figures of the whole region.
#[utoipa::path(
    get,
    path = "/api/v1/evaluation",
    tag = "evaluation",
    summary = "Ewaluacja: zanonimizowane wskaźniki według PZK, gminy, powiatu i miesiąca",
    params(Options),
    responses(
        (status = 200, body = Figures, description = "JSON; z `format=csv` plik CSV"),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, body = crate::api::schemas::ErrorBody),
        (status = 403, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn figures(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(options): Query<Options>,
) -> Result<Response, ApiError> {
    let user = caller(&state, &headers).await?;
    if !user
        .roles
        .iter()
        .any(|r| matches!(r, Role::Coordinator | Role::Admin))
    {
        return Err(ApiError::forbidden(
            "the evaluation is for ROPS coordinators and admins",
        ));
    }
    let format = options.format.unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(ApiError::bad_request("format is json or csv"));
    }
    let min_group = options
        .min_group
        .unwrap_or(0)
        .max(state.evaluation_min_group);
    let filter = Filter {
        pzk: options.pzk,
        gmina: options.gmina,
        powiat: options.powiat,
        from: options.from,
        to: options.to,
    };
    filter.check()?;
    let scope = serde_json::json!({
        "pzk": filter.pzk, "gmina": filter.gmina, "powiat": filter.powiat,
        "from": filter.from, "to": filter.to,
    });
    let (storage, registry, directory) = (
        state.storage.clone(),
        state.registry.clone(),
        state.directory.clone(),
    );
    let figures = tokio::task::spawn_blocking(move || {
        evaluation::figures(
            &storage,
            &registry,
            &directory,
            chrono::Utc::now(),
            min_group,
            &filter,
        )
    })
    .await
    .map_err(|e| ServerError::Corrupt(e.to_string()))??;
    state.registry.audit().note(
        "evaluation-export",
        Some(&user.login),
        None,
        None,
        serde_json::json!({
            "format": format, "min_group": min_group, "cells": figures.cells.len(), "scope": scope,
        }),
    );
    Ok(if format == "csv" {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            evaluation::to_csv(&figures),
        )
            .into_response()
    } else {
        Json(figures).into_response()
    })
}
