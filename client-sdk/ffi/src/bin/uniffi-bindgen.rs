//! Generates the Kotlin and Swift sources of the bindings from the built library:
//! `uniffi-bindgen generate --library target/debug/libkooperacja_ffi.so --language kotlin --out-dir out`.

fn main() {
    uniffi::uniffi_bindgen_main();
}
