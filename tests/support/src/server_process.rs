//! A server in a process of its own, for benchmarks that measure the server alone (its memory
//! in `/proc/<pid>/status`, its CPU pinned apart from the client's): the benchmark's executable
//! starts itself again with [`SERVE_ARG`] (under `taskset -c CPU` when asked); the child starts
//! the server, announces its address and the tokens it enrolled on one line, and serves until
//! its standard input closes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};

use kooperacja_server::serve::RunningServer;

/// The first argument that makes a benchmark's executable the server's child process.
pub const SERVE_ARG: &str = "--serve-child";

/// The prefix of the child's one announcing line.
const ANNOUNCE: &str = "kooperacja-serving";

/// A server running in a child process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The child's process id.
    pub pid: u32,
    /// Where it serves (plain HTTP on loopback).
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: std::path::PathBuf,
    /// The tokens the child enrolled, in the order it announced them.
    pub tokens: Vec<String>,
}

/// A process's memory from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kib: u64,
    /// Resident at most since the start or the last [`reset_peak_of`] (`VmHWM`).
    pub peak_kib: u64,
}

impl ServerProcess {
    /// Starts this executable again as `[taskset -c CPU] <exe> --serve-child ARGS...` and waits
    /// for its announcement.
    pub fn spawn_self(cpu: Option<&str>, args: &[String]) -> Self {
        let exe = std::env::current_exe().expect("this executable");
        let mut command = match cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = command
            .arg(SERVE_ARG)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server's process starts");
        let stdout = child.stdout.take().expect("its output");
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with(ANNOUNCE))
            .expect("the server announces itself");
        let mut words = line.split_whitespace().skip(1);
        let addr = words
            .next()
            .and_then(|a| a.parse().ok())
            .expect("an address");
        let data_dir = words.next().expect("a data directory").into();
        let stdin = child.stdin.take();
        Self {
            pid: child.id(),
            child,
            stdin,
            addr,
            data_dir,
            tokens: words.map(str::to_owned).collect(),
        }
    }

    /// The child's memory now.
    pub fn memory(&self) -> Memory {
        memory_of(self.pid)
    }

    /// Sets the child's peak back to now ([`reset_peak_of`]).
    pub fn reset_peak(&self) {
        reset_peak_of(self.pid);
    }

    /// Closes the child's input (it shuts its server down gracefully) and waits for it.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("the server's process ends");
        assert!(status.success(), "the server's process failed: {status}");
    }
}

/// A process's memory now (this one's: `std::process::id()`).
pub fn memory_of(pid: u32) -> Memory {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's /proc status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}

/// Sets a process's `VmHWM` back to its `VmRSS` (`5` into `/proc/<pid>/clear_refs`), so that
/// the next [`Memory::peak_kib`] is the peak since now.
pub fn reset_peak_of(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs");
}

/// In the child: announces `server` (address, data directory, `tokens`) on standard output,
/// serves until standard input closes, then shuts the server down.
pub async fn serve_until_stdin_closes(
    server: RunningServer,
    data_dir: &std::path::Path,
    tokens: &[String],
) {
    println!(
        "{ANNOUNCE} {} {} {}",
        server.addr,
        data_dir.display(),
        tokens.join(" ")
    );
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await
    .expect("waiting on standard input");
    server.shutdown().await.expect("graceful shutdown");
}
