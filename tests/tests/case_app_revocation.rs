//! The case app's device protections in real Chromium (`web/e2e/app-revoke.mjs`; see
//! `kooperacja_test_support::browser`): a worker's browser is revoked while the app is open and
//! online, and is wiped at once, because the server ends the device's live `/sync` connection
//! with a coded close reason (the token endpoint is shut meanwhile, so no refused renewal can
//! be what wipes it); after a new sign-in, the tenth wrong PIN in a row wipes the store, and a
//! right PIN in between starts the count again.

use std::time::Duration;

use kooperacja_test_support::*;
use serde_json::{json, Value as Json};

/// How long the browser may take in all (each of its waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_while_online_is_wiped_at_once_and_ten_wrong_pins_wipe_it_too() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_team_tablet, _team) = create_as(&server, "animator1", new_team_doc()).await;

    let spec = json!({
        "profile": dir.path().join("profile"),
        "pin": "135790",
        "first": { "login": "anna", "code": enrolment_code(&server, "anna") },
        "second": { "login": "anna", "code": enrolment_code(&server, "anna") },
    });
    let script = BrowserScript {
        script: "app-revoke.mjs",
        env: vec![("REVOKE_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    let server_ref = &server;
    let result = script
        .run(&server, &cert, |request| async move {
            match request["kind"].as_str() {
                Some("revoke") => {
                    let login = request["login"].as_str().unwrap_or_default();
                    revoke_all(server_ref, login).await;
                    json!({ "ok": true })
                }
                _ => panic!("unknown request {request}"),
            }
        })
        .await;
    eprintln!("case app revocation: {result}");

    // Revoked while online.
    assert!(
        result["storeBefore"]["values"].as_u64() > Some(0),
        "the device held data before: {result}"
    );
    assert!(result["revokedNotice"]
        .as_str()
        .is_some_and(|t| t.contains("odłączył") && t.contains("usunięte")));
    // The token endpoint was shut from the revocation to the wipe (app-revoke.mjs): the wipe
    // came from the server's close of the live connection, not from a refused renewal.
    assert_eq!(
        result["storeAfterRevocation"],
        json!({ "values": 0, "traces": 0 }),
        "wiped on the server's close, with no token renewal answered"
    );
    // The PIN attempt limit.
    assert!(result["leftAfterTwo"]
        .as_str()
        .is_some_and(|t| t.contains("Pozostałe próby: 8;")));
    assert!(
        result["leftAfterNine"]
            .as_str()
            .is_some_and(|t| t.contains("Pozostałe próby: 1;")),
        "the right PIN started the count again: {}",
        result["leftAfterNine"]
    );
    assert!(
        result["storeAfterNine"]["values"].as_u64() > Some(0),
        "nine wrong PINs wipe nothing"
    );
    assert!(result["pinNotice"]
        .as_str()
        .is_some_and(|t| t.contains("nieprawidłowy PIN")));
    assert_eq!(
        result["storeAfterLimit"],
        json!({ "values": 0, "traces": 0 })
    );
    let problems = result["problems"].as_array().cloned().unwrap_or_default();
    let uncaught: Vec<&Json> = problems
        .iter()
        .filter(|p| p.as_str().is_some_and(|p| p.starts_with("pageerror")))
        .collect();
    assert!(uncaught.is_empty(), "uncaught errors: {uncaught:?}");

    // The server ended the revoked device's connection with the coded reason, and refuses it.
    let devices = server.state.directory.devices_of("anna").expect("devices");
    assert_eq!(devices.len(), 2, "two sign-ins, two devices");
    assert!(devices.iter().any(|d| d.revoked), "the first is revoked");

    server.shutdown().await.expect("clean shutdown");
}
