//! The command line, the TOML configuration file and environment variables.
//! Precedence: flags, then environment (`KOOPERACJA_*`), then the file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::error::ServerError;

/// `kooperacja-server`: the regional sync server of Kooperacja.
#[derive(Debug, Parser)]
#[command(name = "kooperacja-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Provision users and devices on a stopped server's data directory.
    Admin(crate::admin::AdminArgs),
}

/// `serve` options.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// A TOML file with the same settings (snake_case keys).
    #[arg(long, env = "KOOPERACJA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the store, the dev certificate and the audit log live [default: ./kooperacja-data].
    #[arg(long, env = "KOOPERACJA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the master and audit keys live, outside the data directory and its backups
    /// [default: the data directory's sibling `<name>-secrets`].
    #[arg(long, env = "KOOPERACJA_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// The key online backups are encrypted with: a file of 64 hex digits
    /// (`openssl rand -hex 32`), mode `0600`, kept apart from the backups [default: none, and
    /// `POST /api/v1/admin/backup` is refused].
    #[arg(long, env = "KOOPERACJA_BACKUP_KEY_FILE")]
    pub backup_key_file: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "KOOPERACJA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain (with --tls-key).
    #[arg(long, env = "KOOPERACJA_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long, env = "KOOPERACJA_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Make a self-signed development certificate on first start (kept in the data dir).
    #[arg(long, env = "KOOPERACJA_DEV_TLS", value_parser = BoolishValueParser::new())]
    pub dev_tls: bool,
    /// Serve plain HTTP; refused unless the listen address is loopback.
    #[arg(long, env = "KOOPERACJA_INSECURE_HTTP", value_parser = BoolishValueParser::new())]
    pub insecure_http: bool,
    /// Most WebSocket connections at once [default: 10000].
    #[arg(long, env = "KOOPERACJA_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most WebSocket connections of one user, all devices together [default: 64].
    #[arg(long, env = "KOOPERACJA_MAX_CONNECTIONS_PER_USER")]
    pub max_connections_per_user: Option<usize>,
    /// Most WebSocket connections of one device [default: 16].
    #[arg(long, env = "KOOPERACJA_MAX_CONNECTIONS_PER_DEVICE")]
    pub max_connections_per_device: Option<usize>,
    /// Most connections accepted but not yet past their first request's headers; more are
    /// closed at once [default: 1024].
    #[arg(long, env = "KOOPERACJA_MAX_PENDING_CONNECTIONS")]
    pub max_pending_connections: Option<usize>,
    /// Seconds a client has for its TLS handshake and for each request's headers; slower
    /// connections are closed [default: 10].
    #[arg(long, env = "KOOPERACJA_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// A bearer token `/metrics` asks for (else it answers loopback peers only, or its own
    /// listener).
    #[arg(long, env = "KOOPERACJA_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Serve `/metrics` on this address of its own (plain HTTP, for a private interface)
    /// instead of the main listener.
    #[arg(long, env = "KOOPERACJA_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Largest frame accepted, in bytes [default: 67108864].
    #[arg(long, env = "KOOPERACJA_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
    /// Where documents and tables live: a `postgres://` URL for a region served by several
    /// nodes; sled in the data directory when not given.
    #[arg(long, env = "KOOPERACJA_STORE")]
    pub store: Option<String>,
    /// Worker connections to PostgreSQL [default: 4]; the node also holds one to listen to
    /// the other nodes and one for batched audit writes.
    #[arg(long, env = "KOOPERACJA_POSTGRES_POOL")]
    pub postgres_pool: Option<usize>,
    /// Free space (MiB) kept on the data directory's disk with the sled store: below it,
    /// changes are refused with a clear error until space is freed (default 256; 0 turns the
    /// guard off; a PostgreSQL store reports a full disk itself).
    #[arg(long, env = "KOOPERACJA_DISK_RESERVE_MB")]
    pub disk_reserve_mb: Option<u64>,
    /// Memory budget for resident documents, in MiB [default: 512].
    #[arg(long, env = "KOOPERACJA_MEMORY_BUDGET_MB")]
    pub memory_budget_mb: Option<usize>,
    /// Accept documents of no known type (development, apps with their own documents); each
    /// belongs to its creator's devices alone.
    #[arg(long, env = "KOOPERACJA_ALLOW_UNTYPED_DOCUMENTS", value_parser = BoolishValueParser::new())]
    pub allow_untyped_documents: bool,
    /// Size limit of one attachment, in MiB [default: 25].
    #[arg(long, env = "KOOPERACJA_MAX_ATTACHMENT_MB")]
    pub max_attachment_mb: Option<u64>,
    /// Hours an uploaded attachment no case refers to is kept before it is deleted
    /// [default: 24].
    #[arg(long, env = "KOOPERACJA_ATTACHMENT_GRACE_HOURS")]
    pub attachment_grace_hours: Option<u64>,
    /// The evaluation's smallest group: a figure about fewer cases is suppressed
    /// [default: 5; at least 3].
    #[arg(long, env = "KOOPERACJA_EVALUATION_MIN_GROUP")]
    pub evaluation_min_group: Option<usize>,
    /// Months a closed or handed-over case is kept, counted from 1 January of the year after
    /// it ended, before it is erased (its owner told a month before) [default: 120; at least
    /// 12].
    #[arg(long, env = "KOOPERACJA_RETENTION_MONTHS")]
    pub retention_months: Option<u32>,
    /// Relay typing without applying it at once (issue #23): a change that only splices free
    /// text of a case or PZK document is stored and forwarded from its bytes, and applied to
    /// the document in memory later, in one batch [default: off].
    #[arg(long, env = "KOOPERACJA_RELAY", value_parser = BoolishValueParser::new())]
    pub relay: bool,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    secrets_dir: Option<PathBuf>,
    backup_key_file: Option<PathBuf>,
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    dev_tls: Option<bool>,
    insecure_http: Option<bool>,
    max_connections: Option<usize>,
    max_connections_per_user: Option<usize>,
    max_connections_per_device: Option<usize>,
    max_pending_connections: Option<usize>,
    header_timeout_secs: Option<u64>,
    metrics_token: Option<String>,
    metrics_listen: Option<SocketAddr>,
    max_frame_bytes: Option<usize>,
    disk_reserve_mb: Option<u64>,
    store: Option<String>,
    postgres_pool: Option<usize>,
    memory_budget_mb: Option<usize>,
    allow_untyped_documents: Option<bool>,
    max_attachment_mb: Option<u64>,
    attachment_grace_hours: Option<u64>,
    evaluation_min_group: Option<usize>,
    retention_months: Option<u32>,
    relay: Option<bool>,
}

