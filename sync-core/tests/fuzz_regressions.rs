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

#[test]
fn inputs_shorter_than_a_step_are_handled() {
    for (target, _) in TARGETS {
        for data in [&[][..], &[0], &[0xff; 3], b"\x85\x6f\x4a\x83"] {
            assert!(fuzzing::check(target, data));
        }
    }
    assert!(!fuzzing::check("no-such-target", b""));
}
