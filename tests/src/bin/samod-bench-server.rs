//! `samod-bench-server`: samod (the Rust port of automerge-repo, crates.io) as a sync server for
//! the side-by-side benchmark of issue #8, set up as `../shared/bench/ref-server.mjs` sets up the
//! JS reference: one repo, WebSocket upgrade on any path (samod's axum acceptor), storage in a
//! directory (samod's `TokioFilesystemStorage`, the automerge-repo-storage-nodefs layout; like
//! nodefs it writes files without fsync), every document shared with every peer, no announcing.
//! Binds 127.0.0.1 only.
//!
//! ```text
//! samod-bench-server --port 3031 --dir ./data/samod
//! {"ready":true,"url":"ws://127.0.0.1:3031","pid":1234,"dir":"./data/samod",...}
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::Router;
use clap::Parser;
use kooperacja_tests::LoadError;
use samod::storage::TokioFilesystemStorage;
use samod::{AcceptorHandle, Repo, ShareConfig};

/// samod behind its axum WebSocket acceptor, for benchmarks.
#[derive(Debug, Parser)]
#[command(name = "samod-bench-server")]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 3031)]
    port: u16,
    /// Storage directory.
    #[arg(long, default_value = "./samod-data")]
    dir: PathBuf,
    /// samod's peer id.
    #[arg(long, default_value = "samod-bench-server")]
    peer_id: String,
}

async fn upgrade(State(acceptor): State<AcceptorHandle>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| async move {
        if let Err(e) = acceptor.accept_axum(socket, None) {
            eprintln!("samod-bench-server: the repo has stopped: {e:?}");
        }
    })
}

async fn serve(args: Args) -> Result<(), LoadError> {
    let io = |what: String| move |source| LoadError::Io { what, source };
    std::fs::create_dir_all(&args.dir).map_err(io(format!("creating {}", args.dir.display())))?;
    let repo = Repo::build_tokio()
        .with_peer_id(samod::PeerId::from(args.peer_id.as_str()))
        .with_storage(TokioFilesystemStorage::new(&args.dir))
        .with_share_policy(ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(io(format!("binding 127.0.0.1:{}", args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(io("reading the bound address".into()))?;
    let url = format!("ws://{addr}");
    let acceptor = repo
        .make_acceptor(
            samod::Url::parse(&url).map_err(|e| LoadError::Config(format!("URL {url}: {e}")))?,
        )
        .map_err(|_| LoadError::Config("the samod repo stopped before serving".into()))?;
    let app = Router::new().fallback(upgrade).with_state(acceptor);
    println!(
        "{}",
        serde_json::json!({
            "ready": true,
            "url": url,
            "pid": std::process::id(),
            "dir": args.dir,
            "peerId": args.peer_id,
            "samod": "0.16",
            "storage": "TokioFilesystemStorage (nodefs layout, no fsync)",
        })
    );
    let stop = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .map_err(io("serving".into()))?;
    // Waits for pending storage tasks.
    repo.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samod-bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}
