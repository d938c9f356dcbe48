//! Starting and stopping the server: open the store, start the hub, bind, serve over TLS or
//! loopback HTTP, and shut down gracefully (stop accepting, close sockets with 1001, finish
//! every pending write).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sync_core::engine::{EngineConfig, Input};
use sync_core::{PeerId, StorageId};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::access::Registry;
use crate::app;
use crate::audit::Audit;
use crate::config::{ServeConfig, TlsMode};
use crate::doors::accept::{self, Entrance};
use crate::doors::{Doors, MetricsAccess, SocketCaps};
use crate::error::ServerError;
use crate::hub::{self, Command, HubConfig, HubHandle, Limits};
use crate::identity::Directory;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{store_path, DocStore};

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// SHA-256 of the TLS certificate, when serving TLS.
    pub fingerprint: Option<String>,
    /// The address of `/metrics`' own listener, with `--metrics-listen`.
    pub metrics_addr: Option<SocketAddr>,
    /// The shared state (tests use its directory to enrol devices).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Stops gracefully and waits until every pending write is durable.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .await
            .map_err(|e| ServerError::Config(format!("server task failed: {e}")))?
    }

    /// Waits until the server stops on its own (signal).
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Config(format!("server task failed: {e}")))?
    }
}

/// This server's stable identity: a random id made on first start and kept in the store, used
/// as its peer id and (in UUID form, as JS clients expect) its storage id.
/// Nodes sharing a PostgreSQL store share it too: to clients they are one server with one
/// durable storage.
fn server_identity(kv: &crate::kv::Kv) -> Result<(PeerId, StorageId), ServerError> {
    let meta = kv.open_tree("meta")?;
    let mut fresh = [0u8; 16];
    rand::fill(&mut fresh[..]);
    meta.swap("server-id", None, fresh)?;
    let id = meta
        .get("server-id")?
        .ok_or_else(|| ServerError::Corrupt("server id vanished".into()))?;
    let h = hex::encode(&id);
    if h.len() != 32 {
        return Err(ServerError::Corrupt("server id is not 16 bytes".into()));
    }
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    );
    let invalid = |e: sync_core::IdError| ServerError::Config(e.to_string());
    Ok((
        PeerId::new(format!("kooperacja-{}", &h[..16])).map_err(invalid)?,
        StorageId::new(uuid).map_err(invalid)?,
    ))
}

/// This node's name in PostgreSQL notifications and its audit chain: made once per data
/// directory (each node has its own data directory: TLS certificate, disk guard).
fn node_name(data_dir: &std::path::Path) -> Result<String, ServerError> {
    let path = data_dir.join("node-id");
    if let Ok(name) = std::fs::read_to_string(&path) {
        let name = name.trim().to_string();
        if !name.is_empty() {
            return Ok(name);
        }
    }
    let mut fresh = [0u8; 6];
    rand::fill(&mut fresh[..]);
    let name = format!("node-{}", hex::encode(fresh));
    crate::secrets::write_private_file(&path, name.as_bytes())?;
    Ok(name)
}

