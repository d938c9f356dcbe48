//! The server's HTTP API as the tablet uses it, over the same TLS trust as the sync connection:
//! `GET /api/v1/me/documents` (the documents this device's user may hold) and
//! `POST /api/v1/documents/{id}/assign|unassign` (sharing a case with a co-worker).

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{header, Method, Request, StatusCode, Uri};
use serde::Deserialize;
use sync_core::DocumentId;

use crate::error::SdkError;
use crate::transport::{self, ServerAddress};

/// The largest answer accepted, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct DocumentList {
    documents: Vec<ListedDocument>,
}

#[derive(Debug, Deserialize)]
struct ListedDocument {
    document_id: String,
    /// `read-write` or `read`; servers that do not say mean read-write.
    #[serde(default)]
    access: Option<String>,
}

/// A document the server says this device's user may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Listed {
    /// The document.
    pub(crate) id: DocumentId,
    /// Whether the user may only read it.
    pub(crate) read_only: bool,
}

/// An API URI beside the sync URL: `wss://host:port/prefix/sync` and `me/documents` give
/// `https://host:port/prefix/api/v1/me/documents`.
pub(crate) fn api_uri(sync_url: &str, path: &str) -> Result<Uri, SdkError> {
    let uri: Uri = sync_url
        .parse()
        .map_err(|e| SdkError::Url(format!("{sync_url}: {e}")))?;
    let scheme = match uri.scheme_str() {
        Some("wss") => "https",
        Some("ws") => "http",
        other => {
            return Err(SdkError::Url(format!(
                "{sync_url}: expected ws:// or wss://, found {other:?}"
            )))
        }
    };
    let authority = uri
        .authority()
        .ok_or_else(|| SdkError::Url(format!("{sync_url}: no host")))?;
    let base = uri.path();
    let prefix = base
        .strip_suffix("sync")
        .unwrap_or(base)
        .trim_end_matches('/');
    format!("{scheme}://{authority}{prefix}/api/v1/{path}")
        .parse()
        .map_err(|e| SdkError::Url(format!("{sync_url}: {e}")))
}

/// One request to the server's API with the device token; returns the status and the body.
async fn request(
    server: &ServerAddress,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(StatusCode, Bytes), SdkError> {
    let uri = api_uri(&server.url, path)?;
    let stream = transport::open_stream(&uri, &server.trust).await?;
    let network = |what: &str, e: hyper::Error| SdkError::Network(format!("{what}: {e}"));
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| network("HTTP handshake", e))?;
    let connection = tokio::spawn(connection);
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let mut builder = Request::builder()
        .method(method)
        .uri(uri.path())
        .header(header::HOST, host)
        .header(header::AUTHORIZATION, transport::bearer(&server.token)?)
        .header(header::ACCEPT, "application/json");
    let bytes = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Bytes::from(json.to_string())
        }
        None => Bytes::new(),
    };
    let request = builder
        .body(Full::new(bytes))
        .map_err(|e| SdkError::Url(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| network(path, e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| SdkError::Network(format!("reading {path}: {e}")))?
        .to_bytes();
    drop(sender);
    connection.abort();
    if status == StatusCode::UNAUTHORIZED {
        return Err(SdkError::Unauthorized(
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    Ok((status, body))
}

/// Asks the server which documents this device's user may hold.
///
/// A refused token is [`SdkError::Unauthorized`]; any other failure is [`SdkError::Network`].
pub(crate) async fn my_documents(server: &ServerAddress) -> Result<Vec<Listed>, SdkError> {
    match request(server, Method::GET, "me/documents", None).await? {
        (StatusCode::OK, body) => parse(&body),
        (other, _) => Err(SdkError::Network(format!(
            "the server answered {other} for the document list"
        ))),
    }
}

/// Assigns (or, with `remove`, unassigns) a user to a case on the server.
pub(crate) async fn assign(
    server: &ServerAddress,
    document: DocumentId,
    user: &str,
    remove: bool,
) -> Result<(), SdkError> {
    let verb = if remove { "unassign" } else { "assign" };
    let path = format!("documents/{document}/{verb}");
    let body = serde_json::json!({ "user": user });
    match request(server, Method::POST, &path, Some(body)).await? {
        (status, _) if status.is_success() => Ok(()),
        (StatusCode::NOT_FOUND, _) => Err(SdkError::UnknownDocument(document)),
        (other, body) => Err(SdkError::Invalid(format!(
            "the server refused to {verb} {user}: {other} {}",
            String::from_utf8_lossy(&body)
        ))),
    }
}

fn parse(body: &[u8]) -> Result<Vec<Listed>, SdkError> {
    let list: DocumentList = serde_json::from_slice(body)
        .map_err(|e| SdkError::Network(format!("the document list does not parse: {e}")))?;
    list.documents
        .iter()
        .map(|d| {
            let id = DocumentId::parse(&d.document_id)
                .map_err(|e| SdkError::Network(format!("the document list names a bad id: {e}")))?;
            Ok(Listed {
                id,
                read_only: d.access.as_deref() == Some("read"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_lives_beside_the_sync_endpoint() {
        let table = [
            (
                "wss://127.0.0.1:8443/sync",
                "https://127.0.0.1:8443/api/v1/me/documents",
            ),
            (
                "ws://localhost:80/sync",
                "http://localhost:80/api/v1/me/documents",
            ),
            (
                "wss://rops.example/kooperacja/sync",
                "https://rops.example/kooperacja/api/v1/me/documents",
            ),
        ];
        for (sync, api) in table {
            assert_eq!(api_uri(sync, "me/documents").expect(sync).to_string(), api);
        }
        assert!(matches!(
            api_uri("https://x/sync", "me/documents"),
            Err(SdkError::Url(_))
        ));
    }

    #[test]
    fn the_list_parses_and_bad_ids_are_refused() {
        let id = DocumentId::from_bytes([9; 16]);
        let other = DocumentId::from_bytes([8; 16]);
        let body = format!(
            r#"{{"documents":[{{"document_id":"{id}","url":"{}"}},
                {{"document_id":"{other}","kind":"case","access":"read"}}]}}"#,
            id.url()
        );
        assert_eq!(
            parse(body.as_bytes()).expect("parses"),
            vec![
                Listed {
                    id,
                    read_only: false
                },
                Listed {
                    id: other,
                    read_only: true
                }
            ]
        );
        let bad = r#"{"documents":[{"document_id":"nope","url":"x"}]}"#;
        assert!(parse(bad.as_bytes()).is_err());
        assert!(parse(b"<html>").is_err());
    }
}
