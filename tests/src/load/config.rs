//! The parameters of the edit workload ([`super::run`]) and their check.

use std::time::Duration;

use client_sdk::transport::Trust;

use super::address::check_url;
use crate::error::LoadError;

/// The parameters of a run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// `ws://` or `wss://` URL of the server's WebSocket endpoint (loopback only).
    pub url: String,
    /// A device token, appended as `?token=` (and sent as `Authorization: Bearer`).
    pub token: Option<String>,
    /// How to trust TLS (`Trust::None` for `ws://`).
    pub trust: Trust,
    /// Simulated tablets.
    pub clients: usize,
    /// Documents per tablet.
    pub docs: usize,
    /// Edits per document.
    pub edits: usize,
    /// Time between edit rounds of one client (each round edits each of its documents once);
    /// zero is flat out.
    pub interval: Duration,
    /// Characters spliced per edit.
    pub text_len: usize,
    /// Typing only: an edit is the splice alone, without `n = e` (a server's relay path, #23,
    /// takes such a change; the counter would send every edit down the full path). Watchers
    /// then count edits by the length of `notes`.
    pub typing: bool,
    /// The server's process id, for its peak RSS and CPU seconds.
    pub server_pid: Option<u32>,
    /// Time limit of each phase before the edits (connect, create, subscribe, verify).
    pub phase_timeout: Duration,
    /// How long to wait, after the last local edit, for the server and the watchers.
    pub settle_timeout: Duration,
    /// The 1,000-tablet scenario: report the server's RSS per idle connection.
    pub connect_only: bool,
    /// Paced runs: spread the clients' rounds evenly over the interval instead of starting them
    /// together (as load.mjs does), so that the server sees a steady rate rather than bursts.
    pub stagger: bool,
    /// Progress lines on stderr.
    pub progress: bool,
}

impl LoadConfig {
    /// The defaults of `load.mjs` for `url`.
    pub fn new(url: impl Into<String>, trust: Trust) -> Self {
        Self {
            url: url.into(),
            token: None,
            trust,
            clients: 10,
            docs: 10,
            edits: 50,
            interval: Duration::ZERO,
            text_len: 10,
            typing: false,
            server_pid: None,
            phase_timeout: Duration::from_secs(300),
            settle_timeout: Duration::from_secs(60),
            connect_only: false,
            stagger: false,
            progress: false,
        }
    }
}

pub(crate) fn check(config: &LoadConfig) -> Result<(), LoadError> {
    check_url(&config.url)?;
    let total = config.clients * config.docs * config.edits;
    if config.clients == 0 || config.docs == 0 || config.edits == 0 || total > 2_000_000 {
        return Err(LoadError::Config(
            "clients, docs and edits must be at least 1, and at most 2,000,000 edits in all".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        let ok = |u: &str| check(&LoadConfig::new(u, Trust::None)).is_ok();
        assert!(ok("ws://127.0.0.1:3030"));
        assert!(ok("wss://localhost:8443/sync"));
        assert!(ok("ws://[::1]:3030/"));
        assert!(!ok("ws://example.org:3030"));
        assert!(!ok("http://127.0.0.1:3030"));
    }
}
