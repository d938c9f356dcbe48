//! A tablet's first sync when its cases carry attachments (issue #18): two servers, each in a
//! process of its own (this executable started again, pinned with `taskset -c 1` unless
//! `ATTACHMENT_SERVER_CPU` says otherwise, empty for no pinning), each holding a worker's
//! `--cases` cases (default 50); on the second every case also carries `--files` attachments
//! (default 3: PDFs of 256 KiB, 512 KiB and 1 MiB, uploaded by the office tablet that made
//! them). Then, `--runs` times (default 5), alternating between the two servers, a fresh tablet
//! of the same worker opens and syncs until it is up to date through a byte-counting TCP proxy.
//! Per run it prints the time and the bytes that crossed the proxy each way; on the server with
//! attachments it then checks that every attachment is listed as on the server only, with no
//! byte of it on the tablet, and opens one (a download on demand), counting its bytes apart.
//! `docs/benchmarks.md` has the figures.
//!
//! `taskset -c 0 target/release/examples/attachment-first-sync [-- --cases 50 --files 3 --runs 5]`

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use client_sdk::{
    AttachmentEvent, AttachmentPlace, ServerAddress, Tablet, TabletConfig, TabletKey, Trust,
};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;
use sync_core::model::case::{AttachmentKind, Referral};
use sync_core::model::DocumentKind;
use sync_core::{DocumentId, PeerId};

/// The attachments' sizes, cycled through for each case.
const SIZES: [usize; 3] = [256 << 10, 512 << 10, 1 << 20];

fn arg(name: &str, default: usize) -> usize {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (cases, files, runs) = (arg("--cases", 50), arg("--files", 3), arg("--runs", 5));
    if std::env::args().nth(1).as_deref() == Some(SERVE_ARG) {
        return serve(runs).await;
    }
    let cpu = std::env::var("ATTACHMENT_SERVER_CPU").unwrap_or_else(|_| "1".into());
    let cpu = (!cpu.is_empty()).then_some(cpu.as_str());
    let child_args = ["--runs".to_string(), runs.to_string()];
    let work = tempfile::tempdir().expect("tempdir");
    let key = TabletKey::new([7; 32]);
    let mut sides = Vec::new();
    for with_files in [0, files] {
        let server = ServerProcess::spawn_self(cpu, &child_args);
        let proxy = CountingProxy::start(server.addr).await;
        let office_dir = work.path().join(format!("office-{with_files}"));
        let office = open_tablet(&office_dir, &key, "tablet-office", &server, 0, None).await;
        fill(&office, cases, with_files).await;
        office.shutdown().await;
        sides.push((with_files, server, proxy));
    }

    let mut results: BTreeMap<usize, Figures> = BTreeMap::new();
    for run in 0..runs {
        for (with_files, server, proxy) in &sides {
            let dir = work.path().join(format!("field-{with_files}-{run}"));
            proxy.reset();
            let started = Instant::now();
            let name = format!("tablet-field-{run}");
            let field = open_tablet(&dir, &key, &name, server, run + 1, Some(proxy.addr)).await;
            field
                .wait_until_up_to_date(Duration::from_secs(120))
                .await
                .expect("up to date");
            let elapsed = started.elapsed().as_secs_f64();
            let (up, down) = proxy.bytes();
            let held = cases_of(&field).await.len();
            let (listed, on_server) = attachment_places(&field).await;
            let kept = bytes_under(&dir.join("attachments"));
            println!(
                "run={run} attachments_per_case={with_files} cases={held} first_sync_s={elapsed:.3} \
                 bytes_to_server={up} bytes_from_server={down} attachments_listed={listed} \
                 on_server_only={on_server} attachment_bytes_on_tablet={kept}"
            );
            assert_eq!(
                listed, on_server,
                "no attachment comes down with the first sync"
            );
            assert_eq!(kept, 0, "no attachment's byte is on the fresh tablet");
            if *with_files > 0 {
                open_one(&field, proxy).await;
            }
            field.shutdown().await;
            let entry = results.entry(*with_files).or_default();
            entry.seconds.push(elapsed);
            entry.from_server.push(down as f64);
            entry.to_server.push(up as f64);
        }
    }
    for (with_files, figures) in &mut results {
        println!(
            "{cases} cases x {with_files} attachments: median first_sync_s={:.3} \
             bytes_from_server={:.0} bytes_to_server={:.0}",
            median(&mut figures.seconds),
            median(&mut figures.from_server),
            median(&mut figures.to_server)
        );
    }
    for (_, server, _) in sides {
        server.stop();
    }
}

/// One side's runs: first syncs' seconds and bytes each way.
#[derive(Default)]
struct Figures {
    seconds: Vec<f64>,
    from_server: Vec<f64>,
    to_server: Vec<f64>,
}