/// Opens the store, starts everything, binds and serves. Returns once listening.
pub async fn start(config: ServeConfig) -> Result<RunningServer, ServerError> {
    crate::secrets::create_private_dir(&config.data_dir)?;
    let secrets = crate::secrets::Secrets::open_or_create(&config.secrets_dir)?;
    let backup_key = config
        .backup_key_file
        .as_deref()
        .map(crate::secrets::read_key_file)
        .transpose()?;
    let path = store_path(&config.data_dir);
    let node = node_name(&config.data_dir)?;
    let url = config.store.clone();
    let opened_node = node.clone();
    let master = secrets.master.clone();
    let pool = config.postgres_pool;
    let storage = tokio::task::spawn_blocking(move || {
        crate::at_rest::rewrite::open_pooled(url.as_deref(), &path, &opened_node, pool, &master)
    })
    .await
    .map_err(|e| ServerError::Config(e.to_string()))??;
    let kv = storage.kv();
    let backups = storage.clone();
    let directory = Directory::open(&kv, &secrets.master)?;
    // The reserve guards sled, which cannot recover from a failed write (`crate::disk`); a
    // PostgreSQL store is on another disk and reports a full one itself.
    let disk = matches!(storage.inner(), DocStore::Sled(_)).then(|| {
        Arc::new(crate::disk::DiskGuard::new(
            &config.data_dir,
            config.disk_reserve,
        ))
    });
    let audit = Arc::new(match &disk {
        Some(disk) => Audit::open_guarded(&kv, &secrets, disk.clone())?,
        None => Audit::open(&kv, &secrets)?,
    });
    let registry = Registry::open(&kv, directory.clone(), audit, config.allow_untyped)?;
    let metrics = Arc::new(Metrics::default());
    let (peer_id, storage_id) = server_identity(&kv)?;
    let mut engine = EngineConfig::server(peer_id);
    engine.storage_id = Some(storage_id);
    engine.max_frame = config.max_frame;
    engine.memory_budget = config.memory_budget;
    engine.relay = config.relay;
    let hub = hub::start(
        HubConfig {
            engine,
            outgoing_queue: 4096,
            max_inputs_per_tick: 4096,
            disk: disk.clone(),
            max_queued_bytes: config.max_queued_bytes.max(2 * config.max_frame),
        },
        storage,
        registry.clone(),
        metrics.clone(),
    );
    if let DocStore::Pg(pg) = backups.inner() {
        // Other nodes' commits: reload the document here, refresh the tables.
        let (hub, registry, devices) = (hub.clone(), registry.clone(), directory.clone());
        pg.pg().listen(move |what| {
            if let Some(id) = what.strip_prefix("doc ") {
                if let Ok(document) = id.parse() {
                    hub.send_blocking(hub::Command::Input(Input::Reload { document }));
                }
                return;
            }
            // A device revoked through another node is cut off here too.
            if let Some(id) = what.strip_prefix("kv devices ") {
                let id = hex::decode(id).map(|b| String::from_utf8_lossy(&b).into_owned());
                if let Ok(Some(device)) = id.map(|id| devices.device(&id)).unwrap_or(Ok(None)) {
                    if device.revoked {
                        let (ack, _) = tokio::sync::oneshot::channel();
                        hub.send_blocking(hub::Command::DropDevice(device.device_id, ack));
                    }
                }
                return;
            }
            if let Err(e) = registry.refresh(what) {
                tracing::warn!(error = %e, what, "refreshing the tables failed");
            }
            if what == "all" {
                // Listening again after a loss: what other nodes committed meanwhile was not
                // heard, so every resident document is loaded again.
                hub.send_blocking(hub::Command::ReloadResident);
            }
            hub.send_blocking(hub::Command::Input(Input::Tick));
        })?;
        tracing::info!(node = %node, "PostgreSQL store; listening for other nodes");
    }
    let blobs = crate::blobs::Blobs::open(
        &backups,
        &config.data_dir,
        disk.clone(),
        config.max_attachment,
        config.attachment_grace,
    )?;
    let state = AppState {
        hub: hub.clone(),
        directory,
        registry,
        metrics,
        connection_slots: Arc::new(Semaphore::new(config.max_connections)),
        limits: Limits {
            max_frame: config.max_frame,
            frames_per_second: 2_000,
            burst: 20_000,
            ping_every: config.ping_every,
            idle_timeout: config.idle_timeout,
        },
        outgoing_queue: 4096,
        kv,
        storage: backups,
        secrets,
        backup_key,
        data_dir: config.data_dir.clone(),
        blobs,
        evaluation_min_group: config.evaluation_min_group,
        retention_months: config.retention_months,
        clock: config.clock.clone(),
        doors: Arc::new(Doors {
            sockets: Arc::new(SocketCaps::new(
                config.max_sockets_per_user,
                config.max_sockets_per_device,
            )),
            metrics: MetricsAccess::new(
                config.metrics_token.as_deref(),
                config.metrics_listen.is_some(),
            ),
        }),
    };
    let mut router = app(state.clone());
    if matches!(config.tls, TlsMode::Files { .. }) {
        router = router.layer(axum::middleware::map_response(crate::doors::headers::hsts));
    }
    let listener = bind(config.listen).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::io("reading the bound address", e))?;
    let entrance = Entrance {
        header_timeout: config.header_timeout,
        pending: Arc::new(Semaphore::new(config.max_pending_connections)),
        metrics: state.metrics.clone(),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    // Tells `/metrics`' own listener (if any) that the server stops.
    let (stopping, stopping_seen) = watch::channel(false);
    let written = state.kv.clone();
    collect_orphans_hourly(state.blobs.clone(), stopping_seen.clone());
    if let Some(every) = config.retention_sweep {
        sweep_retention(state.clone(), every, stopping_seen.clone());
    }
    let shutdown = async move {
        shutdown_signal(stopped, hub).await;
        // Audit records and bindings still in the PostgreSQL batch writer's hands.
        let flushed = tokio::task::spawn_blocking(move || written.flush()).await;
        if let Ok(Err(e)) = flushed {
            tracing::error!(error = %e, "not every audit record was written at shutdown");
        }
        let _ = stopping.send(true);
    };
    let metrics_addr = match config.metrics_listen {
        Some(at) => Some(serve_metrics(at, &state, entrance.clone(), stopping_seen).await?),
        None => None,
    };
    let (fingerprint, tls) = match &config.tls {
        TlsMode::InsecureLoopback => (None, None),
        TlsMode::Files { cert, key } => {
            let certificate = crate::tls::load(cert, key)?;
            (
                Some(certificate.fingerprint),
                Some(TlsAcceptor::from(certificate.config)),
            )
        }
        TlsMode::Dev => {
            let (certificate, path) = crate::tls::dev(&config.data_dir)?;
            tracing::info!(path = %path.display(), "development certificate");
            (
                Some(certificate.fingerprint),
                Some(TlsAcceptor::from(certificate.config)),
            )
        }
    };
    let task = tokio::spawn(accept::serve(listener, tls, router, entrance, shutdown));
    Ok(RunningServer {
        addr,
        fingerprint,
        metrics_addr,
        state,
        stop: Some(stop),
        task,
    })
}

