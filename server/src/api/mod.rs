//! The HTTP API under `/api/v1`: [`me`] (the caller's profile and documents), [`tokens`]
//! (enrolment with a code, short-lived access tokens), [`documents`] (assignments) and
//! [`admin`] (provisioning, revocation, backup, erasure), [`attachments`] (a case's files) and
//! [`retention`] (the schedule, legal holds, the sweep). Each handler learns who calls from
//! [`caller`]. [`openapi`] describes them all (`/openapi.json`), [`schemas`] the JSON answers
//! handlers build by hand.

mod access_report;
mod admin;
mod attachment_range;
mod attachments;
mod caller;
mod documents;
mod evaluation;
mod me;
pub mod openapi;
mod retention;
pub(crate) mod schemas;
mod tokens;

use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/evaluation", get(evaluation::figures))
        .route("/retention", get(retention::schedule))
        .route(
            "/admin/documents/{document}/retention-hold",
            put(retention::hold).delete(retention::lift_hold),
        )
        .route("/admin/retention/sweep", post(retention::sweep))
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
        .route(
            "/admin/documents/{document}/access-report",
            get(access_report::report),
        )
        .route("/documents/{document}/assign", post(documents::assign))
        .route("/documents/{document}/unassign", post(documents::unassign))
        .route(
            "/documents/{document}/attachments/{sha256}",
            put(attachments::upload).get(attachments::download),
        )
        .route(
            "/documents/{document}/attachments/{sha256}/status",
            get(attachments::status),
        )
        .route(
            "/admin/attachments/collect",
            post(admin::collect_attachments),
        )
}
