//! A real full disk: the server's data directory on a small tmpfs that the test fills up.
//! A tablet's change arrives while the disk is full: the server refuses it with a clear error,
//! stays up and keeps serving reads; when space returns, the tablet's retry lands, and after a
//! restart everything acknowledged is there.
//!
//! "Full" is below the server's disk reserve (4 MiB here): sled cannot go on after a failed
//! write in the same process, so the server stops writing before the disk is at 0 bytes
//! (`kooperacja_server::disk`). The ballast leaves less than 1 MiB free.
//!
//! Mounting a tmpfs needs root (CAP_SYS_ADMIN), as in CI. Elsewhere the test fails with a
//! clear message unless `KOOPERACJA_NO_MOUNT=1` is set (then it says it did not run).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use client_sdk::ClientEvent;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("mount cannot run: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(Tmpfs {
            path: at.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the filesystem holding `dir` with a ballast file until less than `leave` bytes are
/// free.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let ballast = dir.join("ballast");
    let mut file = std::fs::File::create(&ballast).expect("ballast file");
    let chunk = vec![0xa5u8; 64 * 1024];
    while fs2::available_space(dir).expect("statvfs") >= leave {
        file.write_all(&chunk).expect("the ballast fits");
        file.sync_all().expect("sync");
    }
    ballast
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_changes_clearly_keeps_serving_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = match Tmpfs::mount(&dir.path().join("small-disk"), "24m") {
        Ok(m) => m,
        Err(e) if std::env::var_os("KOOPERACJA_NO_MOUNT").is_some() => {
            eprintln!("full-disk test NOT RUN: cannot mount a tmpfs here ({e})");
            return;
        }
        Err(e) => panic!(
            "the full-disk test mounts a tmpfs and needs root (CI runs as root): {e}; \
             set KOOPERACJA_NO_MOUNT=1 to leave it out on this machine"
        ),
    };
    let data = mount.path.join("data");
    let mut config = ServeConfig::for_tests(&data, TlsMode::InsecureLoopback);
    config.disk_reserve = 4 * 1024 * 1024;
    let server = start_with(config.clone()).await;
    let worker = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    worker.create(case, new_case()).await.expect("created");
    append_note(&worker, case, "Wizyta domowa: ").await;
    wait_acknowledged(&worker, case).await;

    // The disk fills up (someone's log file, say); then the worker types a long note.
    let ballast = fill(&mount.path, 1024 * 1024);
    let mut events = worker.events();
    let long: &'static str = Box::leak(
        "mieszkanie wilgotne, dwa pokoje. "
            .repeat(4_000)
            .into_boxed_str(),
    );
    append_note(&worker, case, long).await;
    let reason = match wait_event(
        &mut events,
        "the server to refuse the change",
        |e| matches!(e, ClientEvent::Disconnected(r) if r.contains("disk is full")),
    )
    .await
    {
        ClientEvent::Disconnected(reason) => reason,
        _ => unreachable!("matched above"),
    };
    assert!(
        !worker.is_acknowledged(case).await.expect("ack state"),
        "a change the server could not store is not acknowledged ({reason})"
    );

    // The server is up and serves reads: a colleague's new tablet gets the stored version.
    let colleague = tablet(&server, "anna", "tablet-anna-2");
    colleague.find(case).expect("find");
    colleague
        .wait_until("the stored case on the second tablet", WAIT, || async {
            Ok(colleague
                .read(case, |d| d.map(notes).unwrap_or_default())
                .await?
                == "Wizyta domowa: ")
        })
        .await
        .expect("reads are served while the disk is full");

    // Space returns: the worker's retry lands without anyone doing anything.
    std::fs::remove_file(&ballast).expect("ballast removed");
    wait_acknowledged(&worker, case).await;
    wait_same_heads(&worker, &colleague, case).await;
    let text = colleague
        .read(case, |d| d.map(notes).unwrap_or_default())
        .await
        .expect("read");
    assert!(text.ends_with(long), "the long note arrived whole");

    // Nothing acknowledged is lost across a restart on the same (once full) disk.
    let acknowledged = worker.server_heads(case).await.expect("heads");
    worker.shutdown().await;
    colleague.shutdown().await;
    server.shutdown().await.expect("shutdown");
    let server = start_with(config).await;
    let stored = server
        .state
        .storage
        .load_now(case)
        .expect("load")
        .expect("stored");
    let doc = sync_core::engine::load_stored(&stored).expect("loads");
    let mut heads = doc.get_heads();
    heads.sort();
    let mut wanted = acknowledged.unwrap_or_default();
    wanted.sort();
    assert_eq!(heads, wanted);
    server.shutdown().await.expect("shutdown");
    drop(mount);
}

/// An upload meets the full disk: the range is refused with `507` and a Polish reason (the
/// server stays up, sled untouched), and once space returns the upload goes through to a
/// verified file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_on_a_full_disk_is_refused_clearly_and_resumes_when_space_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = match Tmpfs::mount(&dir.path().join("small-disk"), "32m") {
        Ok(m) => m,
        Err(e) if std::env::var_os("KOOPERACJA_NO_MOUNT").is_some() => {
            eprintln!("full-disk test NOT RUN: cannot mount a tmpfs here ({e})");
            return;
        }
        Err(e) => panic!("the full-disk test mounts a tmpfs and needs root: {e}"),
    };
    let data = mount.path.join("data");
    let mut config = ServeConfig::for_tests(&data, TlsMode::InsecureLoopback);
    config.disk_reserve = 4 * 1024 * 1024;
    let server = start_with(config).await;
    provision_region(&server);
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;
    let token = enroll(&server, "anna").token;
    let scan = pdf_file(3 * 1024 * 1024);
    let sha = sha256_hex(&scan);
    let ballast = fill(&mount.path, 1024 * 1024);
    let refused = upload_rest(server.addr, &token, case, &scan).await;
    assert_eq!(refused.status, 507, "{}", refused.text());
    assert!(
        refused.text().contains("Dysk serwera jest pełny"),
        "{}",
        refused.text()
    );

    std::fs::remove_file(&ballast).expect("ballast removed");
    let done = upload_rest(server.addr, &token, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let got = get_binary(server.addr, &token, &attachment_path(case, &sha, ""), None).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert!(got.body == scan, "the file arrived whole");
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
    drop(mount);
}
