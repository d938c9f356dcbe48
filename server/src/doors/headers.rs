//! The headers of every answer, and who may read `/metrics`.
//!
//! Every answer carries `X-Content-Type-Options: nosniff` and, unless its handler chose its own
//! caching (the meeting page and its assets), `Cache-Control: no-store`: API answers hold
//! personal data that no browser or proxy cache should keep. With a real certificate
//! (`--tls-cert`/`--tls-key`) every answer also carries HSTS; a development certificate or
//! loopback HTTP does not, since a browser would then refuse plain HTTP to that host for a year.
//!
//! `/metrics` is answered, in this order of choice: with `--metrics-listen`, only on that
//! listener (plain HTTP, for a private interface), and not on the main one; with
//! `--metrics-token`, only to requests bearing that token (on either); with neither, only to
//! peers on a loopback address (a scraper on the same machine, or behind a local proxy).

use std::net::SocketAddr;

use axum::http::{header, HeaderValue};
use axum::response::Response;
use sha2::{Digest, Sha256};

/// The HSTS policy sent with a real certificate: a year, this host only.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds `no-store` (unless the handler set its own caching) and `nosniff` to an answer.
pub async fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Adds HSTS to an answer (servers with a real certificate only).
pub async fn hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
    );
    response
}

/// Who may read `/metrics`.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// SHA-256 of the bearer token `/metrics` asks for, if any.
    token: Option<[u8; 32]>,
    /// Whether `/metrics` has a listener of its own.
    pub own_listener: bool,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("token", &self.token.map(|_| "…"))
            .field("own_listener", &self.own_listener)
            .finish()
    }
}

/// Why `/metrics` is not answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsRefusal {
    /// `/metrics` is served on its own listener, not this one.
    NotHere,
    /// The token is missing or wrong.
    Token,
    /// No token is configured and the peer is not on loopback.
    NotLoopback,
}

impl MetricsRefusal {
    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotHere => "no such route",
            Self::Token => "/metrics needs the metrics token (Authorization: Bearer)",
            Self::NotLoopback => {
                "/metrics is served to loopback peers only; set --metrics-token or \
                 --metrics-listen to scrape it from elsewhere"
            }
        }
    }
}

impl MetricsAccess {
    /// Access with this token (if any) and a listener of its own (or not).
    pub fn new(token: Option<&str>, own_listener: bool) -> Self {
        Self {
            token: token.map(digest),
            own_listener,
        }
    }

    /// Whether a request for `/metrics` from `peer` with `bearer` is answered, on the metrics
    /// listener (`on_own_listener`) or the main one.
    pub fn check(
        &self,
        on_own_listener: bool,
        peer: Option<SocketAddr>,
        bearer: Option<&str>,
    ) -> Result<(), MetricsRefusal> {
        if self.own_listener && !on_own_listener {
            return Err(MetricsRefusal::NotHere);
        }
        match &self.token {
            // Digests compared, so the comparison's time says nothing about the token.
            Some(token) => match bearer.map(digest) {
                Some(given) if given == *token => Ok(()),
                _ => Err(MetricsRefusal::Token),
            },
            None if on_own_listener => Ok(()),
            None => match peer {
                Some(peer) if peer.ip().is_loopback() => Ok(()),
                _ => Err(MetricsRefusal::NotLoopback),
            },
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_doors() {
        let local = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        let remote = Some(SocketAddr::from(([192, 0, 2, 7], 5000)));
        let open = MetricsAccess::new(None, false);
        assert_eq!(open.check(false, local, None), Ok(()));
        assert_eq!(
            open.check(false, remote, None),
            Err(MetricsRefusal::NotLoopback)
        );
        assert_eq!(
            open.check(false, None, None),
            Err(MetricsRefusal::NotLoopback)
        );
        let token = MetricsAccess::new(Some("s3cret"), false);
        assert_eq!(token.check(false, remote, Some("s3cret")), Ok(()));
        assert_eq!(token.check(false, local, None), Err(MetricsRefusal::Token));
        assert_eq!(
            token.check(false, local, Some("x")),
            Err(MetricsRefusal::Token)
        );
        let own = MetricsAccess::new(None, true);
        assert_eq!(own.check(false, local, None), Err(MetricsRefusal::NotHere));
        assert_eq!(own.check(true, remote, None), Ok(()));
        let both = MetricsAccess::new(Some("s3cret"), true);
        assert_eq!(both.check(true, remote, None), Err(MetricsRefusal::Token));
        assert_eq!(both.check(true, remote, Some("s3cret")), Ok(()));
        assert!(!format!("{both:?}").contains("s3cret"));
    }
}
