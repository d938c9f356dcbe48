//! The official automerge-repo JavaScript client (`@automerge/automerge-repo` and
//! `@automerge/automerge-repo-network-websocket` 2.5.6, pinned in `tests/js/package.json`)
//! against our server, over TLS with the development certificate.
//!
//! Each test starts a server in-process, enrols devices, and runs one scenario of
//! `tests/js/interop.mjs` with Node, which prints one JSON line. Node trusts the self-signed
//! certificate through `NODE_EXTRA_CA_CERTS` (no verification is turned off anywhere).
//!
//! Needs Node >= 20 and `tests/js/node_modules` (`cd tests/js && npm ci`). Without them these
//! tests fail, on purpose: CI installs them, and a silently skipped interop test proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::sync::oneshot;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::{AutomergeUrl, DocumentId};

/// How long one Node scenario may run before it is killed (its own waits time out sooner).
const NODE_DEADLINE: Duration = Duration::from_secs(150);

fn js_dir() -> PathBuf {
    workspace_root().join("tests").join("js")
}

/// Fails (never skips) when Node or the JS packages are missing.
fn require_node() {
    const HOW: &str = "the JS interop tests need Node >= 20 and the pinned packages: \
                       run `npm ci` in tests/js (CI installs them)";
    let version = Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("`node` cannot be run ({e}); {HOW}"));
    assert!(version.status.success(), "`node --version` failed; {HOW}");
    let text = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let major: u32 = text
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(major >= 20, "found node {text}; {HOW}");
    install_packages_once(HOW);
    for package in [
        "@automerge/automerge-repo",
        "@automerge/automerge-repo-network-websocket",
        "@automerge/automerge",
        "ws",
    ] {
        let dir = js_dir().join("node_modules").join(package);
        assert!(
            dir.join("package.json").is_file(),
            "{} is missing; {HOW}",
            dir.display()
        );
    }
}

/// Installs the pinned packages (`npm ci`) when they are missing, once per test run, so that
/// `cargo test --workspace` works on a fresh checkout of a machine with Node.
fn install_packages_once(how: &str) {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if *done
        || js_dir()
            .join("node_modules/@automerge/automerge-repo/package.json")
            .is_file()
    {
        *done = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(js_dir())
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("`npm` cannot be run ({e}); {how}"));
    assert!(status.success(), "`npm ci` in tests/js failed; {how}");
    *done = true;
}

/// What a scenario printed, and its exit status.
#[derive(Debug)]
struct JsRun {
    success: bool,
    result: Json,
    stderr: String,
}

/// A server and the devices of "anna" that the JS repos use.
struct Fixture {
    _dir: tempfile::TempDir,
    server: RunningServer,
    /// The dev certificate Node trusts (`None` for a plain loopback server).
    cert: Option<PathBuf>,
    /// Where the JS clients connect (the server, or a proxy in front of it).
    url: String,
}

impl Fixture {
    async fn start() -> Self {
        require_node();
        let dir = tempfile::tempdir().expect("tempdir");
        let server = start_server(dir.path()).await;
        assert!(server.fingerprint.is_some(), "TlsMode::Dev serves TLS");
        let cert = dir.path().join("tls").join("dev-cert.pem");
        assert!(
            cert.is_file(),
            "the dev certificate is at {}",
            cert.display()
        );
        let url = format!("wss://{}/sync", server.addr);
        Self {
            _dir: dir,
            server,
            cert: Some(cert),
            url,
        }
    }

    /// A server on plain loopback HTTP (for the fault-injecting proxy, which reads frames).
    async fn start_plain() -> Self {
        require_node();
        let dir = tempfile::tempdir().expect("tempdir");
        let config = kooperacja_server::config::ServeConfig::for_tests(
            dir.path(),
            kooperacja_server::config::TlsMode::InsecureLoopback,
        );
        let server = start_with(config).await;
        let url = format!("ws://{}/sync", server.addr);
        Self {
            _dir: dir,
            server,
            cert: None,
            url,
        }
    }

    fn url(&self) -> String {
        self.url.clone()
    }

    /// Runs `interop.mjs --scenario NAME ARGS...` with fresh device tokens of `login` for its
    /// repos A, B and C (in the environment, not on the command line).
    async fn run_js(&self, login: &str, scenario: &str, args: &[&str]) -> JsRun {
        run_node(self.node(login, scenario, args), scenario, None).await
    }

