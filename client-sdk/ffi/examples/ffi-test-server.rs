//! The server the Kotlin tests (`client-sdk/ffi/kotlin`) sync with: a real Kooperacja server in
//! this process on 127.0.0.1:0 with the development certificate (`kooperacja-test-support`'s
//! `start_server`), driven by lines on stdin, answering with one JSON line on stdout each:
//!
//! - at start: `{"url":"wss://127.0.0.1:PORT/sync","fingerprint":"<sha-256 hex>"}`
//! - `enroll <login>` → `{"device":"<id>","token":"<token>"}`: a device enrolled for the
//!   social worker `login` (added on first use)
//! - `revoke <device>` → `{"revoked":"<id>"}` once the device is revoked and its connections
//!   are closed
//! - end of input: the server shuts down and the process exits.
//!
//! `cargo run -p client-sdk-ffi --example ffi-test-server`

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{anyhow, bail, Context};
use kooperacja_test_support::server::{enroll, revoke, start_server, Device};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("a data directory")?;
    let server = start_server(dir.path()).await;
    let fingerprint = server
        .fingerprint
        .clone()
        .ok_or_else(|| anyhow!("the test server runs with TLS"))?;
    println!(
        "{}",
        json!({ "url": format!("wss://{}/sync", server.addr), "fingerprint": fingerprint })
    );
    let mut devices: HashMap<String, Device> = HashMap::new();
    // Commands are read on a thread of their own: stdin blocks.
    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = commands.recv().await {
        let line = line.context("reading a command")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["enroll", login] => {
                let device = enroll(&server, login);
                println!("{}", json!({ "device": device.id, "token": device.token }));
                devices.insert(device.id.clone(), device);
            }
            ["revoke", id] => {
                let device = devices
                    .get(*id)
                    .ok_or_else(|| anyhow!("no device {id} was enrolled here"))?;
                revoke(&server, device).await;
                println!("{}", json!({ "revoked": id }));
            }
            [] => {}
            _ => bail!("unknown command {line:?} (enroll <login> | revoke <device>)"),
        }
    }
    server.shutdown().await.context("shutting down")?;
    Ok(())
}
