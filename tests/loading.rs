//! Module loading: import signatures come from the module, unmappable ones
//! and malformed modules are clear errors, traps exit with a documented
//! status, and the compiled-module cache is used on the second start.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// Writes `wat` to a file in `dir` and returns its path.
fn module(dir: &tempfile::TempDir, name: &str, wat: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, wat).unwrap();
    path
}

fn run_module(path: &PathBuf) -> Run {
    capture(waligate().arg("run").arg(path))
}

#[test]
fn exit_with_unit_result_and_status_truncation() {
    let dir = scratch();
    // SYS_exit declared as (i32) -> (), as some binaries do.
    let m = module(
        &dir,
        "exit.wat",
        r#"(module
             (import "wali" "SYS_exit" (func $exit (param i32)))
             (memory (export "memory") 1)
             (func (export "_start") (call $exit (i32.const 0x1234))))"#,
    );
    let r = run_module(&m);
    assert_eq!((r.status, r.stdout.as_str(), r.stderr.as_str()), (0x34, "", ""));
}

#[test]
fn i32_poll_and_fcntl_signatures_are_accepted() {
    let dir = scratch();
    let m = module(
        &dir,
        "sigs.wat",
        r#"(module
             (import "wali" "SYS_poll" (func $poll (param i32 i32 i32) (result i64)))
             (import "wali" "SYS_fcntl" (func $fcntl (param i32 i32 i32) (result i64)))
             (import "wali" "__proc_exit" (func $exit (param i32)))
             (memory (export "memory") 1)
             (func (export "_start")
               ;; F_GETFD on stdout is 0; poll with no fds and no wait is 0.
               (call $exit (i32.add
                 (i32.wrap_i64 (call $fcntl (i32.const 1) (i32.const 1) (i32.const 0)))
                 (i32.add (i32.const 40) (i32.wrap_i64 (call $poll (i32.const 0) (i32.const 0) (i32.const 0))))))))"#,
    );
    let r = run_module(&m);
    assert_eq!((r.status, r.stderr.as_str()), (40, ""));
}

#[test]
fn unmappable_signature_is_a_load_error() {
    let dir = scratch();
    let m = module(
        &dir,
        "bad.wat",
        r#"(module
             (import "wali" "SYS_read" (func (param f32) (result i64)))
             (memory (export "memory") 1)
             (func (export "_start")))"#,
    );
    let r = run_module(&m);
    assert_eq!(r.status, 125);
    assert_eq!(
        r.stderr,
        format!(
            "waligate: cannot link {}: import wali.SYS_read has type (f32) -> i64, which no syscall has: \
             parameters must be at most six i32/i64 and the result one i32/i64 or none\n",
            m.display()
        )
    );
}

