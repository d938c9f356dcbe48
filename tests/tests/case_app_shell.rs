//! The case app's shell (`/app/`, issue #17) in real Chromium with persistent profiles, so that
//! closing and reopening the browser is real (`web/e2e/app.mjs`; see
//! `kooperacja_test_support::browser`). A school's PZK member signs in on a browser with a
//! one-time code and chooses a PIN; the PZK document arrives in the device's encrypted store,
//! where no readable trace of it or of the worker is found; the service worker keeps the
//! shell and the app is installable; with the network off the app opens, refuses a wrong PIN
//! and opens with the right one; an edit made offline on the meeting page (same store)
//! survives closing the browser and reaches the server when the network is back; the idle lock
//! and the lock button lock; the server revokes the device and the store is wiped at its next
//! contact; another worker signs out, which wipes the store too.
//!
//! Beside the browsers, the server's answers for the app's files: the service worker is never
//! cached, the manifest has its type, `/app` leads to `/app/`, every answer keeps the security
//! headers.

use std::time::Duration;

use automerge::Automerge;
use axum::http::StatusCode;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::editor::Editor;
use sync_core::model::pzk;

/// How long the browsers may take in all (each of their waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

const PIN: &str = "482916";
const AGENDA: &str = "Konsultacja sprawy rodziny Przykładowskich z ul. Lipowej";
const OFFLINE_TEXT: &str = "[zapisane bez sieci w szkole]";

/// Team `pzk1`'s document with meeting `m1` and one agenda item, as its animator writes it.
fn team_document() -> Automerge {
    let mut doc = new_team_doc();
    let editor = Editor::new("animator1", "gops").expect("the animator as editor");
    schedule_remote_meeting(&mut doc, &editor, "m1", (2025, 4, 2, 10), &[AGENDA]);
    doc
}

