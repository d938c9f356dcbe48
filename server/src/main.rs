//! `kooperacja-server serve ...` and `kooperacja-server admin ...`.

use clap::Parser;
use kooperacja_server::config::{Cli, CliCommand, TlsMode};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What is logged when `RUST_LOG` is not set. automerge instruments its loading functions with
/// INFO spans whose fields (a document's whole change graph) a subscriber formats on every call,
/// 18 % of the server's instructions under load (callgrind), though they are never printed: off.
const DEFAULT_LOG_FILTER: &str = "info,automerge=warn";

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        CliCommand::Admin(args) => {
            let out = kooperacja_server::admin::run(
                &args.data_dir,
                &args.secrets_dir(),
                args.store.as_deref(),
                args.command,
            )?;
            print!("{out}");
            Ok(())
        }
        CliCommand::Serve(args) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| DEFAULT_LOG_FILTER.into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let config = args.resolve()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let tls = config.tls.clone();
                let data_dir = config.data_dir.clone();
                let server = kooperacja_server::serve::start(config).await?;
                let scheme = if tls == TlsMode::InsecureLoopback {
                    "ws"
                } else {
                    "wss"
                };
                match (&tls, &server.fingerprint) {
                    (TlsMode::InsecureLoopback, _) => eprintln!(
                        "Serving PLAIN HTTP (no TLS) on loopback only: {scheme}://{}/sync",
                        server.addr
                    ),
                    (TlsMode::Dev, Some(fp)) => eprintln!(
                        "Serving TLS with a DEVELOPMENT certificate ({}): {scheme}://{}/sync\n\
                         certificate SHA-256 fingerprint: {fp}",
                        data_dir.join("tls/dev-cert.pem").display(),
                        server.addr
                    ),
                    (_, fp) => eprintln!(
                        "Serving TLS on {scheme}://{}/sync (certificate SHA-256 {})",
                        server.addr,
                        fp.as_deref().unwrap_or("?")
                    ),
                }
                // One JSON line on stdout for scripts and tests.
                println!(
                    "{}",
                    serde_json::json!({
                        "ready": true,
                        "addr": server.addr.to_string(),
                        "pid": std::process::id(),
                        "tls": tls != TlsMode::InsecureLoopback,
                        "fingerprint": server.fingerprint,
                    })
                );
                server.wait().await?;
                anyhow::Ok(())
            })
        }
    }
}