#[test]
fn wrong_aux_signature_and_foreign_imports_are_load_errors() {
    let dir = scratch();
    let aux = module(
        &dir,
        "aux.wat",
        r#"(module (import "wali" "__cl_get_argc" (func (param i32) (result i32)))
             (memory (export "memory") 1) (func (export "_start")))"#,
    );
    let r = run_module(&aux);
    assert_eq!(r.status, 125);
    assert!(
        r.stderr
            .ends_with("import wali.__cl_get_argc has type (i32) -> i32, but the WALI ABI defines it as () -> i32\n"),
        "{}",
        r.stderr
    );
    let foreign = module(
        &dir,
        "foreign.wat",
        r#"(module (import "env" "f" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    );
    let r = run_module(&foreign);
    assert_eq!(r.status, 125);
    assert!(
        r.stderr.ends_with("unsupported import env.f (function): a WALI module imports only functions from \"wali\"\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn malformed_modules_name_the_problem() {
    let dir = scratch();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm\x01\0\0\0\x01\xff").unwrap();
    let r = run_module(&garbage);
    assert_eq!(r.status, 125);
    assert!(
        r.stderr.starts_with(&format!("waligate: cannot load {}: not a valid WebAssembly module: ", garbage.display())),
        "{}",
        r.stderr
    );

    let no_memory = module(&dir, "nomem.wat", r#"(module (func (export "_start")))"#);
    let r = run_module(&no_memory);
    assert!(r.stderr.ends_with("the module defines no memory; a WALI module defines exactly one\n"), "{}", r.stderr);

    let no_start = module(&dir, "nostart.wat", r#"(module (memory (export "memory") 1))"#);
    let r = run_module(&no_start);
    assert_eq!(r.status, 125);
    assert_eq!(
        r.stderr,
        format!("waligate: {} has no `_start: () -> ()` export; is it a WALI program?\n", no_start.display())
    );

    let missing = dir.path().join("missing.wasm");
    let r = run_module(&missing);
    assert_eq!(r.status, 125);
    assert!(r.stderr.starts_with(&format!("waligate: cannot read module {}: ", missing.display())), "{}", r.stderr);
}

#[test]
fn trap_exits_134_with_backtrace() {
    let dir = scratch();
    let m = module(
        &dir,
        "trap.wat",
        r#"(module
             (memory (export "memory") 1)
             (func $deep_inside (unreachable))
             (func (export "_start") (call $deep_inside)))"#,
    );
    let r = run_module(&m);
    assert_eq!(r.status, 134);
    assert!(r.stderr.starts_with("waligate: guest trapped: "), "{}", r.stderr);
    assert!(r.stderr.contains("unreachable"), "{}", r.stderr);
    assert!(r.stderr.contains("deep_inside"), "backtrace names the function: {}", r.stderr);
}

/// Runs of a module in `dir` exiting with `status`, with the module cache
/// in `cache` and its diagnostics on stderr.
fn cached_runs(dir: &tempfile::TempDir, cache: &Path, status: i32) -> impl Fn() -> Run {
    let m = module(
        dir,
        "cached.wat",
        &format!(
            r#"(module (import "wali" "__proc_exit" (func $e (param i32)))
                 (memory (export "memory") 1) (func (export "_start") (call $e (i32.const {status}))))"#
        ),
    );
    let cache = cache.to_owned();
    move || {
        capture(
            waligate()
                .env("WALIGATE_CACHE_DIR", &cache)
                .env("WALIGATE_LOG", "wali_core::cache=debug")
                .arg("run")
                .arg(&m),
        )
    }
}

/// An entry that does not load (damaged, or from another wasmtime) is
/// compiled again and replaced, never run.
#[test]
fn an_unusable_cache_entry_is_compiled_again() {
    let dir = scratch();
    let cache = dir.path().join("cache");
    let start = cached_runs(&dir, &cache, 4);
    assert_eq!(start().status, 4);
    let entry = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&entry, b"\x7fELF not a compiled module").unwrap();
    let damaged = start();
    assert_eq!(damaged.status, 4);
    assert!(damaged.stderr.contains("ignoring unusable cache entry"), "{}", damaged.stderr);
    assert!(damaged.stderr.contains("stored compiled module in cache"), "{}", damaged.stderr);
    let again = start();
    assert_eq!(again.status, 4);
    assert!(again.stderr.contains("loaded compiled module from cache"), "{}", again.stderr);
}

#[test]
fn second_start_uses_the_cache() {
    let dir = scratch();
    let cache = dir.path().join("cache");
    let start = cached_runs(&dir, &cache, 3);
    let m = dir.path().join("cached.wat");
    let first = start();
    assert_eq!(first.status, 3);
    assert!(first.stderr.contains("stored compiled module in cache"), "{}", first.stderr);
    let second = start();
    assert_eq!(second.status, 3);
    assert!(second.stderr.contains("loaded compiled module from cache"), "{}", second.stderr);
    assert!(!second.stderr.contains("stored compiled module"), "{}", second.stderr);
    let entries = std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(entries, 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);

    let nocache =
        capture(waligate().env("WALIGATE_CACHE_DIR", dir.path().join("other")).arg("run").arg("--no-cache").arg(&m));
    assert_eq!(nocache.status, 3);
    assert!(!dir.path().join("other").exists());
}

/// A cache directory others can write is not used (a guest or user with
/// write access there could plant compiled code), and a run says so once,
/// as a plain warning line.
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let cache = dir.path().join("shared-cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let m = module(
        &dir,
        "uncached.wat",
        r#"(module (import "wali" "__proc_exit" (func $e (param i32)))
             (memory (export "memory") 1) (func (export "_start") (call $e (i32.const 6))))"#,
    );
    let r = capture(waligate().env("WALIGATE_CACHE_DIR", &cache).env_remove("WALIGATE_LOG").arg("run").arg(&m));
    assert_eq!(r.status, 6);
    assert_eq!(
        r.stderr,
        format!(
            "waligate: warning: module cache disabled: cache directory {} is not private \
             (owner and mode must be yours, 0700)\n",
            cache.display()
        )
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0, "nothing was stored");
}

/// The compiler runs in its own process (wali-core/src/compile.rs): what it
/// refuses is reported as the in-process compiler worded it, nothing runs
/// and nothing is stored.
#[test]
fn a_module_the_compiler_refuses_is_reported_and_not_cached() {
    let dir = scratch();
    let cache = dir.path().join("cache");
    let m = module(
        &dir,
        "throws.wat",
        r#"(module (memory (export "memory") 1) (tag $e) (func (export "_start") (throw $e)))"#,
    );
    let r = capture(waligate().env("WALIGATE_CACHE_DIR", &cache).arg("run").arg("--interface").arg("wali").arg(&m));
    assert_eq!(r.status, 125);
    assert_eq!(
        r.stderr,
        format!(
            "waligate: cannot load {}: failed to parse WebAssembly module: \
             exceptions proposal not enabled (at offset 0x2d)\n",
            m.display()
        )
    );
    assert_eq!(r.stdout, "");
    assert_eq!(compiled_entries(&cache), 0, "nothing was stored");
}

/// The runtime's build has no compiler in it (a Cargo feature unified into
/// it would bring Cranelift back, and with it ~5% of every cached start).
#[test]
fn the_runtime_build_links_no_compiler() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", "waligate", "-e", "normal", "-i", "cranelift-codegen"])
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "Cranelift is in the runtime's build");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The compiler's build has it.
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--quiet", "--offline", "-p", "waligate-compile", "-e", "normal", "-i", "cranelift-codegen"])
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cranelift-codegen "));
}
