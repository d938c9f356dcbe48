#!/usr/bin/env bash
# Builds the native library (cdylib), the bindgen binary and the test server, generates the Kotlin
# sources from the built library, checks that the committed Swift and Kotlin sources
# (client-sdk/ffi/generated/) are what the library generates, and runs the Kotlin tests on the
# JVM (`mvn -q test`; the native library is loaded through JNA). Exits non-zero when any step
# fails. `tests/tests/kotlin_bindings.rs` runs it from `cargo test --workspace`.
#
# With Maven's local repository warm (.ci/run prefetches it) this needs no network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ffi="$(dirname "$here")"
root="$(cd "$ffi/../.." && pwd)"
cargo="${CARGO:-cargo}"

cd "$root"
# `--workspace`, not `-p client-sdk-ffi`: cargo unifies features over the packages it is asked
# for, and `cargo test --workspace` (CI, and kotlin_bindings.rs's usual caller) asks for all of
# them, with their dev-dependencies (sync-core's `fuzzing`, test support's `tablet`, serde_json's
# `raw_value`, ...). Built for ffi alone, some 70 crates (sync-core, client-sdk, the server, the
# ffi library, automerge, tokio, axum, serde, uniffi) came out with other features and were
# compiled a second time; with the same selection the test build already made all but the
# bindgen binary (docs/ci.md). `--lib` builds every member's library, all of which that test
# build has made too.
"$cargo" build -q --workspace --lib --bin uniffi-bindgen --example ffi-test-server
target="${CARGO_TARGET_DIR:-$("$cargo" metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
lib_dir="$target/debug"
library="$lib_dir/libkooperacja_ffi.so"
bindgen="$lib_dir/uniffi-bindgen"

# Kotlin for the tests, fresh from the library just built.
generated="$here/target/generated-sources/uniffi"
rm -rf "$generated"
(cd "$ffi" && "$bindgen" generate --no-format --library "$library" --language kotlin --out-dir "$generated" >/dev/null)

# The committed sources (for app vendors without a Rust toolchain) must match the library.
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
(cd "$ffi" && "$bindgen" generate --no-format --library "$library" --language kotlin --out-dir "$fresh/kotlin" >/dev/null)
(cd "$ffi" && "$bindgen" generate --no-format --library "$library" --language swift --out-dir "$fresh/swift" >/dev/null)
if ! diff -r "$fresh/kotlin" "$ffi/generated/kotlin" >/dev/null || ! diff -r "$fresh/swift" "$ffi/generated/swift" >/dev/null; then
  echo "client-sdk/ffi/generated is stale: run client-sdk/ffi/generate.sh and commit it" >&2
  exit 1
fi

cd "$here"
mvn -q -B test \
  -Dkooperacja.lib.dir="$lib_dir" \
  -Dkooperacja.test.server="$lib_dir/examples/ffi-test-server"
echo "Kotlin bindings: Maven's tests passed"
