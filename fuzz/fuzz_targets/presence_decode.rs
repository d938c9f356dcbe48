//! `presence_decode`: the check is `sync_core::fuzzing::presence_decode` (shared with sync-core/tests/fuzz_regressions.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_core::fuzzing::presence_decode(data));
