//! Every file of the fuzz corpus (`fuzz/corpus/<target>/`) and every crasher kept as a
//! regression (`fuzz/regressions/<target>/`) goes through the same check as its fuzz target,
//! without libFuzzer: what once crashed stays fixed in `cargo test`.

use std::fs;
use std::path::{Path, PathBuf};

use sync_core::fuzzing::{self, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted (none when the directory does not exist).
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let mut count = 0;
    for (target, check) in TARGETS {
        for file in files(kind, target) {
            let data = fs::read(&file).expect("a corpus file reads");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn the_committed_corpus_passes_every_check() {
    let count = replay("corpus");
    // Every target has a seed corpus.
    for (target, _) in TARGETS {
        assert!(
            !files("corpus", target).is_empty(),
            "fuzz/corpus/{target} is empty"
        );
    }
    assert!(count >= TARGETS.len());
}

#[test]
fn every_crasher_found_stays_fixed() {
    replay("regressions");
}

#[test]
fn the_seed_documents_and_scripts_pass() {
    for (_, bytes) in fuzzing::seed_documents() {
        fuzzing::document_load(&bytes);
    }
    for (_, bytes) in fuzzing::seed_scripts() {
        fuzzing::engine_input(&bytes);
    }
}

/// Scripts drawn from a seeded generator with the relay path on (issue #23), weighted toward
/// typing among everything else: a short deterministic campaign run on every build (the
/// libFuzzer one is `fuzz/run.sh`). `KOOPERACJA_RELAY_SCRIPTS=N` and `KOOPERACJA_RELAY_SEED=S`
/// run a longer or another one.
#[test]
fn seeded_scripts_of_typing_on_the_relay_path_pass() {
    // Typing (13), syncing (14), ticks (7), map edits (12), storage (9), (re)connecting and
    // joining (0, 1), disconnects (8), finds (15), access changes (10), forgetting (11).
    const OPS: [u8; 16] = [13, 13, 13, 13, 14, 14, 7, 7, 12, 9, 0, 1, 8, 15, 10, 11];
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let mut state: u64 = number("KOOPERACJA_RELAY_SEED", 0x2323_2323).max(1);
    let scripts = u32::try_from(number("KOOPERACJA_RELAY_SCRIPTS", 120)).unwrap_or(u32::MAX);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state.to_le_bytes()[0]
    };
    let mut total = sync_core::engine::RelayStats::default();
    for script in 0..scripts {
        // Relay on; validation, inspection and early compaction drawn.
        let mut bytes = vec![8 | (next() & 7)];
        let connect_join = |slot: u8| [0, slot, 0, 1, slot, 0, 2];
        bytes.extend(connect_join(0));
        bytes.extend(connect_join(1));
        for _ in 0..40 + script % 40 {
            // Mostly the writer (slot 0) on document 0, so that rounds of one sync meet; a
            // tick (the engine applies what arrived on its next tick) after most steps.
            let op = OPS[usize::from(next() % 16)];
            let slot = if next() % 4 == 0 { next() % 3 } else { 0 };
            let doc = if next() % 4 == 0 { next() % 3 } else { 0 };
            bytes.extend([op, slot, doc, next(), next(), next(), next()]);
            if next() % 4 != 0 {
                bytes.extend([7, 0, 0, next() % 3]);
            }
        }
        let stats = fuzzing::engine_script(&bytes);
        total.relayed += stats.relayed;
        total.composed += stats.composed;
        total.batches_applied += stats.batches_applied;
    }
    // The campaign reaches what it is for: relayed changes and composed messages. (It reaches
    // them rarely: a script needs several rounds of one sync to get a document in step.)
    assert!(total.relayed > 0 && total.composed > 0, "{total:?}");
    eprintln!("relay path over the seeded scripts: {total:?}");
}

#[test]
fn inputs_shorter_than_a_step_are_handled() {
    for (target, _) in TARGETS {
        for data in [&[][..], &[0], &[0xff; 3], b"\x85\x6f\x4a\x83"] {
            assert!(fuzzing::check(target, data));
        }
    }
    assert!(!fuzzing::check("no-such-target", b""));
}
