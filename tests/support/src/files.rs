//! What lies on disk under a directory: every file, their size, the files holding some bytes, and a
//! snapshot of their hashes (to check that a store holds no plaintext, or that nothing changed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Checks that the web app's Node packages are installed (`web/node_modules`), for tests that
/// run its TypeScript model in Node.
pub fn require_node_packages(web: &Path) {
    const HOW: &str = "run `npm ci` in web/ (CI installs it)";
    assert!(
        web.join("node_modules/@automerge/automerge").is_dir()
            && web.join("node_modules/typescript").is_dir(),
        "web/node_modules is missing: {HOW}"
    );
}

/// Runs `command` (Node, `what` it is for the failure's words) and returns its output; fails
/// the test with both outputs when it fails.
pub fn run_node(command: &mut std::process::Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what} could not be started ({e}); needs Node >= 20"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Compiles the web app's model layer (`web/src/model`) for Node (`tsc -p
/// web/tsconfig.model.json`), for tests that run it (`web/model-test/`).
pub fn compile_web_model(web: &Path) {
    require_node_packages(web);
    run_node(
        std::process::Command::new("node").current_dir(web).args([
            "node_modules/typescript/bin/tsc",
            "-p",
            "tsconfig.model.json",
        ]),
        "compiling web/src/model (tsc -p web/tsconfig.model.json)",
    );
}

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

/// The bytes of the files under `dir`, recursively (0 where there is no such folder).
pub fn bytes_under(dir: &Path) -> u64 {
    files_under(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
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