/// Resolves on Ctrl-C, SIGTERM or an explicit stop, after the hub has closed every socket and
/// finished every pending write.
async fn shutdown_signal(stopped: oneshot::Receiver<()>, hub: HubHandle) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
        _ = stopped => {}
    }
    let (ack, done) = oneshot::channel();
    if hub.send(Command::Shutdown(ack)).await {
        let _ = tokio::time::timeout(Duration::from_secs(30), done).await;
    }
}

async fn bind(at: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(at)
        .await
        .map_err(|e| ServerError::io(format!("binding {at}"), e))
}

/// `/metrics` alone on a listener of its own (plain HTTP, for a private interface), until the
/// server stops; returns its address.
async fn serve_metrics(
    at: SocketAddr,
    state: &AppState,
    entrance: Entrance,
    mut stopping: watch::Receiver<bool>,
) -> Result<SocketAddr, ServerError> {
    let listener = bind(at).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::io("reading the bound address", e))?;
    let router = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(crate::health::metrics_on_own_listener),
        )
        .layer(axum::middleware::map_response(
            crate::doors::headers::no_store,
        ))
        .with_state(state.clone());
    let stopped = async move {
        let _ = stopping.wait_for(|stopping| *stopping).await;
    };
    tokio::spawn(async move {
        if let Err(e) = accept::serve(listener, None, router, entrance, stopped).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    tracing::info!(%addr, "/metrics on a listener of its own");
    Ok(addr)
}

/// Collects orphaned attachments once an hour (`crate::blobs::gc`).
/// Stops when the server does (so the store closes).
fn collect_orphans_hourly(blobs: crate::blobs::Blobs, mut stopping: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopping.wait_for(|stopping| *stopping) => return,
            }
            let blobs = blobs.clone();
            let now = chrono::Utc::now().timestamp();
            match tokio::task::spawn_blocking(move || blobs.collect_orphans(now)).await {
                Ok(Ok(done)) if done.removed > 0 => {
                    tracing::info!(removed = done.removed, "orphaned attachments collected");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "collecting attachments failed"),
                Err(e) => tracing::warn!(error = %e, "collecting attachments failed"),
            }
        }
    });
}

/// Runs the retention sweep (`crate::retention`) every `every`, the first at once. Stops when
/// the server does.
fn sweep_retention(state: AppState, every: Duration, mut stopping: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopping.wait_for(|stopping| *stopping) => return,
            }
            let swept = crate::retention::sweep(&state).await;
            if swept.scheduled + swept.notified + swept.erased + swept.failed > 0 {
                tracing::info!(?swept, "retention sweep");
            }
        }
    });
}