    /// [`Fixture::run_js`] for a scenario that announces when it holds its document.
    async fn run_js_ready(
        &self,
        login: &str,
        scenario: &str,
        args: &[&str],
        ready: oneshot::Sender<()>,
    ) -> JsRun {
        run_node(self.node(login, scenario, args), scenario, Some(ready)).await
    }

    /// The command of [`Fixture::run_js`], to run with [`run_node`].
    fn node(&self, login: &str, scenario: &str, args: &[&str]) -> Command {
        let mut command = Command::new("node");
        command
            .current_dir(js_dir())
            .arg("interop.mjs")
            .args(["--url", &self.url(), "--scenario", scenario])
            .args(args)
            // Certificate checks stay on whatever the caller's environment says.
            .env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
            .env("INTEROP_TOKEN_A", enroll(&self.server, login).token)
            .env("INTEROP_TOKEN_B", enroll(&self.server, login).token)
            .env("INTEROP_TOKEN_C", enroll(&self.server, login).token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cert) = &self.cert {
            command.env("NODE_EXTRA_CA_CERTS", cert);
        }
        command
    }

    async fn run_ok(&self, login: &str, scenario: &str, args: &[&str]) -> Json {
        let run = self.run_js(login, scenario, args).await;
        assert!(
            run.success && run.result["ok"] == json!(true),
            "scenario {scenario} failed: {}\n--- node stderr ---\n{}",
            run.result,
            run.stderr
        );
        assert_eq!(run.result["scenario"], json!(scenario));
        eprintln!("{scenario}: {}", truncate_for_log(&run.result));
        run.result
    }

    async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
    }
}

/// Resolves when a scenario prints `{"event":"ready"}`: its repo holds the document.
struct Ready(oneshot::Receiver<()>);

impl Ready {
    /// Waits for the ready line. A scenario that ended without one failed: the caller's
    /// assertion on its run then shows what node printed, so this only says so and returns.
    async fn wait(self, what: &str) {
        let ended = tokio::time::timeout(WAIT, self.0)
            .await
            .unwrap_or_else(|_| panic!("{what}: no ready line within {WAIT:?}"));
        if ended.is_err() {
            eprintln!("{what}: the scenario ended before it was ready (its output follows)");
        }
    }
}

fn ready_signal() -> (oneshot::Sender<()>, Ready) {
    let (tx, rx) = oneshot::channel();
    (tx, Ready(rx))
}

/// Runs a prepared `node interop.mjs` command to its end (killing it at [`NODE_DEADLINE`]),
/// reading its stdout as it comes so that a ready line can be signalled at once.
async fn run_node(
    command: Command,
    scenario: &str,
    mut ready: Option<oneshot::Sender<()>>,
) -> JsRun {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut child = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting node for {scenario}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let err = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let run = async {
        let mut lines = BufReader::new(stdout).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("\"event\":\"ready\"") {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
            all.push(line);
        }
        let status = child.wait().await.expect("waiting for node");
        (status, all)
    };
    let Ok((status, lines)) = tokio::time::timeout(NODE_DEADLINE, run).await else {
        panic!("node scenario {scenario} did not finish within {NODE_DEADLINE:?}");
    };
    let stderr = err.await.unwrap_or_default();
    let stdout = lines.join("\n");
    let line = lines
        .iter()
        .rev()
        .find(|l| l.trim_start().starts_with('{') && !l.contains("\"event\":\"ready\""));
    let result = match line.map(|l| serde_json::from_str::<Json>(l)) {
        Some(Ok(v)) => v,
        _ => panic!(
            "node scenario {scenario} printed no JSON result (exit {status})\n--- stdout ---\n\
             {stdout}\n--- stderr ---\n{stderr}"
        ),
    };
    JsRun {
        success: status.success(),
        result,
        stderr,
    }
}

/// CBOR text string (short strings only), for hand-made ephemeral payloads.
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    assert!(len < 256, "short strings only");
    if len < 24 {
        out.push(0x60 + len as u8);
    } else {
        out.push(0x78);
        out.push(len as u8);
    }
    out.extend_from_slice(text.as_bytes());
}