/// How the server speaks TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// A certificate and key from PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// A self-signed certificate made in the data dir on first start.
    Dev,
    /// Plain HTTP on loopback only.
    InsecureLoopback,
}

/// Resolved settings of `serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// The keys' directory ([`crate::secrets`]).
    pub secrets_dir: PathBuf,
    /// The backup key's file ([`crate::backup`]), if online backups are wanted.
    pub backup_key_file: Option<PathBuf>,
    /// Listen address.
    pub listen: SocketAddr,
    /// TLS mode.
    pub tls: TlsMode,
    /// Connection cap.
    pub max_connections: usize,
    /// WebSocket cap per user.
    pub max_sockets_per_user: usize,
    /// WebSocket cap per device.
    pub max_sockets_per_device: usize,
    /// Cap on connections not yet past their first request's headers.
    pub max_pending_connections: usize,
    /// Time for the TLS handshake and each request's headers.
    pub header_timeout: std::time::Duration,
    /// The bearer token `/metrics` asks for.
    pub metrics_token: Option<String>,
    /// `/metrics`' own listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Frame size limit.
    pub max_frame: usize,
    /// Resident-document memory budget in bytes.
    pub memory_budget: usize,
    /// Accept documents of no known type.
    pub allow_untyped: bool,
    /// How often the server pings each WebSocket.
    pub ping_every: std::time::Duration,
    /// A WebSocket that delivers no complete frame (not even a pong) for this long is closed:
    /// slow and stalled peers (slowloris) cannot hold a connection slot.
    pub idle_timeout: std::time::Duration,
    /// A peer with more than this many bytes waiting to be written to it is dropped as a
    /// slow reader (at least twice the frame limit).
    pub max_queued_bytes: usize,
    /// A PostgreSQL URL, or `None` for sled in the data directory.
    pub store: Option<String>,
    /// Worker connections to PostgreSQL.
    pub postgres_pool: usize,
    /// Writes stop while the data directory's filesystem has less free space than this
    /// (see [`crate::disk`]); 0 turns the guard off.
    pub disk_reserve: u64,
    /// Size limit of one attachment, in bytes.
    pub max_attachment: u64,
    /// How long an attachment no case refers to is kept.
    pub attachment_grace: std::time::Duration,
    /// The evaluation's smallest group ([`crate::evaluation`]).
    pub evaluation_min_group: usize,
    /// How long finished cases are kept, in months ([`crate::retention`]).
    pub retention_months: u32,
    /// How often the retention sweep runs; `None`: only when an admin asks (tests).
    pub retention_sweep: Option<std::time::Duration>,
    /// The clock retention reads.
    pub clock: crate::retention::Clock,
    /// Relay free-text splices without applying them at once
    /// ([`EngineConfig::relay`](sync_core::engine::EngineConfig::relay)).
    pub relay: bool,
}

