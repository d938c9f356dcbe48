//! Real Chromium driven by a Node script of `web/e2e` (playwright-core with Debian's
//! `chromium`): the tools it needs, one-time codes for its users, and running a script that
//! prints one JSON line (`{"ok":true,...}` or `{"ok":false,"step":...,"error":...}`).
//!
//! The scripts get the server's address (`E2E_BASE_URL`), its development certificate
//! (`E2E_CERT`, which Chromium trusts by its public key only) and the browser (`CHROMIUM`).
//! A missing tool fails the test, on purpose: CI installs them, and a skipped browser test
//! proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kooperacja_server::serve::RunningServer;
use serde_json::{json, Value as Json};

const HOW: &str = "the browser tests need Node >= 20, the packages of web/ (`npm ci` in web/) \
                   and Debian's chromium (`apt-get install -y chromium`); CI installs them";

/// The repository's `web/` folder.
pub fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the support crate lives in tests/support")
        .join("web")
}

/// The browser: `CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails (never skips) when Node, the packages or Chromium are missing; installs the pinned
/// packages when only they are missing.
pub fn require_browser_tools() {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("`node` cannot be run ({e}); {HOW}"));
    assert!(node.status.success(), "`node --version` failed; {HOW}");
    let playwright = web_dir().join("node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(web_dir())
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("`npm` cannot be run ({e}); {HOW}"));
        assert!(status.success(), "`npm ci` in web/ failed; {HOW}");
    }
    let browser = chromium();
    assert!(browser.is_file(), "{} is missing; {HOW}", browser.display());
}

/// A fresh one-time enrolment code for `login`.
pub fn enrolment_code_for(server: &RunningServer, login: &str) -> String {
    let mut random = [0u8; 10];
    rand::fill(&mut random[..]);
    server
        .state
        .directory
        .enrolment_code(login, random)
        .expect("enrolment code")
        .code
}

/// The server's development certificate (the server serves TLS with it).
pub fn dev_certificate(data_dir: &Path) -> PathBuf {
    let cert = data_dir.join("tls").join("dev-cert.pem");
    assert!(
        cert.is_file(),
        "the dev certificate is at {}",
        cert.display()
    );
    cert
}

/// Runs `web/{script}` against `server` with `env` added, waits at most `deadline`, and returns
/// its JSON line; fails the test with the script's report unless it says `"ok": true`.
pub async fn run_browser_script(
    script: &str,
    server: &RunningServer,
    cert: &Path,
    env: &[(&str, String)],
    deadline: Duration,
) -> Json {
    let mut command = tokio::process::Command::new("node");
    command
        .current_dir(web_dir())
        .arg(script)
        .env("E2E_BASE_URL", format!("https://{}", server.addr))
        .env("E2E_CERT", cert)
        .env("CHROMIUM", chromium())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting node ({e}); {HOW}"));
    let output = tokio::time::timeout(deadline, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {deadline:?}"))
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "{script} printed no JSON line\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            )
        });
    let result: Json = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("unreadable result ({e}): {line}\n--- stderr ---\n{stderr}"));
    assert!(
        output.status.success() && result["ok"] == json!(true),
        "{script} failed: {result:#}\n--- stderr ---\n{stderr}"
    );
    result
}
