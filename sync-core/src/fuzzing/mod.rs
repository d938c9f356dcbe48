//! The properties the fuzz targets check, in one place.
//!
//! Each cargo-fuzz target in `fuzz/fuzz_targets/` is one line that calls a function of this
//! module, and `sync-core/tests/fuzz_regressions.rs` runs every file of the committed corpus and
//! of `fuzz/regressions/` through the same functions without libFuzzer, so a crasher once found
//! stays fixed in `cargo test`. A function panics when a property does not hold: that is how
//! libFuzzer learns of a failure. Everything it is given is untrusted; nothing here may panic
//! for any other reason.
//!
//! | target | what holds for every input |
//! | --- | --- |
//! | [`frame_decode`] | decoding never panics; a decoded frame re-encodes to one that decodes to the same message, and encoding is a fixed point; the size limit is enforced |
//! | [`engine_input`] | a server engine driven by a hostile script never panics, never advertises heads that are not durable, and still serves a well-behaved peer afterwards |
//! | [`document_load`] | loading, validating and reading a document never panic; a document that validates reads as its kind; saving and loading again keeps its heads and its verdict |
//! | [`presence_decode`] | decoding a presence payload never panics; the decoded message is at most a few times larger than the payload; it re-encodes to one that decodes to the same message |
//!
//! Only built with the `fuzzing` feature.

mod bytes;
mod document;
mod engine;
mod engine_seeds;

use crate::error::DecodeError;
use crate::{presence, wire};

pub use document::{document_load, seed_documents};
pub use engine::{engine_input, engine_script};
pub use engine_seeds::seed_scripts;

/// A target's check: panics when a property does not hold.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name (the name of the file in `fuzz/fuzz_targets/` and of its corpus
/// directory), with their check.
pub const TARGETS: [(&str, Check); 4] = [
    ("frame_decode", frame_decode),
    ("engine_input", engine_input),
    ("document_load", document_load),
    ("presence_decode", presence_decode),
];

/// The frame limit the target decodes with (small, so that the limit itself is exercised).
const FRAME_LIMIT: usize = 1 << 20;

/// `wire::decode` never panics; what decodes survives `encode` then `decode` unchanged, and
/// `encode` of the result gives the same bytes again; a frame over the limit is refused as
/// too large.
pub fn frame_decode(data: &[u8]) {
    if let Ok(message) = wire::decode(data, FRAME_LIMIT) {
        let frame = wire::encode(&message);
        let again = match wire::decode(&frame, usize::MAX) {
            Ok(again) => again,
            Err(e) => panic!("an encoded {message:?} does not decode: {e}"),
        };
        assert_eq!(again, message, "decode(encode(m)) differs from m");
        assert_eq!(wire::encode(&again), frame, "encode is not a fixed point");
        // The accessors agree with the message.
        assert_eq!(again.type_name(), message.type_name());
        assert_eq!(again.document_id(), message.document_id());
    }
    if let Some(limit) = data.len().checked_sub(1) {
        assert!(
            matches!(wire::decode(data, limit), Err(DecodeError::TooLarge { .. })),
            "a frame over the limit was not refused as too large"
        );
    }
}

/// `presence::Message::decode` never panics; a decoded message encodes to at most a few times
/// the payload's size, and survives `encode` then `decode` unchanged.
pub fn presence_decode(data: &[u8]) {
    let Ok(Some(message)) = presence::Message::decode(data) else {
        return;
    };
    let payload = message.encode();
    // Decoding expands a payload by a small factor at most (a byte becomes a number, a one-byte
    // key such as `true` becomes text), never more.
    assert!(
        payload.len() <= 8 * data.len() + 64,
        "a {}-byte payload decoded to a message of {} bytes",
        data.len(),
        payload.len()
    );
    if payload.len() > presence::MAX_PAYLOAD {
        // Within the bound, but over the limit a receiver accepts: nothing to compare.
        return;
    }
    match presence::Message::decode(&payload) {
        Ok(Some(again)) => {
            assert_eq!(again, message, "decode(encode(m)) differs from m");
            assert_eq!(again.encode(), payload, "encode is not a fixed point");
        }
        // A byte string becomes an array of numbers, one level deeper: a payload at the
        // nesting limit can re-encode one level over it (found by fuzzing, harmless: a peer
        // only ever encodes its own state).
        Err(DecodeError::Cbor(e)) if e.contains("RecursionLimitExceeded") => {}
        other => panic!("an encoded {message:?} decodes as {other:?}"),
    }
}

/// Runs `data` through the check of the target called `name`; `false` for an unknown name.
pub fn check(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, check)) => {
            check(data);
            true
        }
        None => false,
    }
}
