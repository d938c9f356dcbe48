//! The REST API described in OpenAPI (`GET /api/v1/openapi.json`): every route the server's
//! routers serve is in the document, every route the document names is served, and the answers
//! of the main endpoints match the document's schemas (checked with a JSON Schema validator).

use std::collections::BTreeSet;
use std::path::Path;

use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value};

/// The document as the running server serves it.
async fn openapi(server: &RunningServer) -> Value {
    let answer = http_get(server.addr, "/api/v1/openapi.json", None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).expect("the document is JSON")
}

/// `(METHOD, path)` of every operation the document describes.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// `(METHOD, path)` of every `.route("…", get(…).post(…))` in the server's source: routes of
/// `server/src/api/` are nested under `/api/v1`; `{*rest}` is written `{rest}` in OpenAPI.
fn routed_in_source() -> BTreeSet<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut out = BTreeSet::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).expect("source");
        let prefix = if file.starts_with(root.join("api")) {
            "/api/v1"
        } else {
            ""
        };
        for (path, methods) in routes_in(&text) {
            let path = format!("{prefix}{}", path.replace("{*", "{"));
            for method in methods {
                out.insert((method, path.clone()));
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The routes of one source file: the path literal after each `.route(` and the methods named
/// inside the call's parentheses.
fn routes_in(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (start, _) in text.match_indices(".route(") {
        let call = &text[start + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(call.len(), |(i, _)| i);
        let call = &call[..end];
        let Some(path) = call.split('"').nth(1) else {
            continue;
        };
        let methods = ["get", "post", "put", "delete", "patch"]
            .iter()
            .filter(|m| {
                call.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0
                        || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                            && call.as_bytes()[i - 1] != b'_'
                })
            })
            .map(|m| m.to_uppercase())
            .collect();
        out.push((path.to_string(), methods));
    }
    out
}

/// Checks `body` against the schema the document gives for `METHOD path` answering `status`.
fn check(doc: &Value, method: &str, path: &str, status: u16, body: &str) -> Result<(), String> {
    let schema = &doc["paths"][path][method.to_lowercase()]["responses"][status.to_string()]
        ["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Err(format!("no JSON schema for {method} {path} {status}"));
    }
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        object.insert("components".into(), doc["components"].clone());
    }
    let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{method} {path} {status}: {errors:?} in {body}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_the_server_serves_is_in_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let doc = openapi(&server).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let routed = routed_in_source();
    assert!(
        routed.contains(&("GET".into(), "/api/v1/me".into())),
        "the source scan finds the routes: {routed:?}"
    );
    let described = described(&doc);
    let missing: Vec<_> = routed.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "routes served but not described: {missing:?}"
    );
    let extra: Vec<_> = described.difference(&routed).collect();
    assert!(extra.is_empty(), "described but not routed: {extra:?}");
    server.shutdown().await.expect("shutdown");
}

/// Each described operation, asked without a token, reaches a handler: the router's own
/// "no such route" (404 with an empty body) or "wrong method" (405) never answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_described_route_reaches_a_handler() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let doc = openapi(&server).await;
    for (method, path) in described(&doc) {
        let concrete = path
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("tcp");
        let answer = http_exchange(tcp, &method, &concrete, None, "").await;
        assert_ne!(answer.status, 405, "{method} {path}");
        assert!(
            answer.status != 404 || !answer.body.is_empty(),
            "{method} {path}: the router has no such route"
        );
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_of_the_main_endpoints_match_their_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    provision_region(&server);
    let doc = openapi(&server).await;
    let admin = admin_token(&server, "admin");
    let anna = enroll(&server, "anna").token;

    let me = http_get(server.addr, "/api/v1/me", Some(&anna)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    check(&doc, "GET", "/api/v1/me", 200, &me.body).expect("profile");
    let mine = http_get(server.addr, "/api/v1/me/documents", Some(&anna)).await;
    check(&doc, "GET", "/api/v1/me/documents", 200, &mine.body).expect("documents");
    let (status, body) = http_post(server.addr, "/api/v1/token", Some(&anna), "").await;
    assert_eq!(status, 200, "{body}");
    check(&doc, "POST", "/api/v1/token", 200, &body).expect("access token");

    let new_user =
        json!({"login": "ewa", "name": "Ewa", "roles": ["social-worker"], "institution": "gops"});
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/users",
        Some(&admin),
        &new_user.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    check(&doc, "POST", "/api/v1/admin/users", 200, &body).expect("user");
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/devices",
        Some(&admin),
        &json!({"user": "ewa"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    check(&doc, "POST", "/api/v1/admin/devices", 200, &body).expect("enrolment");
    let device: Value = serde_json::from_str(&body).expect("json");
    let revoke = format!(
        "/api/v1/admin/devices/{}/revoke",
        device["device_id"].as_str().expect("device id")
    );
    let (status, body) = http_post(server.addr, &revoke, Some(&admin), "").await;
    assert_eq!(status, 200, "{body}");
    check(
        &doc,
        "POST",
        "/api/v1/admin/devices/{device}/revoke",
        200,
        &body,
    )
    .expect("revoked");
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/token-keys/rotate",
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    check(&doc, "POST", "/api/v1/admin/token-keys/rotate", 200, &body).expect("rotation");

    // Refusals have their schema too.
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/users",
        Some(&anna),
        &new_user.to_string(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    check(&doc, "POST", "/api/v1/admin/users", 403, &body).expect("refusal");
    let nobody = http_get(server.addr, "/api/v1/me", None).await;
    assert_eq!(nobody.status, 401);
    check(&doc, "GET", "/api/v1/me", 401, &nobody.body).expect("refusal");

    // The check can fail: a profile without its login does not match.
    let mut broken: Value = serde_json::from_str(&me.body).expect("json");
    broken.as_object_mut().expect("object").remove("login");
    assert!(check(&doc, "GET", "/api/v1/me", 200, &broken.to_string()).is_err());
    let mut wrong_role: Value = serde_json::from_str(&me.body).expect("json");
    wrong_role["roles"] = json!(["superuser"]);
    assert!(check(&doc, "GET", "/api/v1/me", 200, &wrong_role.to_string()).is_err());
    server.shutdown().await.expect("shutdown");
}
