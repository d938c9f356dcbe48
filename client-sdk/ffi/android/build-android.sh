#!/usr/bin/env bash
# Builds the tablet library for Android with cargo-ndk into an app's jniLibs, and the Kotlin
# sources beside it:
#   client-sdk/ffi/android/build/jniLibs/{arm64-v8a,armeabi-v7a,x86_64}/libkooperacja_ffi.so
#   client-sdk/ffi/android/build/kotlin/pl/kooperacja/sdk/kooperacja.kt
# Copy jniLibs into the app module (src/main/jniLibs), add the Kotlin sources (the generated
# file and kotlin/src/main/kotlin/pl/kooperacja/sdk/Flows.kt) and depend on
# net.java.dev.jna:jna:5.17.0@aar and kotlinx-coroutines-android.
#
# Needs the Android NDK (ANDROID_NDK_HOME) and `cargo install cargo-ndk`. NOT RUN on the
# project's machines (no NDK there): the same Kotlin sources are tested on the JVM against a
# host build of the library (kotlin/run-tests.sh).
set -euo pipefail
ffi="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$ffi/../.." && pwd)"
out="$ffi/android/build"
abis=(arm64-v8a armeabi-v7a x86_64)

cd "$root"
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
rm -rf "$out"
ndk_args=()
for abi in "${abis[@]}"; do ndk_args+=(-t "$abi"); done
# API 26 (Android 8): what the gminas' tablets run at the oldest.
cargo ndk --platform 26 "${ndk_args[@]}" -o "$out/jniLibs" build --release -p client-sdk-ffi --lib

cargo build --release -p client-sdk-ffi --lib --bin uniffi-bindgen
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
(cd "$ffi" && "$target_dir/release/uniffi-bindgen" generate --library "$target_dir/release/libkooperacja_ffi.so" \
  --language kotlin --out-dir "$out/kotlin")
echo "built $out/jniLibs and $out/kotlin"
