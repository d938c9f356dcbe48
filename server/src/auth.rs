//! Bearer tokens: the one place a request's token is read (the `Authorization` header, or the
//! WebSocket's `?token=` for browsers that cannot set headers) and checked against the
//! directory, with what a client is told when it does not authenticate a device.

use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::identity::{Authenticated, Directory};

/// What a revoked device is told (the SDK wipes its local data when it reads "revoked").
pub const REVOKED_MESSAGE: &str = "this device was revoked: wipe its local data";

/// What a device with an expired access token is told.
pub const EXPIRED_MESSAGE: &str =
    "the access token has expired; get a new one with POST /api/v1/token";

/// What a client with a token the server does not know is told.
pub const UNKNOWN_MESSAGE: &str = "unknown device token";

/// The bearer token from `Authorization` or, when given, `?token=`.
pub fn bearer(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .or_else(|| query.map(str::to_string))
}

/// Checks a token against the directory, off the async executor (hashing and lookups block).
pub async fn authenticate(directory: &Directory, token: String) -> Result<Authenticated, ApiError> {
    let directory = directory.clone();
    tokio::task::spawn_blocking(move || directory.authenticate(&token))
        .await
        .map_err(|_| ApiError::unavailable("authentication failed to run"))?
        .map_err(ApiError::from)
}
