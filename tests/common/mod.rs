//! Shared helpers for the end-to-end tests: build the guests once, run
//! them through the `waligate` binary, and capture what they did.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds every guest (once per test binary; cargo serialises concurrent
/// builds) and returns the directory holding the `.wasm` files.
pub fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Run inside guests/ so its .cargo/config.toml selects the target.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--quiet"])
            .current_dir(root().join("guests"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .status()
            .expect("run cargo to build the guests");
        assert!(status.success(), "building the guests failed (is the wasm32-unknown-unknown target installed?)");
        root().join("guests/target/wasm32-unknown-unknown/release")
    })
}

pub fn guest(name: &str) -> PathBuf {
    guest_dir().join(format!("{name}.wasm"))
}

/// A `waligate` command with a per-checkout module cache.
pub fn waligate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waligate"));
    cmd.env("WALIGATE_CACHE_DIR", root().join("target/test-module-cache"));
    cmd.env_remove("WALIGATE_LOG");
    cmd
}

#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion with empty stdin.
pub fn capture(cmd: &mut Command) -> Run {
    let out = cmd.stdin(Stdio::null()).output().expect("spawn waligate");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `waligate run GUEST ARGS...`
pub fn run(name: &str, args: &[&str]) -> Run {
    capture(waligate().arg("run").arg(guest(name)).args(args))
}

/// A fresh scratch directory for one test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("waligate-test-").tempdir().expect("temp dir")
}

/// Builds the WASI guests (guests/wasi, std Rust for wasm32-wasip1) once
/// per test binary and returns the directory holding the `.wasm` files.
pub fn wasi_guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--quiet"])
            .current_dir(root().join("guests/wasi"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .status()
            .expect("run cargo to build the WASI guests");
        assert!(status.success(), "building the WASI guests failed (is the wasm32-wasip1 target installed?)");
        root().join("guests/wasi/target/wasm32-wasip1/release")
    })
}

pub fn wasi_guest(name: &str) -> PathBuf {
    wasi_guest_dir().join(format!("{name}.wasm"))
}