/// A scenario's JSON result, shortened for the test log.
fn truncate_for_log(result: &Json) -> String {
    let text = result.to_string();
    if text.len() <= 2000 {
        return text;
    }
    let mut end = 2000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// A document's content as JSON, the way the JS client shows it (text and scalar strings both
/// become strings).
fn doc_json(doc: &Automerge) -> Json {
    object_json(doc, &ROOT)
}

fn object_json(doc: &Automerge, obj: &ObjId) -> Json {
    match doc.object_type(obj).expect("object type") {
        ObjType::Map | ObjType::Table => {
            let mut map = serde_json::Map::new();
            for key in doc.keys(obj) {
                if let Some((value, id)) = doc.get(obj, key.as_str()).expect("get") {
                    map.insert(key, value_json(doc, value, &id));
                }
            }
            Json::Object(map)
        }
        ObjType::List => Json::Array(
            (0..doc.length(obj))
                .filter_map(|i| doc.get(obj, i).expect("get"))
                .map(|(value, id)| value_json(doc, value, &id))
                .collect(),
        ),
        ObjType::Text => Json::String(doc.text(obj).expect("text")),
    }
}

fn value_json(doc: &Automerge, value: Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Object(_) => object_json(doc, id),
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => json!(s.as_str()),
            ScalarValue::Int(i) => json!(i),
            ScalarValue::Uint(u) => json!(u),
            ScalarValue::F64(f) => json!(f),
            ScalarValue::Counter(c) => json!(i64::from(c)),
            ScalarValue::Timestamp(t) => json!(t),
            ScalarValue::Boolean(b) => json!(b),
            ScalarValue::Null => Json::Null,
            ScalarValue::Bytes(b) => json!(b),
            ScalarValue::Unknown { bytes, .. } => json!(bytes),
        },
    }
}

fn url_of(result: &Json) -> DocumentId {
    let url = result["url"].as_str().expect("the result has a url");
    AutomergeUrl::parse(url)
        .expect("a valid automerge url")
        .document_id
}

// ------------------------------------------------------------------ JS with JS, through us

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_creates_and_another_js_repo_finds_it() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "create-find", &[]).await;
    assert_eq!(
        r["content"]["notes"],
        "Zgłoszenie ze szkoły: zażółć gęślą jaźń."
    );
    assert_eq!(r["content"]["family"]["children"], json!(["Ola", "Kuba"]));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_concurrent_text_map_and_list_edits_converge() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "concurrent", &[]).await;
    assert_eq!(r["conflicts"], json!(["w toku (A)", "zamknięta (B)"]));
    assert_eq!(r["content"]["visits"].as_array().map(Vec::len), Some(6));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_offline_edits_merge_after_reconnecting() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "offline-reconnect", &[]).await;
    assert_eq!(r["content"]["offlineA"], json!(true));
    assert_eq!(r["content"]["onlineB"], json!(true));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_reconnects_by_itself_after_a_dropped_socket() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "socket-drop", &[]).await;
    assert_eq!(
        r["content"]["entries"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_ephemeral_messages_are_relayed_intact() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "ephemeral", &[]).await;
    assert_eq!(r["payload"]["text"], "zażółć gęślą jaźń");
    assert_eq!(r["payload"]["bytes"], json!([0, 1, 2, 254, 255]));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_unknown_document_becomes_unavailable() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "unknown-doc", &[]).await;
    assert_eq!(r["unavailable"], json!(true));
    assert!(
        r["elapsedMs"].as_u64().is_some_and(|ms| ms < 10_000),
        "answered promptly: {r}"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_one_mebibyte_document_arrives_intact() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "big-doc", &[]).await;
    assert_eq!(r["length"], json!(1024 * 1024));
    f.stop().await;
}

