//! `kooperacja-load`: the load generator of issue #8, against any automerge-repo sync server.
//!
//! ```text
//! kooperacja-load ws://127.0.0.1:3030 --clients 10 --docs 10 --edits 50 --server-pid PID --json out.json
//! kooperacja-load wss://127.0.0.1:8443/sync --pin SHA256 --token T --clients 50 --docs 20 --edits 50
//! kooperacja-load ws://127.0.0.1:3030/sync --token T --connect-only 1000 --docs 20 --edits 5 --interval 5000
//! kooperacja-load ws://127.0.0.1:3030/sync --token T --stored 100000 --reads 20000 --readers 4
//! kooperacja-load ws://127.0.0.1:3030/sync --token T --durable-rate --clients 20 --docs 50 --edits 100 --batch 1
//! ```
//!
//! Prints a one-line summary on stdout (and the JSON report with `--json`); exits 1 when the
//! fresh client's verification fails, 2 when the run could not be carried out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use client_sdk::transport::Trust;
use kooperacja_tests::load::archive::ArchiveConfig;
use kooperacja_tests::load::blast::BlastConfig;
use kooperacja_tests::load::{self, LoadConfig};
use kooperacja_tests::LoadError;

/// Simulated tablets on sync-core's engine against an automerge-repo sync server.
#[derive(Debug, Parser)]
#[command(name = "kooperacja-load")]
struct Args {
    /// The server's WebSocket URL (ws:// or wss://, loopback only).
    url: String,
    /// Simulated tablets, each with one WebSocket.
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Documents each tablet owns.
    #[arg(long, default_value_t = 10)]
    docs: usize,
    /// Edits per document.
    #[arg(long, default_value_t = 50)]
    edits: usize,
    /// Milliseconds between a tablet's edit rounds (one edit to each of its documents per
    /// round); 0 is flat out.
    #[arg(long, default_value_t = 0)]
    interval: u64,
    /// Characters spliced into `notes` per edit.
    #[arg(long, default_value_t = 10)]
    text_len: usize,
    /// Typing only: each edit is the splice alone, without setting `n` (what a server's relay
    /// path takes, #23); watchers count edits by the length of `notes`.
    #[arg(long)]
    typing: bool,
    /// The server's pid: its peak RSS and CPU seconds are read from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A device token, appended to the URL as `?token=` (servers without tokens ignore it).
    #[arg(long, env = "KOOPERACJA_TOKEN")]
    token: Option<String>,
    /// For wss://: a PEM file of CA certificates to trust.
    #[arg(long, conflicts_with = "pin")]
    ca: Option<PathBuf>,
    /// For wss://: the SHA-256 fingerprint (hex) of the server's certificate.
    #[arg(long)]
    pin: Option<String>,
    /// The 1,000-tablet scenario: N connected tablets (replaces --clients), paced and staggered
    /// edits, the server's RSS per idle connection reported.
    #[arg(long, value_name = "N")]
    connect_only: Option<usize>,
    /// Paced runs: spread the clients' rounds evenly over the interval (a steady rate) instead
    /// of starting them together (bursts, as load.mjs does).
    #[arg(long)]
    stagger: bool,
    /// The stored-documents scenario: store N documents, then open them at random (replaces
    /// --clients, --docs and --edits).
    #[arg(long, value_name = "N")]
    stored: Option<usize>,
    /// With --stored: characters of notes per stored document.
    #[arg(long, default_value_t = 2_000)]
    doc_text: usize,
    /// With --stored: connections storing documents at once.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// With --stored: documents one connection stores before it closes.
    #[arg(long, default_value_t = 500)]
    wave: usize,
    /// With --stored: random reads in all.
    #[arg(long, default_value_t = 20_000)]
    reads: usize,
    /// With --stored: connections reading at once, one document at a time each.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Acknowledged-durable changes per second: every change made before the clock starts, sent
    /// flat out in frames of --batch changes, timed until the server acknowledged them all.
    #[arg(long, conflicts_with_all = ["stored", "connect_only"])]
    durable_rate: bool,
    /// With --durable-rate: changes per sync frame.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Time limit of each phase before and after the edits, seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// How long to wait after the last edit for the server and the watchers, seconds.
    #[arg(long, default_value_t = 60)]
    settle_timeout: u64,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
}

fn trust(args: &Args) -> Result<Trust, LoadError> {
    let tls = args.url.starts_with("wss://");
    let trust = match (&args.ca, &args.pin) {
        (Some(ca), _) => load::trust_from_ca(ca)?,
        (None, Some(pin)) => Trust::Pinned(pin.clone()),
        (None, None) if tls => {
            return Err(LoadError::Config(
                "a wss:// URL needs --ca FILE or --pin SHA256".into(),
            ))
        }
        (None, None) => Trust::None,
    };
    if !tls && !matches!(trust, Trust::None) {
        return Err(LoadError::Config("--ca and --pin need a wss:// URL".into()));
    }
    Ok(trust)
}

