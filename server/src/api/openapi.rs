//! `GET /api/v1/openapi.json`: the REST API described in OpenAPI 3.1, generated from the code
//! with utoipa: each handler carries its `#[utoipa::path]` (method, path, parameters, answers)
//! and each body type derives `ToSchema`; [`ApiDoc`] gathers them. The tests check that every
//! route the router serves is described here and that answers match their schemas.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole API (`/sync`, health, the web pages and `/api/v1`).
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Kooperacja",
        description = "Serwer regionalny Modelu Kooperacji: synchronizacja spraw i dokumentów PZK \
                       (automerge-repo przez WebSocket na /sync) oraz API HTTP.",
        license(name = "EUPL-1.2")
    ),
    paths(
        crate::ws::sync,
        crate::health::alive,
        crate::health::ready,
        crate::health::metrics_text,
        crate::web::page,
        meeting_page,
        crate::web::app_root,
        crate::web::app,
        crate::web::app_route,
        crate::web::asset,
        document,
        super::me::who_am_i,
        super::me::my_documents,
        super::tokens::redeem,
        super::tokens::access_token,
        super::admin::add_user,
        super::admin::enroll,
        super::admin::revoke,
        super::admin::backup,
        super::admin::rotate_token_key,
        super::admin::erase,
        super::admin::collect_attachments,
        super::documents::assign,
        super::documents::unassign,
        super::attachments::status,
        super::attachments::upload,
        super::attachments::download,
        super::evaluation::figures,
        super::access_report::report,
        super::retention::schedule,
        super::retention::hold,
        super::retention::lift_hold,
        super::retention::sweep,
    ),
    components(schemas(super::schemas::DocumentEntry, super::schemas::AccessLevel)),
    modifiers(&BearerToken),
    tags(
        (name = "sync", description = "Synchronizacja dokumentów"),
        (name = "health", description = "Stan serwera"),
        (name = "web", description = "Strony w przeglądarce"),
        (name = "me", description = "Wywołujący"),
        (name = "tokens", description = "Rejestracja urządzeń i tokeny"),
        (name = "admin", description = "Administracja"),
        (name = "documents", description = "Przydziały do spraw"),
        (name = "attachments", description = "Załączniki spraw"),
        (name = "evaluation", description = "Ewaluacja modelu (ROPS)"),
        (name = "retention", description = "Retencja zakończonych spraw"),
        (name = "openapi", description = "Ten opis"),
    )
)]
pub struct ApiDoc;

/// The bearer token (a device token or a short-lived access token) that most routes need.
#[derive(Debug)]
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Token urządzenia (`kt_…`) albo krótkotrwały token dostępu (`kat_…`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "openapi",
    summary = "Opis API w OpenAPI 3.1",
    responses((status = 200, description = "Dokument OpenAPI", content_type = "application/json"))
)]
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The meeting page's routes (the same page as `/`; described here as axum routes it too).
#[utoipa::path(
    get,
    path = "/meeting/{route}",
    tag = "web",
    summary = "Strona spotkania PZK",
    params(("route" = String, Path, description = "Ścieżka spotkania")),
    responses((status = 200, description = "HTML", content_type = "text/html"))
)]
#[allow(dead_code)]
fn meeting_page() {}