/// A JS repo that asks for a document before it reaches the server is answered
/// `doc-unavailable`, and receives the document as soon as it arrives (as with the JS
/// reference server: `node tests/js/interop.mjs --reference --scenario late-arrival`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_repo_told_unavailable_gets_the_document_once_it_arrives() {
    let f = Fixture::start().await;
    let r = f.run_ok("anna", "late-arrival", &[]).await;
    assert_eq!(r["content"]["notes"], "Utworzona offline.");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_rejects_the_dev_certificate_unless_told_to_trust_it() {
    // Proves the other tests really verify TLS: without NODE_EXTRA_CA_CERTS the handshake fails.
    let f = Fixture::start().await;
    let mut command = f.node("anna", "create-find", &["--timeout-ms", "5000"]);
    command.env_remove("NODE_EXTRA_CA_CERTS");
    let run = run_node(command, "create-find", None).await;
    assert!(
        !run.success,
        "node accepted an untrusted certificate: {}",
        run.result
    );
    let error = run.result["error"].as_str().unwrap_or_default();
    eprintln!("without the CA: {error}");
    assert!(
        error.contains("certificate"),
        "the failure names the certificate: {}\n{}",
        run.result,
        run.stderr
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_client_with_a_wrong_token_is_refused() {
    let f = Fixture::start().await;
    let mut command = f.node("anna", "create-find", &["--timeout-ms", "5000"]);
    command
        .env("INTEROP_TOKEN_A", "kt_not-a-real-token")
        .env("INTEROP_TOKEN_B", "kt_not-a-real-token");
    let run = run_node(command, "create-find", None).await;
    assert!(!run.success, "a wrong token was accepted: {}", run.result);
    let error = run.result["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("401"),
        "the upgrade is refused with 401: {}\n{}",
        run.result,
        run.stderr
    );
    f.stop().await;
}

// ------------------------------------------------------------------ JS with our Rust SDK

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_writes_and_the_rust_sdk_reads() {
    let f = Fixture::start().await;
    let content = json!({
        "title": "Sprawa z przeglądarki",
        "notes": "Wywiad środowiskowy: zażółć gęślą jaźń.",
        "fields": {"adults": 2, "income": 2450.5, "benefit": true, "comment": null},
        "members": ["Zofia", "Jan", {"name": "Ola", "age": 7}],
    });
    let r = f
        .run_ok("anna", "js-writes", &["--content", &content.to_string()])
        .await;
    assert_eq!(r["content"], content);
    let case = url_of(&r);

    let tablet = tablet(&f.server, "anna", "tablet-reads-js");
    tablet.find(case).expect("find");
    let expected = content.clone();
    let waited = tablet
        .wait_until("the JS document on the tablet", WAIT, || async {
            Ok(tablet.read(case, |d| d.map(doc_json)).await? == Some(expected.clone()))
        })
        .await;
    if let Err(e) = waited {
        panic!(
            "{e}: the tablet has {:?}, JS wrote {content}",
            tablet.read(case, |d| d.map(doc_json)).await
        );
    }
    // The JS text is a real text object the SDK can edit.
    append_note(&tablet, case, " Dopisane na tablecie.").await;
    wait_acknowledged(&tablet, case).await;
    let r = f.run_ok("anna", "js-reads", &["--doc", &case.url()]).await;
    assert_eq!(
        r["content"]["notes"],
        "Wywiad środowiskowy: zażółć gęślą jaźń. Dopisane na tablecie."
    );
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_writes_and_js_reads() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-writes");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Notatka z tabletu: zażółć gęślą jaźń.").await;
    tablet
        .change(case, |d| {
            let (_, fields) = d.get(ROOT, "fields").expect("get").expect("fields");
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(&fields, "imię", "Zofia")?;
                tx.put(&fields, "dzieci", 3_i64)?;
                tx.put(&fields, "dochód", 1234.5_f64)?;
                tx.put(&fields, "pilne", true)?;
                tx.put(&fields, "brak", ScalarValue::Null)?;
                let visits = tx.put_object(&fields, "wizyty", ObjType::List)?;
                tx.insert(&visits, 0, "2025-01-10")?;
                let second = tx.insert_object(&visits, 1, ObjType::Map)?;
                tx.put(&second, "kto", "Anna")?;
                Ok(())
            })
            .expect("fields");
        })
        .await
        .expect("changed");
    wait_acknowledged(&tablet, case).await;
    let expected = tablet
        .read(case, |d| d.map(doc_json))
        .await
        .expect("read")
        .expect("doc");
    let heads = tablet.heads(case).await.expect("heads").expect("doc");

    let r = f.run_ok("anna", "js-reads", &["--doc", &case.url()]).await;
    assert_eq!(r["content"], expected);
    assert_eq!(r["heads"].as_array().map(Vec::len), Some(heads.len()));
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_edit_reaches_an_open_js_handle_live() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-live");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Przed. ").await;
    wait_acknowledged(&tablet, case).await;

    let url = case.url();
    let args = [
        "--doc",
        url.as_str(),
        "--ready-file",
        "stdout",
        "--until-contains",
        "Na żywo z tabletu.",
    ];
    let (announce, ready) = ready_signal();
    let js = f.run_js_ready("anna", "js-reads", &args, announce);
    let edit = async {
        // The JS repo has the case open once it says so; then the tablet edits.
        ready.wait("the JS repo opening the case").await;
        append_note(&tablet, case, "Na żywo z tabletu.").await;
        wait_acknowledged(&tablet, case).await;
    };
    let (run, ()) = tokio::join!(js, edit);
    assert!(
        run.success,
        "the open JS handle did not receive the tablet's edit: {}\n{}",
        run.result, run.stderr
    );
    assert_eq!(run.result["content"]["notes"], "Przed. Na żywo z tabletu.");
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_edit_reaches_an_open_tablet_live() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-open");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Z tabletu. ").await;
    wait_acknowledged(&tablet, case).await;

    let r = f
        .run_ok(
            "anna",
            "js-appends",
            &["--doc", &case.url(), "--append", "Z przeglądarki."],
        )
        .await;
    assert_eq!(r["content"]["notes"], "Z tabletu. Z przeglądarki.");
    let waited = tablet
        .wait_until("the JS edit on the tablet", WAIT, || async {
            Ok(tablet.read(case, |d| d.map(notes)).await?.as_deref()
                == Some("Z tabletu. Z przeglądarki."))
        })
        .await;
    if let Err(e) = waited {
        panic!(
            "{e}: the tablet has {:?}",
            tablet.read(case, |d| d.map(notes)).await
        );
    }
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_js_handle_reconnects_after_a_server_restart() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-restart");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Przed restartem. ").await;
    wait_acknowledged(&tablet, case).await;

    let url = case.url();
    let (announce, ready) = ready_signal();
    let command = f.node(
        "anna",
        "js-reads",
        &[
            "--doc",
            url.as_str(),
            "--ready-file",
            "stdout",
            "--until-contains",
            "Po restarcie.",
            "--retry-ms",
            "300",
            "--allow-server-close",
        ],
    );
    let Fixture {
        _dir, server, cert, ..
    } = f;
    let js = run_node(command, "js-reads", Some(announce));
    let restart = async {
        ready.wait("the JS repo opening the case").await;
        let addr = server.addr;
        server.shutdown().await.expect("clean shutdown");
        let server = start_again_at(_dir.path(), addr).await;
        append_note(&tablet, case, "Po restarcie.").await;
        wait_acknowledged(&tablet, case).await;
        server
    };
    let (run, server) = tokio::join!(js, restart);
    assert!(
        run.success,
        "the JS handle did not get the edit made after the restart: {}\n{}",
        run.result, run.stderr
    );
    assert_eq!(
        run.result["content"]["notes"],
        "Przed restartem. Po restarcie."
    );
    let closes = &run.result["peers"]["b"]["closes"];
    assert_eq!(
        closes[0]["code"],
        json!(1001),
        "the restart closed the JS socket with 1001 (going away): {closes}"
    );
    let _ = cert;
    tablet.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

