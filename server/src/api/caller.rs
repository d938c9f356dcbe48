//! Who calls the API: the user behind the request's bearer token, and whether they are an admin.

use axum::http::HeaderMap;

use crate::auth;
use crate::error::ApiError;
use crate::identity::{Authenticated, Role, User};
use crate::state::AppState;

/// The user whose device (or access) token the request carries.
pub(super) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = auth::bearer(headers, None)
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
    match auth::authenticate(&state.directory, token).await? {
        Authenticated::Device(user, _) => Ok(user),
        Authenticated::Revoked(_) => Err(ApiError::unauthorized(auth::REVOKED_MESSAGE)),
        Authenticated::Expired => Err(ApiError::unauthorized(auth::EXPIRED_MESSAGE)),
        Authenticated::Unknown => Err(ApiError::unauthorized(auth::UNKNOWN_MESSAGE)),
    }
}

/// The caller, who must have the admin role.
pub(super) async fn admin(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let user = caller(state, headers).await?;
    if !user.roles.contains(&Role::Admin) {
        return Err(ApiError::forbidden("this needs the admin role"));
    }
    Ok(user)
}
