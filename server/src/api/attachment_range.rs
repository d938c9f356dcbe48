//! Downloads of an attachment: the `Range: bytes=…` asked for, and the body streamed piece by
//! piece (each opened with the case's key when it is sent, never the whole file in memory).

use std::ops::Range;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chacha20poly1305::XChaCha20Poly1305;

use crate::blobs::{BlobId, Blobs, Meta, PIECE};
use crate::error::ApiError;

/// The byte range asked for (end exclusive), `None` for the whole file.
pub(super) fn requested(headers: &HeaderMap, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let unsatisfiable = || {
        ApiError::status(
            StatusCode::RANGE_NOT_SATISFIABLE,
            format!("Zakres poza plikiem ({size} B); podaj Range: bytes=POCZĄTEK-KONIEC."),
        )
    };
    let text = value.to_str().map_err(|_| unsatisfiable())?;
    let spec = text.strip_prefix("bytes=").ok_or_else(unsatisfiable)?;
    let (first, last) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let number = |t: &str| t.trim().parse::<u64>().map_err(|_| unsatisfiable());
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => size.saturating_sub(number(suffix)?)..size,
        (from, "") => number(from)?..size,
        (from, to) => number(from)?..number(to)?.saturating_add(1).min(size),
    };
    if range.start >= range.end || range.start >= size {
        return Err(unsatisfiable());
    }
    Ok(Some(range))
}

/// The response: `200` with the whole file or `206` with the range, streamed.
pub(super) fn respond(
    blobs: Blobs,
    id: BlobId,
    key: Arc<XChaCha20Poly1305>,
    meta: &Meta,
    range: Option<Range<u64>>,
) -> Response {
    let partial = range.is_some();
    let range = range.unwrap_or(0..meta.size);
    let mut builder = Response::builder()
        .status(if partial {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, range.end - range.start)
        .header(
            header::CONTENT_TYPE,
            meta.mime.as_deref().unwrap_or("application/octet-stream"),
        );
    if partial {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", range.start, range.end - 1, meta.size),
        );
    }
    let pieces = futures::stream::unfold(range, move |range| {
        let (blobs, key) = (blobs.clone(), key.clone());
        async move {
            if range.start >= range.end {
                return None;
            }
            let piece = PIECE as u64;
            let index = range.start / piece;
            let read = tokio::task::spawn_blocking(move || {
                let index32 = u32::try_from(index).map_err(|e| e.to_string())?;
                blobs
                    .read_piece(&id, &key, index32)
                    .map_err(|e| e.to_string())
            })
            .await;
            let bytes = match read {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(e)) => return Some((Err(std::io::Error::other(e)), range.end..range.end)),
                Err(e) => return Some((Err(std::io::Error::other(e)), range.end..range.end)),
            };
            let from = (range.start - index * piece) as usize;
            let to = ((range.end - index * piece) as usize).min(bytes.len());
            if from >= to {
                let e = std::io::Error::other("an attachment's piece is shorter than its record");
                return Some((Err(e), range.end..range.end));
            }
            let chunk = Bytes::copy_from_slice(&bytes[from..to]);
            let next = range.start + (to - from) as u64..range.end;
            Some((Ok(chunk), next))
        }
    });
    builder
        .body(Body::from_stream(pieces))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
