//! Builds what the binary embeds: the WASI shim (wasi-shim/, for
//! wasm32-unknown-unknown) and the compiler program (compiler/, see
//! wali-core/src/compile.rs), each with its BLAKE3 digest (part of the
//! module-cache key).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let shim = root.join("wasi-shim");
    for watched in ["src", "Cargo.toml", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", shim.join(watched).display());
    }
    let shim_target = out.join("shim-target");
    let status = cargo(&shim, &shim_target, &[]).status().expect("run cargo to build the WASI shim");
    assert!(
        status.success(),
        "building the WASI shim failed (is the wasm32-unknown-unknown target installed? \
         `rustup target add wasm32-unknown-unknown`)"
    );
    embed(&shim_target.join("wasm32-unknown-unknown/release/wasi_shim.wasm"), &out.join("wasi_shim.wasm"));

    for watched in ["compiler", "wali-core/src", "wali-core/Cargo.toml", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // Its own build of the workspace's package: in this build, features
    // would unify and give the runtime's wasmtime Cranelift. One target
    // directory beside this build's serves every profile (target/<profile>/
    // build/<package>/out is OUT_DIR), so tests, lints and releases build
    // the compiler once.
    let compiler_target = out.ancestors().nth(4).unwrap_or(&out).join("waligate-compile");
    let status =
        cargo(&root, &compiler_target, &["-p", "waligate-compile"]).status().expect("run cargo to build the compiler");
    assert!(status.success(), "building the compiler (compiler/) failed");
    embed(&compiler_target.join("release/waligate-compile"), &out.join("waligate-compile"));
}

/// A plain release build in `dir` into `target`: none of the outer build's
/// wrappers (clippy would make it check-only) or flags apply.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "--release", "--quiet"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    cmd
}

/// Copies `built` to `to` and writes its digest beside it (`to`'s stem with
/// `.digest.rs`).
fn embed(built: &Path, to: &Path) {
    let bytes = std::fs::read(built).unwrap_or_else(|e| panic!("read {}: {e}", built.display()));
    std::fs::write(to, &bytes).unwrap_or_else(|e| panic!("write {}: {e}", to.display()));
    let digest = format!("{:?}", blake3::hash(&bytes).as_bytes());
    std::fs::write(to.with_extension("digest.rs"), digest).expect("write a digest");
}
