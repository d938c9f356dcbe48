//! The HTTP API under `/api/v1`: [`me`] (the caller's profile and documents), [`tokens`]
//! (enrolment with a code, short-lived access tokens), [`documents`] (assignments) and
//! [`admin`] (provisioning, revocation, backup, erasure). Each handler learns who calls from
//! [`caller`].

mod admin;
mod caller;
mod documents;
mod me;
mod tokens;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me::who_am_i))
        .route("/me/documents", get(me::my_documents))
        .route("/enroll", post(tokens::redeem))
        .route("/token", post(tokens::access_token))
        .route("/admin/users", post(admin::add_user))
        .route("/admin/devices", post(admin::enroll))
        .route("/admin/devices/{device}/revoke", post(admin::revoke))
        .route("/admin/backup", post(admin::backup))
        .route("/admin/token-keys/rotate", post(admin::rotate_token_key))
        .route("/admin/documents/{document}/erase", post(admin::erase))
        .route("/documents/{document}/assign", post(documents::assign))
        .route("/documents/{document}/unassign", post(documents::unassign))
}
