//! `/documents/{document}/attachments/{sha256}`: a case's attachments, under the case's access.
//!
//! - `PUT` uploads a range (`Content-Range: bytes START-END/SIZE`, or the whole file with only
//!   `Content-Length`); resumable and idempotent (a range may repeat bytes already received, it
//!   may not leave a gap: `409` with the offset to resume from). Answers the blob's status.
//! - `GET …/status` (and `HEAD`): `{received, size, complete, mime}` and `Upload-Offset`.
//! - `GET` downloads an accepted blob, with `Range: bytes=…` (`206`).
//!
//! Writing needs write access to the case, reading read access; a case the caller may not read,
//! an erased case and a blob that is not there all answer the same `404`. Every upload request
//! and every download is audited.

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Serialize;
use sync_core::engine::Access;
use sync_core::model::case::is_sha256_hex;
use sync_core::DocumentId;

use super::caller::caller;
use crate::blobs::upload::{Refusal, Writer};
use crate::blobs::{BlobId, Meta};
use crate::error::{ApiError, ServerError};
use crate::identity::User;
use crate::state::AppState;

/// What an unknown, forbidden or erased attachment answers.
const UNKNOWN: &str = "nie ma takiego załącznika";
/// Bytes gathered from the request before they are handed to the store.
const GATHER: usize = 64 * 1024;

/// A blob's status as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Status {
    received: u64,
    size: Option<u64>,
    complete: bool,
    mime: Option<String>,
}

impl Status {
    fn of(meta: Option<&Meta>) -> Self {
        Self {
            received: meta.map_or(0, |m| m.received),
            size: meta.map(|m| m.size),
            complete: meta.is_some_and(|m| m.complete),
            mime: meta.and_then(|m| m.mime.clone()),
        }
    }

    fn respond(self, status: StatusCode) -> Response {
        let offset = HeaderValue::from(self.received);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert("upload-offset", offset);
        response
    }
}

/// The caller, the blob and what the caller may do with its case (`None` answered as unknown).
async fn open(
    state: &AppState,
    headers: &HeaderMap,
    document: &str,
    sha256: &str,
) -> Result<(User, BlobId, Access), ApiError> {
    let user = caller(state, headers).await?;
    let document = DocumentId::parse(document).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !is_sha256_hex(sha256) {
        return Err(ApiError::bad_request(
            "the attachment's name is its SHA-256: 64 lowercase hex digits",
        ));
    }
    let mut hash = [0u8; 32];
    hex::decode_to_slice(sha256, &mut hash).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let access = state.registry.access_of(&user.login, &document, true);
    if access == Access::None {
        return Err(ApiError::not_found(UNKNOWN));
    }
    let id = BlobId {
        document,
        sha256: hash,
    };
    Ok((user, id, access))
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::from(ServerError::Corrupt(e.to_string())))
}

/// `GET …/status`.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{document}/attachments/{sha256}/status",
    tag = "attachments",
    summary = "Stan przesyłania załącznika",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)"), ("sha256" = String, Path, description = "SHA-256 pliku, 64 cyfry szesnastkowe")),
    responses(
        (status = 200, body = Status, headers(("upload-offset" = u64))),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath((document, sha256)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id, _) = open(&state, &headers, &document, &sha256).await?;
    let blobs = state.blobs.clone();
    let meta = blocking(move || blobs.meta(&id)).await??;
    Ok(Status::of(meta.as_ref()).respond(StatusCode::OK))
}

/// `START` and `SIZE` of `Content-Range: bytes START-END/SIZE`, or of a whole body.
fn range_of(headers: &HeaderMap) -> Result<(u64, u64), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "give Content-Range: bytes START-END/SIZE (or the whole file with Content-Length)",
        )
    };
    let number = |text: &str| text.trim().parse::<u64>().map_err(|_| bad());
    match headers.get(header::CONTENT_RANGE) {
        Some(value) => {
            let text = value.to_str().map_err(|_| bad())?;
            let rest = text.strip_prefix("bytes ").ok_or_else(bad)?;
            let (range, size) = rest.split_once('/').ok_or_else(bad)?;
            let size = number(size)?;
            if let Some(start) = range.split_once('-').map(|(s, _)| s) {
                return Ok((number(start)?, size));
            }
            // `bytes */SIZE`: an empty body that asks for the status.
            if range == "*" {
                return Ok((0, size));
            }
            Err(bad())
        }
        None => {
            let length = headers.get(header::CONTENT_LENGTH).ok_or_else(bad)?;
            Ok((0, number(length.to_str().map_err(|_| bad())?)?))
        }
    }
}

fn refused(state: &AppState, user: &User, id: &BlobId, refusal: Refusal) -> ApiError {
    let status = match &refusal {
        Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::SizeChanged(_) | Refusal::Gap(_) | Refusal::Busy => StatusCode::CONFLICT,
        Refusal::Type => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Refusal::Hash => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
        Refusal::Store(_) => {
            let Refusal::Store(e) = refusal else {
                unreachable!()
            };
            return e.into();
        }
    };
    state.registry.audit().note(
        "attachment_refused",
        Some(&user.login),
        None,
        Some(id.document.to_string()),
        serde_json::json!({ "sha256": hex::encode(id.sha256), "reason": refusal.to_string() }),
    );
    ApiError::status(status, refusal.to_string())
}