/// Default limit of bytes waiting to be written to one peer.
pub const MAX_QUEUED_BYTES: usize = 256 * 1024 * 1024;
/// Default ping interval.
pub const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// Default idle timeout (three and a half pings).
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(35);

impl ServeConfig {
    /// Defaults for tests and examples: a data dir, loopback, port chosen by the OS. The relay
    /// path is on when the environment variable `KOOPERACJA_RELAY` is `1` or `true`, so that a
    /// second run of the test suites exercises it.
    pub fn for_tests(data_dir: &Path, tls: TlsMode) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            secrets_dir: data_dir.join("secrets"),
            backup_key_file: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls,
            max_connections: 10_000,
            max_sockets_per_user: crate::doors::MAX_SOCKETS_PER_USER,
            max_sockets_per_device: crate::doors::MAX_SOCKETS_PER_DEVICE,
            max_pending_connections: crate::doors::MAX_PENDING,
            header_timeout: crate::doors::HEADER_TIMEOUT,
            metrics_token: None,
            metrics_listen: None,
            max_frame: sync_core::wire::DEFAULT_MAX_FRAME,
            memory_budget: 512 * 1024 * 1024,
            allow_untyped: true,
            ping_every: PING_EVERY,
            idle_timeout: IDLE_TIMEOUT,
            max_queued_bytes: MAX_QUEUED_BYTES,
            store: None,
            postgres_pool: crate::pg::DEFAULT_POOL,
            disk_reserve: 0,
            max_attachment: crate::blobs::DEFAULT_LIMIT,
            attachment_grace: crate::blobs::DEFAULT_GRACE,
            evaluation_min_group: crate::evaluation::DEFAULT_MIN_GROUP,
            retention_months: crate::retention::DEFAULT_MONTHS,
            retention_sweep: None,
            clock: crate::retention::Clock::system(),
            relay: std::env::var("KOOPERACJA_RELAY")
                .is_ok_and(|v| matches!(v.trim(), "1" | "true")),
        }
    }
}

