//! Where the generator connects: the loopback check every scenario makes on its URL, the token
//! in the query, the [`ServerAddress`] the connections use, and trusting a CA file.

use client_sdk::transport::{ServerAddress, Trust};

use crate::error::LoadError;

/// The address every connection of a run uses: `url` with the token in its query, the token
/// as the bearer, and the TLS trust.
pub(crate) fn server_address(url: &str, token: Option<&str>, trust: &Trust) -> ServerAddress {
    ServerAddress {
        url: with_token(url, token),
        token: token.map(str::to_owned).unwrap_or_default(),
        trust: trust.clone(),
    }
}

/// The URL with `token` appended as a query parameter.
pub(crate) fn with_token(url: &str, token: Option<&str>) -> String {
    match token {
        Some(t) if !t.is_empty() => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}token={t}")
        }
        _ => url.to_string(),
    }
}

/// A `ws://` or `wss://` URL of a loopback host (the generator loads nothing else).
pub(crate) fn check_url(url: &str) -> Result<(), LoadError> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or_else(|| LoadError::Config(format!("not a ws:// or wss:// URL: {url}")))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(LoadError::Config(format!(
            "refusing to load-test a non-loopback host ({host})"
        )));
    }
    Ok(())
}

/// Reads a PEM file of CA certificates for [`Trust::Roots`].
pub fn trust_from_ca(path: &std::path::Path) -> Result<Trust, LoadError> {
    let io = |source| LoadError::Io {
        what: format!("reading {}", path.display()),
        source,
    };
    let pem = std::fs::read(path).map_err(io)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    if certs.is_empty() {
        return Err(LoadError::Config(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(Trust::Roots(certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_goes_into_the_query() {
        assert_eq!(with_token("ws://h/sync", Some("t")), "ws://h/sync?token=t");
        assert_eq!(
            with_token("ws://h/s?a=1", Some("t")),
            "ws://h/s?a=1&token=t"
        );
        assert_eq!(with_token("ws://h/", None), "ws://h/");
    }
}
