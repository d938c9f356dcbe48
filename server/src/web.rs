//! The web pages: the bundle that Vite builds from `web/` into `web/dist/`, embedded in the
//! binary (so `cargo run -p kooperacja-server -- serve` needs no Node). The remote PZK meeting
//! page is served at `/` and `/meeting/{document}/{meeting}`; the case app at `/app/` (its
//! routes under `/app/…` all get the app's page, its own files there — the service worker
//! `sw.js`, the manifest, the icons — themselves); `/assets/…` holds the code, styles and the
//! Automerge wasm of both.
//!
//! Asset names carry a content hash, so they are cached for a year; the page is revalidated on
//! every load (ETag). Names are looked up in the embedded table only, and a name with `..`,
//! `\`, an empty segment or a leading `/` is refused before the lookup, so no request reaches
//! the file system. Every response carries a Content Security Policy that allows only the
//! page's own scripts, styles and connections (`'wasm-unsafe-eval'` lets it compile the
//! Automerge wasm; nothing allows inline or evaluated JavaScript).

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::Embed;

use crate::error::ApiError;

/// The built bundle (`web/dist/`, committed; rebuilt with `npm run build` in `web/`).
#[derive(Embed)]
#[folder = "../web/dist/"]
struct Bundle;

/// The page's Content Security Policy.
/// `worker-src` lets the case app register its service worker (same origin only) and
/// `manifest-src` lets browsers read its web app manifest; `blob:` images and frames are the
/// case app's attachments, decrypted from its store into object URLs of this origin.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; frame-src blob:; connect-src 'self'; \
     worker-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How long browsers keep a content-hashed asset.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /` and `GET /meeting/…`: the page (it reads its route from the address).
#[utoipa::path(
    get,
    path = "/",
    tag = "web",
    summary = "Strona spotkania PZK",
    responses(
        (status = 200, description = "HTML", content_type = "text/html"),
    ),
)]
pub async fn page(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /app`: the case app lives at `/app/` (its service worker's scope).
#[utoipa::path(
    get,
    path = "/app",
    tag = "web",
    summary = "Przekierowanie do aplikacji",
    responses(
        (status = 308, description = "Do /app/"),
    ),
)]
pub async fn app_root() -> Response {
    Redirect::permanent("/app/").into_response()
}

/// `GET /app/`: the case app's page.
#[utoipa::path(
    get,
    path = "/app/",
    tag = "web",
    summary = "Aplikacja spraw",
    responses(
        (status = 200, description = "HTML", content_type = "text/html"),
    ),
)]
pub async fn app(headers: HeaderMap) -> Response {
    serve("app/index.html", &headers)
}

/// `GET /app/{route}`: a file of the case app (`sw.js`, the manifest, an icon), or else the
/// app's page (it reads its route from the address).
#[utoipa::path(
    get,
    path = "/app/{route}",
    tag = "web",
    summary = "Ekran aplikacji spraw",
    params(("route" = String, Path, description = "Ścieżka ekranu")),
    responses(
        (status = 200, description = "HTML lub plik aplikacji"),
    ),
)]
pub async fn app_route(Path(route): Path<String>, headers: HeaderMap) -> Response {
    let name = format!("app/{route}");
    if is_plain(&name) && Bundle::get(&name).is_some() {
        serve(&name, &headers)
    } else {
        serve("app/index.html", &headers)
    }
}

/// `GET /assets/{path}`: a file of the bundle.
#[utoipa::path(
    get,
    path = "/assets/{path}",
    tag = "web",
    summary = "Pliki strony spotkania",
    params(("path" = String, Path, description = "Ścieżka pliku")),
    responses(
        (status = 200, description = "Plik"), (status = 404, description = "Brak pliku"),
    ),
)]
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("assets/{path}"), &headers)
}

/// Whether `name` is a plain relative name: no `..`, no `\`, no empty segment, no leading `/`.
fn is_plain(name: &str) -> bool {
    !name.contains('\\')
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// The content type of a bundle file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let file = match is_plain(name).then(|| Bundle::get(name)).flatten() {
        Some(file) => file,
        None => return ApiError::not_found("no such file").into_response(),
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if name.starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(file.data))
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if !fresh {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(name)),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    if name == SERVICE_WORKER {
        // The meeting page registers the same worker for `/meeting/`, outside the folder of
        // its script: the browser allows that only when the script's answer says so. The
        // header sets the widest scope any registration may ask for (it replaces the default,
        // `/app/`, so it must cover both); each page still asks for its own.
        headers.insert(
            "service-worker-allowed",
            HeaderValue::from_static(SERVICE_WORKER_MAX_SCOPE),
        );
    }
    secure(headers);
    response
}

/// The service worker's file in the bundle.
const SERVICE_WORKER: &str = "app/sw.js";
/// The widest scope a registration of the service worker may ask for: the case app registers
/// it for `/app/`, the meeting page for `/meeting/`, which open offline alike.
pub const SERVICE_WORKER_MAX_SCOPE: &str = "/";

/// The security headers of every response of the page.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_looked_up() {
        assert!(is_plain("index.html") && is_plain("assets/index-abc.js"));
        for name in [
            "../Cargo.toml",
            "assets/../../x",
            "/etc/passwd",
            "assets//x",
            "a\\b",
            ".",
        ] {
            assert!(!is_plain(name), "{name}");
        }
    }

    #[test]
    fn the_bundle_has_the_page_and_wasm_is_served_as_wasm() {
        assert!(Bundle::get("index.html").is_some(), "web/dist is built");
        for name in ["app/index.html", "app/sw.js", "app/manifest.webmanifest"] {
            assert!(Bundle::get(name).is_some(), "the case app's {name}");
        }
        assert_eq!(
            content_type("app/manifest.webmanifest"),
            "application/manifest+json"
        );
        let wasm = Bundle::iter().find(|n| n.ends_with(".wasm"));
        let wasm = wasm.expect("the Automerge wasm is a file of its own");
        assert_eq!(content_type(&wasm), "application/wasm");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    }

    #[tokio::test]
    async fn traversal_is_not_found_and_a_known_etag_is_not_modified() {
        let traversal = asset(Path("../../Cargo.toml".into()), HeaderMap::new()).await;
        assert_eq!(traversal.status(), StatusCode::NOT_FOUND);
        let first = page(HeaderMap::new()).await;
        assert_eq!(first.status(), StatusCode::OK);
        let csp = first.headers().get(header::CONTENT_SECURITY_POLICY);
        assert!(csp.is_some_and(|v| v.as_bytes().windows(18).any(|w| w == b"'wasm-unsafe-eval'")));
        let etag = first.headers().get(header::ETAG).cloned().expect("etag");
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(page(again).await.status(), StatusCode::NOT_MODIFIED);
    }
}
