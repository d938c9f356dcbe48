//! A vendor's Android app uses the tablet library through its Kotlin bindings (issue #20).
//!
//! This runs `client-sdk/ffi/kotlin/run-tests.sh`: it builds the native library and the test
//! server, generates the Kotlin sources with the workspace's own `uniffi-bindgen`, checks the
//! committed Kotlin and Swift sources are current, and runs the JUnit stories on the JVM (the
//! library loaded through JNA, syncing with a real server): two tablets editing offline
//! converge, a status conflict is reported and resolved, the status stream emits, a wrong store
//! key fails with its typed error, a revoked device is told and wiped. Maven failing fails this
//! test, with Maven's output.

use std::path::Path;
use std::process::Command;

#[test]
fn a_kotlin_app_works_with_cases_through_the_bindings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let script = root.join("client-sdk/ffi/kotlin/run-tests.sh");
    let run = Command::new("bash")
        .arg(&script)
        .env("CARGO", env!("CARGO"))
        .output()
        .unwrap_or_else(|e| panic!("bash runs {}: {e}", script.display()));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(
        run.status.success(),
        "{} failed ({}); Maven and Java need to be installed (.ci/run does it)\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        script.display(),
        run.status
    );
    assert!(
        stdout.contains("Kotlin bindings: Maven's tests passed"),
        "{stdout}"
    );
}
