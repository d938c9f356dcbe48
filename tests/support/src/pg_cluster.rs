//! A throwaway PostgreSQL for tests: a fresh database in the cluster named by
//! `KOOPERACJA_TEST_POSTGRES` (CI's `.ci/run` starts one on loopback), or else a cluster of the
//! test's own (`initdb` into a temporary directory, started on a free loopback port, stopped
//! when dropped). Without PostgreSQL's server binaries the test fails and says how to get them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A database for one test.
#[derive(Debug)]
pub struct TestPostgres {
    /// `postgres://…` of the test's database.
    pub url: String,
    cluster: Option<(tempfile::TempDir, PathBuf)>,
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
                secrets: tempfile::tempdir().expect("tempdir"),
            };
        }
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
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            dir.path().display()
        );
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
            secrets: tempfile::tempdir().expect("tempdir"),
        }
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
