//! What lies on disk under a directory: every file, the files holding some bytes, and a
//! snapshot of their hashes (to check that a store holds no plaintext, or that nothing changed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository's root folder (the workspace), for tests that read its files or run its
/// Node projects.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/support lives two levels inside the repository")
        .to_path_buf()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    files_containing_bytes(dir, needle.as_bytes())
}

/// The files under `dir` whose bytes contain the raw bytes `needle` (`grep -r` of a binary
/// value: a wrapped key, a sealed chunk).
pub fn files_containing_bytes(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Every file under `dir` with the SHA-256 of its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::{Digest, Sha256};
    files_under(dir)
        .into_iter()
        .filter_map(|p| {
            std::fs::read(&p)
                .ok()
                .map(|bytes| (p, hex::encode(Sha256::digest(bytes))))
        })
        .collect()
}
