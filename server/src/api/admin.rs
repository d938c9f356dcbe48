//! `/admin/...`: what an admin does on a running server: users, devices and their revocation,
//! online backups, erasure.

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use tokio::sync::oneshot;

use super::caller::admin;
use crate::error::{ApiError, ServerError};
use crate::hub::Command;
use crate::identity::{random_device_secret, Enrolment, Role, Rotation, User};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewUser {
    login: String,
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    institution: Option<String>,
}

/// Adds a user (with roles and an institution).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    summary = "Dodaje użytkownika",
    request_body = NewUser,
    responses(
        (status = 200, body = User),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewUser>,
) -> Result<Json<User>, ApiError> {
    let by = admin(&state, &headers).await?;
    let roles = Role::parse_all(&body.roles)?;
    let mut user = state.directory.add_user(&body.login, &body.name, roles)?;
    if let Some(i) = &body.institution {
        user = state.directory.set_institution(&body.login, i)?;
    }
    state.registry.reload_directory()?;
    state.registry.audit().note(
        "user-added",
        Some(&body.login),
        None,
        None,
        serde_json::json!({ "by": by.login }),
    );
    Ok(Json(user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewDevice {
    user: String,
}

/// Enrols a device for a user and returns its token.
#[utoipa::path(
    post,
    path = "/api/v1/admin/devices",
    tag = "admin",
    summary = "Rejestruje urządzenie użytkownika",
    request_body = NewDevice,
    responses(
        (status = 200, body = Enrolment),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewDevice>,
) -> Result<Json<Enrolment>, ApiError> {
    let by = admin(&state, &headers).await?;
    let enrolled = state.directory.enroll(&body.user, random_device_secret())?;
    state.registry.audit().note(
        "enrol",
        Some(&body.user),
        Some(&enrolled.device_id),
        None,
        serde_json::json!({ "by": by.login }),
    );
    Ok(Json(enrolled))
}

/// Revokes a device and closes its connections at once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/devices/{device}/revoke",
    tag = "admin",
    summary = "Odwołuje urządzenie",
    params(("device" = String, Path, description = "Identyfikator urządzenia")),
    responses(
        (status = 200, body = crate::api::schemas::Revoked),
        (status = 404, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(device): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let revoked = state.directory.revoke(&device)?;
    state.registry.audit().note(
        "revoke",
        Some(&revoked.user),
        Some(&device),
        None,
        serde_json::json!({ "by": by.login }),
    );
    let (ack, closed) = oneshot::channel();
    state
        .hub
        .send(Command::DropDevice(device.clone(), ack))
        .await;
    let closed = closed.await.unwrap_or(0);
    Ok(Json(
        serde_json::json!({ "device": revoked, "connections_closed": closed }),
    ))
}

/// An online backup: the hub pauses (no document or audit writes start) while the store is
/// copied, encrypted with the backup key ([`crate::backup`]), into `data_dir/backups/`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/backup",
    tag = "admin",
    summary = "Kopia zapasowa w trakcie pracy",
    responses(
        (status = 200, body = crate::api::schemas::BackupDone),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
        (status = 503, body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn backup(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let key = state.backup_key.clone().ok_or_else(|| {
        ApiError::unavailable(
            "backups are off: start the server with --backup-key-file (a 32-byte key as 64 \
             hex digits, kept apart from the backups)",
        )
    })?;
    let (paused_tx, paused) = oneshot::channel();
    let (resume, resume_rx) = oneshot::channel();
    if !state.hub.send(Command::Pause(paused_tx, resume_rx)).await {
        return Err(ApiError::unavailable("the server is stopping"));
    }
    paused
        .await
        .map_err(|_| ApiError::unavailable("the server is stopping"))?;
    let dir = state.data_dir.join("backups");
    let file = dir.join(format!(
        "backup-{}.kbk",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let storage = state.storage.clone();
    let (target, data_dir) = (file.clone(), state.data_dir.clone());
    let copied = tokio::task::spawn_blocking(move || {
        crate::secrets::create_private_dir(&dir)?;
        crate::backup::write_store(storage.inner(), &data_dir, &target, &key)
    })
    .await;
    let _ = resume.send(());
    let entries = copied.map_err(|_| ApiError::unavailable("the backup failed to run"))??;
    state.registry.audit().note(
        "backup",
        Some(&by.login),
        None,
        None,
        serde_json::json!({ "file": file.display().to_string(), "entries": entries }),
    );
    Ok(Json(
        serde_json::json!({ "backup": file.display().to_string(), "entries": entries }),
    ))
}

/// Replaces the key that signs access tokens (`admin token rotate-key` on a running server):
/// tokens signed by the old key keep working until they expire.
#[utoipa::path(
    post,
    path = "/api/v1/admin/token-keys/rotate",
    tag = "admin",
    summary = "Wymienia klucz podpisujący tokeny",
    responses(
        (status = 200, body = Rotation),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn rotate_token_key(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Rotation>, ApiError> {
    let by = admin(&state, &headers).await?;
    let directory = state.directory.clone();
    let rotation = tokio::task::spawn_blocking(move || directory.rotate_signing_key())
        .await
        .map_err(|_| ApiError::unavailable("the rotation failed to run"))??;
    state.registry.audit().note(
        "token-key-rotated",
        Some(&by.login),
        None,
        None,
        serde_json::json!({ "key_id": rotation.key_id }),
    );
    Ok(Json(rotation))
}

/// Erases a case (GDPR art. 17 where the law allows): its history leaves the store, its id is
/// tombstoned so no device can upload it again, devices holding it are told it is unavailable
/// (tablets drop it when the server no longer lists it), and the audit log keeps only that an
/// erasure happened.
#[utoipa::path(
    post,
    path = "/api/v1/admin/documents/{document}/erase",
    tag = "admin",
    summary = "Usuwa sprawę (art. 17 RODO)",
    params(("document" = String, Path, description = "Identyfikator dokumentu (bs58check)")),
    responses(
        (status = 200, body = crate::api::schemas::Erased),
        (status = 400, body = crate::api::schemas::ErrorBody),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(document): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let by = admin(&state, &headers).await?;
    let id = sync_core::DocumentId::parse(&document)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    // A case's justice documents (police and court information) go with it.
    for erased in state.registry.erase(id, &by.login)? {
        let blobs = state.blobs.clone();
        tokio::task::spawn_blocking(move || blobs.erase_document(erased))
            .await
            .map_err(|e| ServerError::Corrupt(e.to_string()))??;
        let (ack, done) = oneshot::channel();
        if !state.hub.send(Command::Erase(erased, ack)).await {
            return Err(ApiError::unavailable("the server is stopping"));
        }
        done.await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?
            .map_err(ServerError::from)?;
    }
    Ok(Json(serde_json::json!({ "erased": id.to_string() })))
}

/// `POST /admin/attachments/collect`: deletes now the blobs no case refers to that are older
/// than the grace period (the server also does it every hour).
#[utoipa::path(
    post,
    path = "/api/v1/admin/attachments/collect",
    tag = "admin",
    summary = "Usuwa osierocone załączniki",
    responses(
        (status = 200, body = crate::blobs::gc::Collected),
        (status = 401, description = "Brak, nieznany, wygasły lub odwołany token", body = crate::api::schemas::ErrorBody),
        (status = 403, description = "Rola lub dostęp nie pozwala", body = crate::api::schemas::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn collect_attachments(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<crate::blobs::gc::Collected>, ApiError> {
    admin(&state, &headers).await?;
    let blobs = state.blobs.clone();
    let now = chrono::Utc::now().timestamp();
    let done = tokio::task::spawn_blocking(move || blobs.collect_orphans(now))
        .await
        .map_err(|e| ServerError::Corrupt(e.to_string()))??;
    Ok(Json(done))
}