/// Starts a server again on the address of one that was just shut down (the port is free as
/// soon as `shutdown` returns).
async fn start_again_at(dir: &Path, addr: std::net::SocketAddr) -> RunningServer {
    use kooperacja_server::config::{ServeConfig, TlsMode};
    let mut config = ServeConfig::for_tests(dir, TlsMode::Dev);
    config.listen = addr;
    kooperacja_server::serve::start(config)
        .await
        .unwrap_or_else(|e| panic!("the server does not start again on {addr}: {e}"))
}

/// Found while restarting the server under a connected JS client: once `shutdown` has
/// returned, the port no longer accepts connections and can be bound again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listening_socket_is_closed_by_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let addr = server.addr;
    server.shutdown().await.expect("clean shutdown");
    let connected = tokio::net::TcpStream::connect(addr).await;
    assert!(
        connected.is_err(),
        "{addr} still accepts connections after shutdown returned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_messages_pass_between_the_rust_sdk_and_js() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-presence");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    wait_acknowledged(&tablet, case).await;
    let mut events = tablet.events();

    let url = case.url();
    let args = ["--doc", url.as_str(), "--ready-file", "stdout"];
    let (announce, ready) = ready_signal();
    let js = f.run_js_ready("anna", "js-ephemeral", &args, announce);
    let rust_side = async {
        ready.wait("the JS repo opening the case").await;
        // {"hello": "zażółć", "n": 7} in CBOR, as the JS client encodes ephemeral data.
        let mut payload = vec![0xa2];
        cbor_text(&mut payload, "hello");
        cbor_text(&mut payload, "zażółć");
        cbor_text(&mut payload, "n");
        payload.push(0x07);
        tablet.broadcast(case, payload).expect("broadcast");
        tokio::time::timeout(WAIT, async {
            loop {
                match events.recv().await {
                    Ok(client_sdk::ClientEvent::Ephemeral {
                        document,
                        sender,
                        data,
                    }) if document == case => return (sender, data),
                    Ok(_) => {}
                    Err(e) => panic!("tablet events ended: {e}"),
                }
            }
        })
        .await
        .expect("the tablet receives the JS echo")
    };
    let (run, (sender, data)) = tokio::join!(js, rust_side);
    assert!(run.success, "{}\n{}", run.result, run.stderr);
    assert_eq!(run.result["message"], json!({"hello": "zażółć", "n": 7}));
    assert_eq!(run.result["senderId"], json!("tablet-presence"));
    assert!(
        sender.to_string().starts_with("js-interop-b-"),
        "the echo comes from the JS repo: {sender}"
    );
    let contains = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    assert!(
        contains(b"echo") && contains("zażółć".as_bytes()) && contains(b"from") && contains(b"js"),
        "the JS payload arrives intact: {data:?}"
    );
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_shared_between_the_rust_sdk_and_automerge_repos_presence() {
    use client_sdk::PresenceOptions;
    use sync_core::presence::{Focus, Member, PresenceEvent};
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-anna-meeting");
    let doc = random_id();
    tablet.create(doc, new_case()).await.expect("created");
    wait_acknowledged(&tablet, doc).await;
    let me = Member {
        login: "anna".into(),
        name: "Anna Kowalska".into(),
        institution: "gops".into(),
    };
    let presence = tablet
        .presence(
            doc,
            PresenceOptions::member(&me)
                .with_timing(Duration::from_secs(1), Duration::from_secs(3)),
        )
        .expect("presence starts");
    presence
        .set_focus(&Focus {
            section: "minutes".into(),
            editing: false,
        })
        .expect("focus");
    let mut events = presence.events();
    let mut peers = presence.peers();

    let url = doc.url();
    let args = ["--doc", url.as_str(), "--ready-file", "stdout"];
    let (announce, ready) = ready_signal();
    let js = f.run_js_ready("anna", "js-presence", &args, announce);
    let rust_side = async {
        ready.wait("the JS repo opening the document").await;
        // The JS member moves to the decisions: the tablet sees it and follows.
        let js_peer = tokio::time::timeout(WAIT, async {
            loop {
                let found = peers.borrow_and_update().iter().find_map(|(id, state)| {
                    let in_decisions = state.focus().is_some_and(|f| f.section == "decisions");
                    // The JS page claims to be `ewa-js`, but it signed in with anna's device:
                    // the server shows it under that account.
                    let ewa = state.member().is_some_and(|m| m.login == "anna");
                    (ewa && in_decisions).then(|| (id.clone(), state.clone()))
                });
                if let Some(found) = found {
                    return found;
                }
                peers.changed().await.expect("presence runs");
            }
        })
        .await
        .expect("the tablet sees the JS member move to the decisions");
        presence
            .set_focus(&Focus {
                section: "decisions".into(),
                editing: true,
            })
            .expect("focus");
        // The JS member stops: its goodbye removes it at once (not after the TTL).
        wait_event(
            &mut events,
            "the JS member's goodbye",
            |e| matches!(e, PresenceEvent::Goodbye { peer } if *peer == js_peer.0),
        )
        .await;
        js_peer
    };
    let (run, (js_peer, state)) = tokio::join!(js, rust_side);
    assert!(run.success, "{}\n{}", run.result, run.stderr);
    assert_eq!(run.result["annaPeer"], json!("tablet-anna-meeting"));
    let account = f
        .server
        .state
        .directory
        .user("anna")
        .expect("lookup")
        .expect("anna's account");
    // Each side sees the other under the account it signed in with (the server binds presence
    // to the account), not under what its page or tablet claimed.
    let institution = account.institution.clone().unwrap_or_default();
    assert_eq!(
        run.result["first"]["member"],
        json!({"login": "anna", "name": account.name, "institution": institution})
    );
    assert_eq!(
        run.result["followed"]["focus"],
        json!({"section": "decisions", "editing": true})
    );
    assert_eq!(run.result["peerId"], json!(js_peer.to_string()));
    assert_eq!(
        state.member(),
        Some(Member {
            login: account.login,
            name: account.name,
            institution: account.institution.unwrap_or_default(),
        })
    );
    assert!(!presence.peers().borrow().contains_key(&js_peer));
    presence.stop().await;
    tablet.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_rust_clients_converge_through_a_bad_network() {
    use kooperacja_test_support::fault_proxy::{Faults, FrameProxy};
    let mut f = Fixture::start_plain().await;
    let proxy = FrameProxy::start(f.server.addr, 3).await;
    f.url = format!("ws://{}/sync", proxy.addr);
    let token = enroll(&f.server, "anna").token;
    let address = client_sdk::ServerAddress {
        url: f.url(),
        token,
        trust: client_sdk::Trust::None,
    };
    let mut config = client_sdk::ClientConfig::new(
        sync_core::PeerId::new("tablet-behind-proxy").expect("peer id"),
        Some(address),
    );
    config.max_backoff = Duration::from_millis(200);
    let rust = client_sdk::SyncClient::start(config, sync_core::storage::MemoryStorage::new())
        .expect("client starts");
    let case = random_id();
    rust.create(case, new_case()).await.expect("created");
    wait_acknowledged(&rust, case).await;

    // No drops here: automerge-repo JS waits forever for a lost `peer` answer (TCP never
    // loses one frame of a live connection; the SDK's test drops frames too).
    proxy.set_faults(Faults {
        max_delay: Duration::from_millis(10),
        drop_every: None,
        duplicate_every: Some(4),
        cut_after: Some(10),
        replay: 2,
    });
    let url = case.url();
    let args = [
        "--doc",
        url.as_str(),
        "--count",
        "30",
        "--prefix",
        "j",
        "--allow-server-close",
    ];
    let (announce, ready) = ready_signal();
    let js = f.run_js_ready("anna", "js-appends-many", &args, announce);
    let rust_side = async {
        for i in 0..30 {
            let piece = format!("r{i}; ");
            rust.change(case, move |d| {
                let (_, notes) = d.get(ROOT, "notes").expect("get").expect("notes");
                let len = d.text(&notes).expect("text").chars().count();
                d.transact::<_, _, automerge::AutomergeError>(|tx| {
                    tx.splice_text(&notes, len, 0, &piece)
                })
                .expect("splice");
            })
            .await
            .expect("saved");
        }
        ready.wait("the JS client's pieces").await;
        // The network heals: faults stop and every connection is cut once.
        proxy.set_faults(Faults::default());
        proxy.cut_all();
        wait_acknowledged(&rust, case).await;
    };
    let (run, ()) = tokio::join!(js, rust_side);
    assert!(run.success, "{}\n{}", run.result, run.stderr);
    let checker = tablet(&f.server, "anna", "tablet-checker");
    checker.find(case).expect("find");
    wait_same_heads(&rust, &checker, case).await;
    let text = checker
        .read(case, |d| d.map(notes).unwrap_or_default())
        .await
        .expect("read");
    for i in 0..30 {
        for who in ["j", "r"] {
            let piece = format!("{who}{i}; ");
            assert_eq!(
                text.matches(&piece).count(),
                1,
                "{piece:?} once in {text:?}"
            );
        }
    }
    let counts = proxy.counts();
    use std::sync::atomic::Ordering::SeqCst;
    assert!(
        counts.duplicated.load(SeqCst) > 0 && counts.cuts.load(SeqCst) > 0,
        "the clients met duplicates and cuts"
    );
    rust.shutdown().await;
    checker.shutdown().await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_client_of_another_worker_cannot_read_the_case() {
    let f = Fixture::start().await;
    let tablet = tablet(&f.server, "anna", "tablet-anna");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    wait_acknowledged(&tablet, case).await;
    let run = f.run_js("eve", "js-reads", &["--doc", &case.url()]).await;
    assert!(
        !run.success,
        "eve's JS client must not read anna's case: {}",
        run.result
    );
    let error = run.result["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("unavailable"),
        "eve sees the case as unavailable, not another failure: {}\n{}",
        run.result,
        run.stderr
    );
    tablet.shutdown().await;
    f.stop().await;
}
