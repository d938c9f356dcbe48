#!/usr/bin/env bash
# Regenerates the committed Kotlin and Swift sources of the bindings (client-sdk/ffi/generated/)
# from the library built for this machine: run it after changing the exported API, and commit
# the result (kotlin/run-tests.sh fails while they are stale).
set -euo pipefail
ffi="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$ffi/../.." && pwd)"
cargo="${CARGO:-cargo}"
cd "$root"
"$cargo" build -q -p client-sdk-ffi --lib --bin uniffi-bindgen
target="${CARGO_TARGET_DIR:-$("$cargo" metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
cd "$ffi"
rm -rf generated/kotlin generated/swift
for language in kotlin swift; do
  "$target/debug/uniffi-bindgen" generate --no-format --library "$target/debug/libkooperacja_ffi.so" \
    --language "$language" --out-dir "generated/$language" >/dev/null
done
echo "generated: $(find generated -type f | sort | tr '\n' ' ')"