/// `PUT …`: one range of an upload.
#[utoipa::path(
    put,
    path = "/api/v1/documents/{document}/attachments/{sha256}",
    tag = "attachments",
    summary = "Przesyła zakres pliku (wznawialne)",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)"), ("sha256" = String, Path, description = "SHA-256 pliku, 64 cyfry szesnastkowe")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = Status),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
        (status = 409, body = crate::api::schemas::ErrorBody),
        (status = 413, body = crate::api::schemas::ErrorBody),
        (status = 415, body = crate::api::schemas::ErrorBody),
        (status = 422, body = crate::api::schemas::ErrorBody),
        (status = 507, description = "Dysk serwera pełny; wysyłanie wznowić później", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath((document, sha256)): UrlPath<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let (user, id, access) = open(&state, &headers, &document, &sha256).await?;
    if access != Access::ReadWrite {
        return Err(ApiError::forbidden(
            "Możesz tylko czytać tę sprawę: załączniki dodaje ktoś, kto ją prowadzi.",
        ));
    }
    let (start, size) = range_of(&headers)?;
    if size > state.blobs.limit {
        let refusal = Refusal::TooLarge {
            size,
            limit: state.blobs.limit,
        };
        return Err(refused(&state, &user, &id, refusal));
    }
    let key = state.blobs.writing_key(id.document).await?;
    let (blobs, login) = (state.blobs.clone(), user.login.clone());
    let now = chrono::Utc::now().timestamp();
    let begun = blocking(move || Writer::begin(&blobs, id, key, size, &login, now)).await?;
    let mut writer = begun.map_err(|r| refused(&state, &user, &id, r))?;
    if writer.meta.complete {
        return Ok(Status::of(Some(&writer.meta)).respond(StatusCode::OK));
    }
    let received = writer.meta.received;
    if start > received {
        return Err(refused(&state, &user, &id, Refusal::Gap(received)));
    }
    let mut skip = received - start;
    let mut stream = body.into_data_stream();
    let mut gathered: Vec<u8> = Vec::with_capacity(GATHER);
    let mut cut = false;
    loop {
        let frame = stream.next().await;
        let end = match frame {
            Some(Ok(bytes)) => {
                let bytes = drop_prefix(bytes, &mut skip);
                gathered.extend_from_slice(&bytes);
                false
            }
            Some(Err(_)) => {
                cut = true;
                true
            }
            None => true,
        };
        if gathered.len() >= GATHER || (end && !gathered.is_empty()) {
            let chunk = std::mem::replace(&mut gathered, Vec::with_capacity(GATHER));
            let (back, pushed) = blocking(move || {
                let pushed = writer.push(&chunk);
                (writer, pushed)
            })
            .await?;
            writer = back;
            if let Err(refusal) = pushed {
                return Err(refused(&state, &user, &id, refusal));
            }
        }
        if end {
            break;
        }
    }
    let from = received;
    let finished = blocking(move || writer.finish()).await?;
    let meta = finished.map_err(|r| refused(&state, &user, &id, r))?;
    state.registry.audit().note(
        if meta.complete {
            "attachment_uploaded"
        } else {
            "attachment_upload_part"
        },
        Some(&user.login),
        None,
        Some(id.document.to_string()),
        serde_json::json!({
            "sha256": hex::encode(id.sha256),
            "from": from,
            "received": meta.received,
            "size": meta.size,
            "cut": cut,
        }),
    );
    Ok(Status::of(Some(&meta)).respond(StatusCode::OK))
}

fn drop_prefix(bytes: Bytes, skip: &mut u64) -> Bytes {
    let dropped = (*skip).min(bytes.len() as u64) as usize;
    *skip -= dropped as u64;
    bytes.slice(dropped..)
}

/// `GET …`: the blob, whole or a `Range: bytes=…`.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{document}/attachments/{sha256}",
    tag = "attachments",
    summary = "Pobiera załącznik (także zakres)",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)"), ("sha256" = String, Path, description = "SHA-256 pliku, 64 cyfry szesnastkowe")),
    responses(
        (status = 200, description = "Plik", content_type = "application/octet-stream"),
        (status = 206, description = "Zakres pliku"),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 404, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath((document, sha256)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (user, id, _) = open(&state, &headers, &document, &sha256).await?;
    let Some(key) = state.blobs.reading_key(id.document).await? else {
        return Err(ApiError::not_found(UNKNOWN));
    };
    let blobs = state.blobs.clone();
    let meta = blocking(move || blobs.meta(&id)).await??;
    let Some(meta) = meta.filter(|m| m.complete) else {
        return Err(ApiError::not_found(UNKNOWN));
    };
    let range = super::attachment_range::requested(&headers, meta.size)?;
    state.registry.audit().note(
        "attachment_downloaded",
        Some(&user.login),
        None,
        Some(id.document.to_string()),
        serde_json::json!({
            "sha256": hex::encode(id.sha256),
            "from": range.as_ref().map_or(0, |r| r.start),
            "to": range.as_ref().map_or(meta.size, |r| r.end),
        }),
    );
    Ok(super::attachment_range::respond(
        state.blobs.clone(),
        id,
        key,
        &meta,
        range,
    ))
}
