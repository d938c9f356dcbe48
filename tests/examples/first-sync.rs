//! Measures a new tablet's first sync: a worker's 200 cases already on the regional server, a
//! fresh tablet of the same worker opens and syncs until it is up to date. Prints the time, and
//! the tablet's on-disk size per case (encrypted sled store).
//!
//! `cargo run --release -p kooperacja-tests --example first-sync [-- --cases 200]`
//!
//! It starts a real server in-process (TLS with a development certificate, on 127.0.0.1).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use client_sdk::{ServerAddress, Tablet, TabletConfig, TabletKey, Trust};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::identity::Role;
use sync_core::model::case::Referral;
use sync_core::PeerId;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cases: usize = std::env::args()
        .skip_while(|a| a != "--cases")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let work = tempfile::tempdir()?;
    let server = kooperacja_server::serve::start(ServeConfig::for_tests(
        &work.path().join("server"),
        TlsMode::Dev,
    ))
    .await?;
    let directory = &server.state.directory;
    directory.add_institution("gops", "GOPS", "social")?;
    directory.add_user("anna", "Anna Kowalska", vec![Role::SocialWorker])?;
    directory.set_institution("anna", "gops")?;
    server.state.registry.reload_directory()?;
    let address = |token: String| ServerAddress {
        url: format!("wss://{}/sync", server.addr),
        token,
        trust: Trust::Pinned(server.fingerprint.clone().unwrap_or_default()),
    };
    let enroll = || -> anyhow::Result<String> {
        let mut random = [0u8; 48];
        rand::fill(&mut random[..]);
        Ok(directory.enroll("anna", random)?.token)
    };
    let key = TabletKey::new([7; 32]);

    // The office tablet puts the worker's cases on the server.
    let office_dir = work.path().join("office");
    let office = Tablet::open(
        TabletConfig::new(
            &office_dir,
            key.clone(),
            PeerId::new("tablet-office")?,
            "anna",
            "gops",
        )
        .with_server(address(enroll()?)),
    )
    .await?;
    for i in 0..cases {
        let referral = Referral {
            by: "pedagog szkolny".into(),
            institution: "gops".into(),
            reason: format!("Zgłoszenie nr {i}: dziecko często opuszcza lekcje, rodzina w trudnej sytuacji mieszkaniowej."),
            at: Utc::now(),
        };
        office
            .create_case("gops", referral, BTreeMap::new())
            .await?;
    }
    office
        .wait_until_up_to_date(Duration::from_secs(120))
        .await
        .context("office upload")?;
    office.shutdown().await;

    // A new tablet of the same worker: open, sync, up to date.
    let field_dir = work.path().join("field");
    let started = Instant::now();
    let field = Tablet::open(
        TabletConfig::new(
            &field_dir,
            key,
            PeerId::new("tablet-field")?,
            "anna",
            "gops",
        )
        .with_server(address(enroll()?)),
    )
    .await?;
    let status = field
        .wait_until_up_to_date(Duration::from_secs(120))
        .await?;
    let elapsed = started.elapsed();
    let held = field.documents().await?.len();
    field.shutdown().await;
    let size = kooperacja_test_support::bytes_under(&field_dir);
    println!(
        "first sync of {held} cases: {:.2} s ({status}); tablet store {:.1} KiB, {:.1} KiB per case",
        elapsed.as_secs_f64(),
        size as f64 / 1024.0,
        size as f64 / 1024.0 / held.max(1) as f64
    );
    server.shutdown().await?;
    Ok(())
}
