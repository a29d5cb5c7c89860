//! Shared helpers for the end-to-end tests: build the guests once, run
//! them through the `waligate` binary, and capture what they did.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the guest workspace in `dir` (run inside it so its
/// .cargo/config.toml selects the target) and returns where its `.wasm`
/// files land. Cargo serialises concurrent builds.
fn build_guests(dir: &str, target: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(root().join(dir))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run cargo to build the guests");
    assert!(status.success(), "building {dir} failed (is the {target} target installed?)");
    root().join(dir).join("target").join(target).join("release")
}

/// The WALI guests (no_std Rust for wasm32-unknown-unknown), built once per
/// test binary.
pub fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build_guests("guests", "wasm32-unknown-unknown"))
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

/// `waligate run GUEST ARGS...` left running, with its stdout piped (read
/// it line by line with [`read_line`]) and stderr piped.
pub fn spawn(name: &str, args: &[&str]) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
    let mut child = waligate()
        .arg("run")
        .arg(guest(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn waligate");
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

/// The next line, with its newline; empty at end of output.
pub fn read_line(out: &mut impl std::io::BufRead) -> String {
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    l
}

/// A fresh scratch directory for one test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("waligate-test-").tempdir().expect("temp dir")
}

/// The WASI attack guests (guests/attacks/wasi), built once per test binary.
#[allow(dead_code)]
pub fn wasi_attack_guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build_guests("guests/attacks/wasi", "wasm32-wasip1")).join(format!("{name}.wasm"))
}

/// The WASI guests (std Rust for wasm32-wasip1), built once per test binary.
pub fn wasi_guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build_guests("guests/wasi", "wasm32-wasip1"))
}

pub fn wasi_guest(name: &str) -> PathBuf {
    wasi_guest_dir().join(format!("{name}.wasm"))
}

/// The compiled modules in the module cache directory `cache`.
pub fn compiled_entries(cache: &Path) -> usize {
    let entries = std::fs::read_dir(cache).unwrap().filter_map(Result::ok);
    entries.filter(|e| e.path().extension() == Some("cwasm".as_ref())).count()
}
