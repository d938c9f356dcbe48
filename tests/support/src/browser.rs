//! Browser tests: a script of `web/e2e/` (playwright-core driving Debian's `chromium`) run
//! against a server of this process, over TLS with the server's development certificate (the
//! scripts tell Chromium to trust exactly its public key; no certificate check is turned off).
//!
//! A script prints JSON lines on stdout. A line with `"request"` asks the test for something in
//! the middle of the story (say, revoking a device); the test's answer goes back as one JSON
//! line on the script's stdin. The last line is the result: `{"ok":true,...}` or
//! `{"ok":false,"step":...,"error":...}`.
//!
//! Needs Node >= 20, `web/node_modules` (installed here with `npm ci` when missing) and
//! `/usr/bin/chromium` (or `CHROMIUM`). Without them the test fails, on purpose: CI installs
//! them, and a skipped browser test proves nothing.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kooperacja_server::serve::RunningServer;
use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// How to get what browser tests need.
pub const BROWSER_TOOLS: &str = "browser tests need Node >= 20, the packages of web/ (`npm ci` \
                                 in web/) and Debian's chromium (`apt-get install -y chromium`); \
                                 CI installs them";

/// The repository's `web/` folder.
pub fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../web")
        .canonicalize()
        .expect("web/ is beside tests/")
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
        .unwrap_or_else(|e| panic!("`node` cannot be run ({e}); {BROWSER_TOOLS}"));
    assert!(
        node.status.success(),
        "`node --version` failed; {BROWSER_TOOLS}"
    );
    let playwright = web_dir().join("node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(web_dir())
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("`npm` cannot be run ({e}); {BROWSER_TOOLS}"));
        assert!(status.success(), "`npm ci` in web/ failed; {BROWSER_TOOLS}");
    }
    let browser = chromium();
    assert!(
        browser.is_file(),
        "{} is missing; {BROWSER_TOOLS}",
        browser.display()
    );
}

/// A one-time enrolment code for `login`.
pub fn enrolment_code(server: &RunningServer, login: &str) -> String {
    let mut random = [0u8; 10];
    rand::fill(&mut random[..]);
    server
        .state
        .directory
        .enrolment_code(login, random)
        .expect("enrolment code")
        .code
}

/// A browser script to run: `web/e2e/{script}` with `BASE_URL`, `SERVER_CERT`, `CHROMIUM` and
/// the given variables in its environment.
#[derive(Debug)]
pub struct BrowserScript<'a> {
    pub script: &'a str,
    pub env: Vec<(&'a str, String)>,
    /// How long the whole script may take (each of its waits times out sooner).
    pub deadline: Duration,
}

impl BrowserScript<'_> {
    /// Runs the script to its end, answering its requests with `answer`, and returns its
    /// result line (asserting `"ok": true`).
    pub async fn run<F, Fut>(self, server: &RunningServer, cert: &Path, mut answer: F) -> Json
    where
        F: FnMut(Json) -> Fut,
        Fut: Future<Output = Json>,
    {
        let mut command = tokio::process::Command::new("node");
        command
            .current_dir(web_dir())
            .arg(format!("e2e/{}", self.script))
            .env("BASE_URL", format!("https://{}", server.addr))
            .env("SERVER_CERT", cert)
            .env("CHROMIUM", chromium())
            .envs(self.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting node ({e}); {BROWSER_TOOLS}"));
        let mut stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let script = self.script;
        // The script's stderr (its steps, as they happen) is echoed and kept for the report.
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let name = script.to_owned();
        let errors = tokio::spawn(async move {
            let mut all = String::new();
            while let Ok(Some(line)) = stderr.next_line().await {
                eprintln!("{name} (stderr): {line}");
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let talk = async {
            let mut printed = Vec::new();
            while let Some(line) = stdout.next_line().await.expect("the script's stdout") {
                let message: Option<Json> = line
                    .trim_start()
                    .starts_with('{')
                    .then(|| serde_json::from_str(&line).ok())
                    .flatten();
                match message {
                    Some(mut message) if message.get("request").is_some() => {
                        let reply = answer(message["request"].take()).await;
                        let mut reply = reply.to_string();
                        reply.push('\n');
                        stdin
                            .write_all(reply.as_bytes())
                            .await
                            .expect("answering the script");
                    }
                    Some(result) => printed.push(result),
                    None => eprintln!("{script}: {line}"),
                }
            }
            printed
        };
        let printed = tokio::time::timeout(self.deadline, talk)
            .await
            .unwrap_or_else(|_| panic!("{script} did not finish within {:?}", self.deadline));
        let errors = errors.await.unwrap_or_default();
        let status = child.wait().await.expect("node ran");
        let result = printed
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("{script} printed no result line\n--- stderr ---\n{errors}"));
        assert!(
            status.success() && result["ok"] == json!(true),
            "{script} failed: {result:#}\n--- stderr ---\n{errors}"
        );
        result
    }
    /// Runs a script that asks nothing of the test (a request fails it) and returns its
    /// result line.
    pub async fn run_alone(self, server: &RunningServer, cert: &Path) -> Json {
        let script = self.script.to_owned();
        self.run(server, cert, |request| {
            let script = script.clone();
            async move { panic!("{script} asks nothing: {request}") }
        })
        .await
    }
}

/// The folder a story's screenshots go to: `KOOPERACJA_SCREENS`, by default `/tmp/screens`;
/// created if missing.
pub fn screens_dir() -> String {
    let screens = std::env::var("KOOPERACJA_SCREENS").unwrap_or_else(|_| "/tmp/screens".into());
    std::fs::create_dir_all(&screens).expect("screens folder");
    screens
}