impl ServeArgs {
    /// Merges flags/environment over the file over defaults, and checks the result.
    pub fn resolve(self) -> Result<ServeConfig, ServerError> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServerError::io(format!("reading {}", path.display()), e))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
        let cert = self.tls_cert.or(file.tls_cert);
        let key = self.tls_key.or(file.tls_key);
        let dev = self.dev_tls || file.dev_tls.unwrap_or(false);
        let insecure = self.insecure_http || file.insecure_http.unwrap_or(false);
        let tls = match (cert, key, dev, insecure) {
            (Some(cert), Some(key), false, false) => TlsMode::Files { cert, key },
            (None, None, true, false) => TlsMode::Dev,
            (None, None, false, true) => {
                if !listen.ip().is_loopback() {
                    return Err(ServerError::Config(format!(
                        "--insecure-http is only allowed on a loopback address, not {listen}; \
                         use --tls-cert/--tls-key or --dev-tls"
                    )));
                }
                TlsMode::InsecureLoopback
            }
            (None, None, false, false) => {
                return Err(ServerError::Config(
                    "choose how to serve: --tls-cert PEM --tls-key PEM, --dev-tls, or \
                     --insecure-http (loopback only)"
                        .into(),
                ))
            }
            _ => {
                return Err(ServerError::Config(
                    "give exactly one of: --tls-cert/--tls-key, --dev-tls, --insecure-http".into(),
                ))
            }
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./kooperacja-data"));
        let secrets_dir = self
            .secrets_dir
            .or(file.secrets_dir)
            .unwrap_or_else(|| crate::secrets::default_dir(&data_dir));
        let header_timeout = match self.header_timeout_secs.or(file.header_timeout_secs) {
            Some(0) => {
                return Err(ServerError::Config(
                    "--header-timeout-secs must be at least 1".into(),
                ))
            }
            Some(secs) => std::time::Duration::from_secs(secs),
            None => crate::doors::HEADER_TIMEOUT,
        };
        Ok(ServeConfig {
            data_dir,
            secrets_dir,
            backup_key_file: self.backup_key_file.or(file.backup_key_file),
            listen,
            tls,
            max_connections: self
                .max_connections
                .or(file.max_connections)
                .unwrap_or(10_000),
            max_sockets_per_user: self
                .max_connections_per_user
                .or(file.max_connections_per_user)
                .unwrap_or(crate::doors::MAX_SOCKETS_PER_USER),
            max_sockets_per_device: self
                .max_connections_per_device
                .or(file.max_connections_per_device)
                .unwrap_or(crate::doors::MAX_SOCKETS_PER_DEVICE),
            max_pending_connections: self
                .max_pending_connections
                .or(file.max_pending_connections)
                .unwrap_or(crate::doors::MAX_PENDING)
                .max(1),
            header_timeout,
            metrics_token: self.metrics_token.or(file.metrics_token),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            max_frame: self
                .max_frame_bytes
                .or(file.max_frame_bytes)
                .unwrap_or(sync_core::wire::DEFAULT_MAX_FRAME),
            memory_budget: self
                .memory_budget_mb
                .or(file.memory_budget_mb)
                .unwrap_or(512)
                .saturating_mul(1024 * 1024),
            allow_untyped: self.allow_untyped_documents
                || file.allow_untyped_documents.unwrap_or(false),
            ping_every: PING_EVERY,
            idle_timeout: IDLE_TIMEOUT,
            max_queued_bytes: MAX_QUEUED_BYTES,
            store: self.store.or(file.store),
            postgres_pool: match self.postgres_pool.or(file.postgres_pool) {
                Some(0) => {
                    return Err(ServerError::Config(
                        "--postgres-pool must be at least 1".into(),
                    ))
                }
                Some(n) => n,
                None => crate::pg::DEFAULT_POOL,
            },
            disk_reserve: self
                .disk_reserve_mb
                .or(file.disk_reserve_mb)
                .map_or(crate::disk::DEFAULT_RESERVE, |mb| {
                    mb.saturating_mul(1024 * 1024)
                }),
            max_attachment: self
                .max_attachment_mb
                .or(file.max_attachment_mb)
                .map_or(crate::blobs::DEFAULT_LIMIT, |mb| {
                    mb.saturating_mul(1024 * 1024)
                }),
            attachment_grace: self
                .attachment_grace_hours
                .or(file.attachment_grace_hours)
                .map_or(crate::blobs::DEFAULT_GRACE, |h| {
                    std::time::Duration::from_secs(h.saturating_mul(3600))
                }),
            evaluation_min_group: crate::evaluation::min_group(
                self.evaluation_min_group.or(file.evaluation_min_group),
            )?,
            retention_months: crate::retention::months(
                self.retention_months.or(file.retention_months),
            )?,
            retention_sweep: Some(std::time::Duration::from_secs(3600)),
            clock: crate::retention::Clock::system(),
            relay: self.relay || file.relay.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_choices_are_checked() {
        let plain_public = ServeArgs {
            insecure_http: true,
            listen: Some("0.0.0.0:8080".parse().expect("addr")),
            ..ServeArgs::default()
        };
        assert!(
            matches!(plain_public.resolve(), Err(ServerError::Config(m)) if m.contains("loopback"))
        );
        let none = ServeArgs::default();
        assert!(matches!(none.resolve(), Err(ServerError::Config(_))));
        let both = ServeArgs {
            insecure_http: true,
            dev_tls: true,
            ..ServeArgs::default()
        };
        assert!(both.resolve().is_err());
        let dev = ServeArgs {
            dev_tls: true,
            ..ServeArgs::default()
        }
        .resolve()
        .expect("dev tls");
        assert_eq!(dev.tls, TlsMode::Dev);
        assert_eq!(dev.listen, "127.0.0.1:8443".parse().expect("addr"));
        assert_eq!(dev.data_dir, PathBuf::from("./kooperacja-data"));
        assert_eq!(dev.secrets_dir, PathBuf::from("./kooperacja-data-secrets"));
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndev_tls = true\nmax_connections = 7\n\
             header_timeout_secs = 3\nmax_connections_per_device = 2\n",
        )
        .expect("write");
        let config = ServeArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:9100".parse().expect("addr")),
            ..ServeArgs::default()
        }
        .resolve()
        .expect("resolves");
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.max_connections, 7);
        assert_eq!(config.header_timeout, std::time::Duration::from_secs(3));
        assert_eq!(config.max_sockets_per_device, 2);
        assert_eq!(
            config.max_sockets_per_user,
            crate::doors::MAX_SOCKETS_PER_USER
        );
        std::fs::write(&file, "lisen = 1\n").expect("write");
        let typo = ServeArgs {
            config: Some(file),
            ..ServeArgs::default()
        };
        assert!(matches!(typo.resolve(), Err(ServerError::Config(m)) if m.contains("lisen")));
    }

    #[test]
    fn the_relay_path_is_off_unless_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "dev_tls = true\n").expect("write");
        let args = |relay| ServeArgs {
            config: Some(file.clone()),
            relay,
            ..ServeArgs::default()
        };
        assert!(!args(false).resolve().expect("resolves").relay);
        assert!(args(true).resolve().expect("resolves").relay);
        std::fs::write(&file, "dev_tls = true\nrelay = true\n").expect("write");
        assert!(args(false).resolve().expect("resolves").relay);
    }

    #[test]
    fn the_evaluation_minimum_is_at_least_three() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "dev_tls = true\nevaluation_min_group = 10\n").expect("write");
        let args = |flag: Option<usize>| ServeArgs {
            config: Some(file.clone()),
            evaluation_min_group: flag,
            ..ServeArgs::default()
        };
        let from_file = args(None).resolve().expect("resolves");
        assert_eq!(from_file.evaluation_min_group, 10);
        assert_eq!(args(Some(3)).resolve().expect("3").evaluation_min_group, 3);
        let refused = args(Some(2)).resolve();
        assert!(
            matches!(&refused, Err(ServerError::Config(m)) if m.contains("--evaluation-min-group") && m.contains("at least 3")),
            "{refused:?}"
        );
    }
}
