//! The `home-visit` example, run against a real server in-process.

#[allow(dead_code)]
#[path = "../../client-sdk/examples/home-visit.rs"]
mod home_visit;

use client_sdk::Trust;
use kooperacja_test_support::{enroll, start_server, GOPS};
use sync_core::model::case::GoalStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_visit_example_runs_against_a_server() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let (anna, jan) = (enroll(&server, "anna"), enroll(&server, "jan"));
    let data = tempfile::tempdir().expect("temp dir");
    let args = home_visit::Args {
        server: format!("wss://{}/sync", server.addr),
        trust: Trust::Pinned(server.fingerprint.clone().expect("TLS")),
        token_a: anna.token,
        user_a: "anna".into(),
        institution_a: GOPS.into(),
        token_b: jan.token,
        user_b: "jan".into(),
        institution_b: "sp-1".into(),
        data_dir: data.path().to_path_buf(),
    };
    let outcome = home_visit::run(args).await.expect("the example runs");
    assert_eq!(
        outcome.diagnosis,
        "Mieszkanie komunalne: Dwa pokoje. Wilgoć w kuchni, grzyb na ścianie."
    );
    assert_eq!(outcome.conflicts.len(), 1);
    let mut who: Vec<(String, Option<String>)> = outcome.conflicts[0]
        .values
        .iter()
        .map(|v| (v.value.clone(), v.by.clone()))
        .collect();
    who.sort();
    assert_eq!(
        who,
        vec![
            ("in_progress".into(), Some("anna".into())),
            ("not_achieved".into(), Some("jan".into())),
        ]
    );
    assert_eq!(outcome.resolved, GoalStatus::InProgress);
    server.shutdown().await.expect("server stops");
}

#[test]
fn the_example_reads_its_command_line() {
    let words = "--server wss://127.0.0.1:8443/sync --fingerprint ab12 --token-a T1 --token-b T2 --data-dir /tmp/x";
    let args = home_visit::Args::parse(words.split(' ').map(str::to_owned)).expect("parses");
    assert_eq!(args.server, "wss://127.0.0.1:8443/sync");
    assert!(matches!(&args.trust, Trust::Pinned(fp) if fp == "ab12"));
    assert_eq!((args.token_a.as_str(), args.token_b.as_str()), ("T1", "T2"));
    assert_eq!(
        (args.user_a.as_str(), args.user_b.as_str()),
        ("anna", "jan")
    );
    assert_eq!(args.data_dir, std::path::PathBuf::from("/tmp/x"));
    assert!(home_visit::Args::parse(["--server".to_owned()].into_iter()).is_err());
    assert!(home_visit::Args::parse(["--bogus".to_owned(), "1".to_owned()].into_iter()).is_err());
}