/// The server's answer to `path`: status and headers.
async fn answer(server: &RunningServer, path: &str) -> HttpAnswer {
    https_get(server, path, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_apps_files_with_their_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let worker = answer(&server, "/app/sw.js").await;
    assert_eq!(worker.status, 200);
    assert_eq!(worker.header("cache-control"), Some("no-cache"));
    assert_eq!(
        worker.header("service-worker-allowed"),
        Some("/"),
        "the meeting pages may register the worker for /meeting/, the app for /app/"
    );
    assert!(worker
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/javascript")));
    let csp = worker.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("worker-src 'self'") && csp.contains("default-src 'none'"));
    let manifest = answer(&server, "/app/manifest.webmanifest").await;
    assert_eq!(
        manifest.header("content-type"),
        Some("application/manifest+json")
    );
    let manifest: Json = serde_json::from_str(&manifest.body).expect("the manifest is JSON");
    assert_eq!(manifest["start_url"], json!("/app/"));
    assert_eq!(manifest["display"], json!("standalone"));
    assert_eq!(manifest["lang"], json!("pl"));
    let route = answer(&server, "/app/sprawy/123").await;
    assert_eq!(route.status, 200);
    assert!(
        route.body.contains("/app/manifest.webmanifest"),
        "the app's page"
    );
    assert_eq!(route.header("x-frame-options"), Some("DENY"));
    let bare = answer(&server, "/app").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT.as_u16());
    assert_eq!(bare.header("location"), Some("/app/"));
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_installs_the_app_works_offline_and_the_device_is_wiped_when_revoked() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);

    let doc = team_document();
    // The control: the document's own bytes show the agenda in clear, so its absence from the
    // browser's store means something.
    let saved = doc.save();
    assert!(
        saved.windows(AGENDA.len()).any(|w| w == AGENDA.as_bytes()),
        "the agenda is readable in the document's unencrypted bytes"
    );
    let (animator, id) = create_as(&server, "animator1", doc).await;

    let spec = json!({
        "worker": { "login": "szkola-rep", "code": enrolment_code(&server, "szkola-rep") },
        "other": { "login": "policja-rep", "code": enrolment_code(&server, "policja-rep") },
        "pin": PIN,
        "document": id.to_string(),
        "meeting": "m1",
        "secrets": [AGENDA, "PZK Gminy Przykładowo", "Porozumienie o współpracy", "szkola-rep"],
        "offlineText": OFFLINE_TEXT,
    });
    let script = BrowserScript {
        script: "app.mjs",
        env: vec![("APP_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    let server_ref = &server;
    let animator_ref = &animator;
    let result = script
        .run(&server, &cert, |request| async move {
            match request["kind"].as_str() {
                Some("server-has") => {
                    let text = request["text"].as_str().unwrap_or_default().to_owned();
                    json!({ "ok": server_has(animator_ref, id, text).await })
                }
                Some("revoke") => {
                    let login = request["login"].as_str().unwrap_or_default();
                    revoke_all(server_ref, login).await;
                    json!({ "ok": true })
                }
                _ => panic!("unknown request {request}"),
            }
        })
        .await;
    eprintln!("case app shell: {result}");

    assert_eq!(
        result["plaintextFound"],
        json!([]),
        "no plaintext in the store"
    );
    assert!(result["rawValues"]["chunks"].as_u64() > Some(0), "{result}");
    assert_eq!(
        result["persistenceNotice"],
        json!(result["persisted"] == json!(false)),
        "the worker is told exactly when the browser may evict the data"
    );
    assert_eq!(result["syncedText"], json!("Wszystko wysłane"));
    assert_eq!(result["shell"]["caches"], json!(1));
    assert!(result["shell"]["files"].as_u64() >= Some(6), "{result}");
    assert_eq!(result["installabilityErrors"], json!([]), "installable");
    assert_eq!(
        result["manifest"]["name"],
        json!("Kooperacja — sprawy rodzin")
    );
    assert_eq!(result["offlineFetchFails"], json!(true), "really offline");
    assert_eq!(result["wrongPinScreensHidden"], json!(true));
    assert_eq!(
        result["meetingOpensOffline"],
        json!("offline"),
        "the meeting page opens with the network off, from the service worker"
    );
    assert!(result["offlineText"]
        .as_str()
        .is_some_and(|t| t.starts_with("Offline od")));
    assert_eq!(result["serverHasOfflineEdit"], json!(true));
    assert_eq!(
        result["afterRevocation"],
        json!({ "meta": 0, "chunks": 0, "traces": 0 })
    );
    assert!(result["revokedNotice"]
        .as_str()
        .is_some_and(|t| t.contains("usunięte")));
    assert_eq!(
        result["afterSignOut"],
        json!({ "meta": 0, "chunks": 0, "traces": 0 })
    );
    // Console errors of requests made with the network off, and the revoked device's 401, are
    // expected; an uncaught error in a page is not.
    let problems = result["problems"].as_array().cloned().unwrap_or_default();
    let uncaught: Vec<&Json> = problems
        .iter()
        .filter(|p| p.as_str().is_some_and(|p| p.starts_with("pageerror")))
        .collect();
    assert!(
        uncaught.is_empty(),
        "uncaught errors in the pages: {uncaught:?}"
    );

    animator.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

/// Whether the server's copy of the document gets `text` in meeting `m1`'s minutes (as the
/// animator's tablet, following the document, sees it).
async fn server_has(
    animator: &client_sdk::client::SyncClient,
    id: sync_core::DocumentId,
    text: String,
) -> bool {
    animator
        .wait_until("the offline edit on the server", WAIT, || {
            let text = text.clone();
            async move {
                animator
                    .read(id, move |doc| {
                        doc.and_then(|d| pzk::read_pzk(d).ok())
                            .is_some_and(|v| v.meetings["m1"].minutes.contains(&text))
                    })
                    .await
            }
        })
        .await
        .is_ok()
}