fn config(args: &Args) -> Result<LoadConfig, LoadError> {
    let mut config = LoadConfig::new(args.url.clone(), trust(args)?);
    config.token = args.token.clone();
    config.clients = args.connect_only.unwrap_or(args.clients);
    config.connect_only = args.connect_only.is_some();
    config.stagger = args.stagger || config.connect_only;
    config.docs = args.docs;
    config.edits = args.edits;
    config.interval = Duration::from_millis(args.interval);
    config.text_len = args.text_len;
    config.typing = args.typing;
    config.server_pid = args.server_pid;
    config.phase_timeout = Duration::from_secs(args.timeout);
    config.settle_timeout = Duration::from_secs(args.settle_timeout);
    config.progress = !args.quiet;
    if config.connect_only && config.interval.is_zero() {
        return Err(LoadError::Config(
            "--connect-only is the paced scenario: give --interval (ms)".into(),
        ));
    }
    Ok(config)
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<(), LoadError> {
    let json = serde_json::to_string_pretty(value)?;
    std::fs::write(path, json).map_err(|source| LoadError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

/// The stored-documents scenario.
async fn archive(args: &Args, documents: usize) -> Result<bool, LoadError> {
    let mut config = ArchiveConfig::new(args.url.clone(), trust(args)?);
    config.token = args.token.clone();
    config.documents = documents;
    config.doc_text = args.doc_text;
    config.writers = args.writers;
    config.wave = args.wave;
    config.reads = args.reads;
    config.readers = args.readers;
    config.server_pid = args.server_pid;
    config.timeout = Duration::from_secs(args.timeout);
    config.progress = !args.quiet;
    let report = load::archive::run(config).await;
    let report = reported(args, "stored", report)?;
    println!("{}", report.summary());
    Ok(report.verified)
}

/// Writes the report (or, for a run that could not be carried out, why) to `--json`.
fn reported<R: serde::Serialize>(
    args: &Args,
    scenario: &str,
    report: Result<R, LoadError>,
) -> Result<R, LoadError> {
    let Some(path) = &args.json else {
        return report;
    };
    match report {
        Ok(report) => {
            write_json(path, &report)?;
            Ok(report)
        }
        Err(e) => {
            let failed = serde_json::json!({
                "server": args.url,
                "serverPid": args.server_pid,
                "scenario": scenario,
                "error": e.to_string(),
                "verified": false,
            });
            write_json(path, &failed)?;
            Err(e)
        }
    }
}

/// The acknowledged-durable rate.
async fn durable_rate(args: &Args) -> Result<bool, LoadError> {
    let config = BlastConfig {
        url: args.url.clone(),
        token: args.token.clone(),
        trust: trust(args)?,
        clients: args.clients,
        docs: args.docs,
        edits: args.edits,
        batch: args.batch,
        server_pid: args.server_pid,
        timeout: Duration::from_secs(args.timeout),
        progress: !args.quiet,
    };
    let report = reported(args, "durable-rate", load::blast::run(config).await)?;
    println!("{}", report.summary());
    Ok(report.verified)
}

async fn main_async(args: Args) -> Result<bool, LoadError> {
    if let Some(documents) = args.stored {
        return archive(&args, documents).await;
    }
    if args.durable_rate {
        return durable_rate(&args).await;
    }
    let config = config(&args)?;
    let report = match load::run(config.clone()).await {
        Ok(report) => report,
        Err(e) => {
            // A run that could not be carried out still leaves a report saying why.
            if let Some(path) = &args.json {
                let failed = serde_json::json!({
                    "server": config.url,
                    "serverPid": config.server_pid,
                    "params": {
                        "clients": config.clients,
                        "docs": config.docs,
                        "edits": config.edits,
                        "intervalMs": args.interval,
                        "connectOnly": config.connect_only,
                        "stagger": config.stagger,
                    },
                    "error": e.to_string(),
                    "verified": false,
                });
                write_json(path, &failed)?;
            }
            return Err(e);
        }
    };
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    println!("{}", report.summary());
    Ok(report.verified)
}

fn main() -> ExitCode {
    let args = Args::parse();
    // One thread: the generator is pinned to one core, and its clients are many small tasks.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kooperacja-load: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(main_async(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("kooperacja-load: verification FAILED (see the report)");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("kooperacja-load: {e}");
            ExitCode::from(2)
        }
    }
}
