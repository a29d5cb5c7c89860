//! Builds the WASI shim (wasi-shim/, for wasm32-unknown-unknown) so the
//! binary can embed it, with its BLAKE3 digest (its module-cache key).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let shim = root.join("wasi-shim");
    for watched in ["src", "Cargo.toml", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", shim.join(watched).display());
    }
    let target_dir = out.join("shim-target");
    // A plain release build: none of the outer build's wrappers (clippy
    // would make it check-only) or flags apply to the shim.
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet"])
        .current_dir(&shim)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("run cargo to build the WASI shim");
    assert!(
        status.success(),
        "building the WASI shim failed (is the wasm32-unknown-unknown target installed? \
         `rustup target add wasm32-unknown-unknown`)"
    );
    let built = target_dir.join("wasm32-unknown-unknown/release/wasi_shim.wasm");
    let wasm = std::fs::read(&built).expect("read the built WASI shim");
    std::fs::write(out.join("wasi_shim.wasm"), &wasm).expect("copy the built WASI shim");
    let digest = format!("{:?}", blake3::hash(&wasm).as_bytes());
    std::fs::write(out.join("wasi_shim.digest.rs"), digest).expect("write the WASI shim's digest");
}
