//! A throwaway PostgreSQL for tests: a fresh database in the cluster named by
//! `KOOPERACJA_TEST_POSTGRES` (CI's `.ci/run` starts one on loopback), or else a cluster of the
//! test's own (`initdb` into a temporary directory, started on a free loopback port, stopped
//! when dropped). Without PostgreSQL's server binaries the test fails and says how to get them.
//!
//! A test that stops and starts the database, cuts connections or needs TLS owns its cluster
//! ([`TestPostgres::start_own`], [`TestPostgres::start_own_tls`]) whatever the environment
//! says: a shared cluster is not the test's to restart.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A database for one test.
#[derive(Debug)]
pub struct TestPostgres {
    /// `postgres://…` of the test's database.
    pub url: String,
    cluster: Option<(tempfile::TempDir, PathBuf)>,
    /// `pg_ctl`'s `-o` options of an own cluster (to start it again on the same port).
    options: String,
    /// Holds the region's secrets directory.
    secrets: tempfile::TempDir,
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Some(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| d.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root (initdb refuses root).
fn pg_program(bin: &Path, program: &str, args: &[&str]) -> std::process::Output {
    let path = bin.join(program);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} cannot run: {e}", path.display()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl TestPostgres {
    /// The name of the test's database.
    pub fn database(&self) -> &str {
        self.url.rsplit_once('/').map_or("postgres", |(_, db)| db)
    }

    /// A fresh, empty database.
    pub fn start() -> Self {
        if let Ok(base) = std::env::var("KOOPERACJA_TEST_POSTGRES") {
            let name = format!("kooperacja_test_{}", rand::random::<u64>());
            // The synchronous client must not run on the test's async runtime: its own thread.
            let (url, create) = (base.clone(), format!("CREATE DATABASE {name}"));
            std::thread::spawn(move || {
                let mut admin = postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("KOOPERACJA_TEST_POSTGRES={url}: {e}"));
                admin
                    .batch_execute(&create)
                    .expect("create the test database");
            })
            .join()
            .expect("the test database is made");
            let url = match base.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("KOOPERACJA_TEST_POSTGRES must end in /<database>: {base}"),
            };
            return TestPostgres {
                url,
                cluster: None,
                options: String::new(),
                secrets: tempfile::tempdir().expect("tempdir"),
            };
        }
        Self::start_own()
    }

    /// A cluster of the test's own (one it may stop, start and cut connections of).
    pub fn start_own() -> Self {
        Self::own_cluster(false)
    }

    /// A cluster of the test's own that requires TLS from every TCP client (`hostssl` only),
    /// its certificate (for `127.0.0.1`) signed by a CA made for the test; returns it and the
    /// CA's certificate file (PEM).
    pub fn start_own_tls() -> (Self, PathBuf) {
        let pg = Self::own_cluster(true);
        let ca = pg
            .cluster
            .as_ref()
            .map(|(dir, _)| dir.path().join("ca.pem"))
            .expect("own cluster");
        (pg, ca)
    }

    fn own_cluster(tls: bool) -> Self {
        let bin = bin_dir().unwrap_or_else(|| {
            panic!(
                "the PostgreSQL tests need PostgreSQL's server (Debian: apt-get install \
                 postgresql; CI's .ci/run installs it), or KOOPERACJA_TEST_POSTGRES naming a \
                 cluster to create test databases in"
            )
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("pgdata");
        std::fs::create_dir(&data).expect("pgdata");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the cluster directory");
        }
        let data_s = data.display().to_string();
        let out = pg_program(
            &bin,
            "initdb",
            &["-D", &data_s, "-A", "trust", "-U", "postgres"],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            dir.path().display()
        );
        if tls {
            crate::pg_tls::configure(&data, dir.path());
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        let log = dir.path().join("postgres.log").display().to_string();
        let out = pg_program(
            &bin,
            "pg_ctl",
            &["-D", &data_s, "-o", &options, "-l", &log, "-w", "start"],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        TestPostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            cluster: Some((dir, bin)),
            options,
            secrets: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Stops the test's own cluster with `pg_ctl stop -m <mode>` (`fast`, `immediate`) and
    /// waits until it is down.
    pub fn stop(&self, mode: &str) {
        let (dir, bin) = self.cluster.as_ref().expect("a cluster of the test's own");
        let data = dir.path().join("pgdata").display().to_string();
        let out = pg_program(bin, "pg_ctl", &["-D", &data, "-m", mode, "-w", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the test's own cluster again, on the same port, and waits until it accepts
    /// connections.
    pub fn start_again(&self) {
        let (dir, bin) = self.cluster.as_ref().expect("a cluster of the test's own");
        let data = dir.path().join("pgdata").display().to_string();
        let log = dir.path().join("postgres.log").display().to_string();
        let out = pg_program(
            bin,
            "pg_ctl",
            &["-D", &data, "-o", &self.options, "-l", &log, "-w", "start"],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `sql` as the database's administrator on a connection of its own to the cluster's
    /// `template1` (so it works while the test's database refuses connections), on a thread of
    /// its own (the synchronous client must not run on the test's runtime); returns the rows'
    /// first column as text.
    pub fn sql(&self, sql: &str) -> Vec<String> {
        let url = match self.url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/template1"),
            None => self.url.clone(),
        };
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let mut client =
                postgres::Client::connect(&url, postgres::NoTls).expect("connect for SQL");
            client
                .simple_query(&sql)
                .expect("SQL")
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => {
                        Some(row.get(0).unwrap_or_default().to_string())
                    }
                    _ => None,
                })
                .collect()
        })
        .join()
        .expect("the SQL thread")
    }

    /// The region's secrets directory (`--secrets-dir`): every node of this database, and the
    /// admin command, share its keys (the token-signing keys in the database are wrapped by
    /// its master key).
    pub fn secrets_dir(&self) -> PathBuf {
        self.secrets.path().join("secrets")
    }

    /// The cluster's data files, when the cluster is the test's own (a thief's view).
    pub fn data_files(&self) -> Option<PathBuf> {
        self.cluster
            .as_ref()
            .map(|(dir, _)| dir.path().join("pgdata"))
    }

    /// `pg_dump` of the test's database (plain SQL), as a thief of a dump holds it.
    pub fn dump(&self) -> Vec<u8> {
        let bin = bin_dir().expect("PostgreSQL's binaries");
        let out = pg_program(&bin, "pg_dump", &["--dbname", &self.url]);
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some((dir, bin)) = &self.cluster {
            let data = dir.path().join("pgdata").display().to_string();
            let _ = pg_program(bin, "pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
        }
    }
}
