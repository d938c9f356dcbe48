//! Attachments on a region of two nodes sharing PostgreSQL: a scan whose upload starts on one
//! node and, after the connection drops, resumes on the other, is read back from both.
//!
//! Needs PostgreSQL's server binaries (see `kooperacja-test-support`'s `pg_cluster.rs`).

use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::pg_cluster::TestPostgres;
use kooperacja_test_support::*;

async fn node(pg: &TestPostgres, dir: &std::path::Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::InsecureLoopback);
    config.store = Some(pg.url.clone());
    config.secrets_dir = pg.secrets_dir();
    start_with(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_started_on_one_node_is_finished_and_read_on_the_other() {
    let pg = TestPostgres::start();
    let (dir1, dir2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (node1, node2) = (node(&pg, dir1.path()).await, node(&pg, dir2.path()).await);
    provision_region(&node1);
    node2.state.registry.reload_directory().expect("reload");
    let token = enroll(&node1, "anna").token;
    let anna = tablet_at(node1.addr, &token, "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;

    let scan = pdf_file(3 * 256 * 1024 + 777);
    let sha = sha256_hex(&scan);
    assert!(put_range(node1.addr, &token, case, &scan, 0, 400_000)
        .await
        .is_none());
    // Node 2 learns of the case from node 1; the upload then goes on there.
    let done = tokio::time::timeout(WAIT, async {
        loop {
            let status = get_binary(
                node2.addr,
                &token,
                &attachment_path(case, &sha, "/status"),
                None,
            )
            .await;
            if status.status == 200 {
                return upload_rest(node2.addr, &token, case, &scan).await;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("node 2 knows the case in time");
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["complete"], true);
    for node in [&node1, &node2] {
        let path = attachment_path(case, &sha, "");
        let answer = get_binary(node.addr, &token, &path, None).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert!(answer.body == scan, "the same file from either node");
    }
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}