/// The child: a server on sled with the region provisioned and `1 + runs` devices of `anna`
/// enrolled (the office tablet's, then one per fresh tablet).
async fn serve(runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(ServeConfig::for_tests(
        dir.path(),
        TlsMode::InsecureLoopback,
    ))
    .await;
    provision_region(&server);
    let tokens: Vec<String> = (0..=runs).map(|_| enroll(&server, "anna").token).collect();
    serve_until_stdin_closes(server, dir.path(), &tokens).await;
}

/// A tablet of `anna` in `dir` with the server's `token`-th token, through `via` if given.
async fn open_tablet(
    dir: &Path,
    key: &TabletKey,
    name: &str,
    server: &ServerProcess,
    token: usize,
    via: Option<SocketAddr>,
) -> Tablet {
    let address = ServerAddress {
        url: format!("ws://{}/sync", via.unwrap_or(server.addr)),
        token: server.tokens[token].clone(),
        trust: Trust::None,
    };
    let config = TabletConfig::new(
        dir,
        key.clone(),
        PeerId::new(name).expect("peer"),
        "anna",
        "gops",
    )
    .with_server(address);
    Tablet::open(config).await.expect("tablet opens")
}

/// `cases` cases made by the office tablet, each with `files` attachments, all uploaded.
async fn fill(office: &Tablet, cases: usize, files: usize) {
    let mut events = office.attachment_events();
    for i in 0..cases {
        let referral = Referral {
            by: "pedagog szkolny".into(),
            institution: "gops".into(),
            reason: format!("Zgłoszenie nr {i}: dziecko często opuszcza lekcje."),
            at: Utc::now(),
        };
        let case = office
            .create_case("gops", referral, BTreeMap::new())
            .await
            .expect("case");
        for f in 0..files {
            let bytes = pdf_file(SIZES[f % SIZES.len()]);
            office
                .attach(
                    case,
                    Box::new(Cursor::new(bytes)),
                    AttachmentKind::ExternalDocument,
                    None,
                    "skan",
                )
                .await
                .expect("attached");
        }
    }
    let mut uploaded = 0;
    while uploaded < cases * files {
        let event = tokio::time::timeout(Duration::from_secs(300), events.recv())
            .await
            .expect("uploads go on")
            .expect("events");
        if matches!(event, AttachmentEvent::Uploaded { .. }) {
            uploaded += 1;
        }
    }
    office
        .wait_until_up_to_date(Duration::from_secs(120))
        .await
        .expect("office up to date");
}

/// How many attachments the tablet's cases list, and how many of them are on the server only.
async fn attachment_places(tablet: &Tablet) -> (usize, usize) {
    let (mut listed, mut on_server) = (0, 0);
    for document in cases_of(tablet).await {
        for state in tablet.attachments(document).await.expect("attachments") {
            listed += 1;
            on_server += usize::from(matches!(state.place, AttachmentPlace::OnServer));
        }
    }
    (listed, on_server)
}

/// The cases the tablet holds.
async fn cases_of(tablet: &Tablet) -> Vec<DocumentId> {
    let documents = tablet.documents().await.expect("documents");
    documents
        .into_iter()
        .filter(|d| d.kind == Some(DocumentKind::Case))
        .map(|d| d.id)
        .collect()
}

/// Opens one attachment of the first case: the bytes it costs, printed.
async fn open_one(tablet: &Tablet, proxy: &CountingProxy) {
    let document = *cases_of(tablet).await.first().expect("a case");
    let states = tablet.attachments(document).await.expect("attachments");
    let first = states.first().expect("an attachment");
    proxy.reset();
    let started = Instant::now();
    tablet
        .download_attachment(document, &first.view.attachment.sha256)
        .await
        .expect("downloaded");
    let (up, down) = proxy.bytes();
    println!(
        "    opened one attachment of {} bytes: {:.3} s, bytes_from_server={down} bytes_to_server={up}",
        first.view.attachment.size,
        started.elapsed().as_secs_f64()
    );
}

/// A TCP proxy on loopback that counts the bytes passed each way.
struct CountingProxy {
    addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
}

impl CountingProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (u, d) = (up.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (u, d) = (u.clone(), d.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut cr, mut cw) = client.split();
                    let (mut sr, mut sw) = server.split();
                    let to_server = counted_copy(&mut cr, &mut sw, &u);
                    let to_client = counted_copy(&mut sr, &mut cw, &d);
                    let _ = tokio::join!(to_server, to_client);
                });
            }
        });
        Self { addr, up, down }
    }

    fn reset(&self) {
        self.up.store(0, Ordering::Relaxed);
        self.down.store(0, Ordering::Relaxed);
    }

    /// Bytes sent to the server and received from it since the last reset.
    fn bytes(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::Relaxed),
            self.down.load(Ordering::Relaxed),
        )
    }
}

/// Copies until the end of `from`, adding every byte to `count` as it passes.
async fn counted_copy(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    count: &AtomicU64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 || to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
