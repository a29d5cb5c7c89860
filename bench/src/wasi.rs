//! WASI workloads, side by side: the `wasi_bench` guest through `waligate
//! run` (the WASI shim over WALI, default policy, scratch dir granted as
//! "/") and on wasmtime-wasi's preview1 implementation in this process,
//! with the same scratch directory preopened as "/".
//!
//! The guest times its own loop, so module loading is not counted there.
//! Start-up gets a row of its own, timed from the outside: a `waligate run`
//! process against a `wasi-ref` process (src/bin/wasi-ref.rs: the same
//! guest on wasmtime-wasi, with a module cache as waligate's).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::{Env, RUNS};

/// (row label, guest workload, count).
const WORKLOADS: &[(&str, &str, u64)] = &[
    ("write 16 B", "write", 100_000),
    ("read 64 KiB", "read", BIG_FILE / (64 * 1024)),
    ("create file", "create", 2000),
    ("walk entry", "walk", 2000),
    ("clock now", "clock", 1_000_000),
];
const BIG_FILE: u64 = 64 << 20;
/// Runs of each workload per side, interleaved, the best kept: file
/// creation (the file system's journal) and the 64 KiB read (the page
/// cache's copy) moved most between bench runs with three.
const WORKLOAD_RUNS: usize = 5;
/// In-process hello runs averaged per run (then best of RUNS).
const LAUNCHES: u32 = 100;
/// Start-up launches per side, and how many of one side run in a row.
const STARTS: usize = 300;
const BLOCK: usize = 10;

pub fn table(env: &Env) {
    let dir = env.root.join("guests/wasi/target/wasm32-wasip1/release");
    let (bench, hello) = (dir.join("wasi_bench.wasm"), dir.join("wasi_hello.wasm"));
    let scratch = env.scratch.join("wasi");
    std::fs::create_dir_all(&scratch).unwrap();
    let big = std::fs::File::create(scratch.join("bench-big.dat")).unwrap();
    big.set_len(BIG_FILE).unwrap();
    drop(big);
    // Read it once so both sides find it in the page cache.
    std::fs::read(scratch.join("bench-big.dat")).unwrap();

    let engine = Engine::default();
    let reference = Reference::new(&engine, &bench);
    // Warm waligate's module cache for both modules.
    waligate(env, &scratch, &bench, &["clock", "1"]);
    waligate(env, &scratch, &hello, &[]);

    println!();
    println!(
        "WASI: ns per operation, best of {WORKLOAD_RUNS}; waligate = `waligate run --dir SCRATCH::/` (shim over WALI, default policy)"
    );
    println!(
        "wasmtime-wasi = preview1 in this process (wasmtime 48, default Engine, allow_blocking_current_thread), same scratch dir preopened as /"
    );
    let widths = [36, 13, 14, 8];
    let row = |cells: [String; 4]| {
        cells.iter().zip(widths).map(|(c, w)| format!("{c:>w$}")).collect::<Vec<_>>().join(" ").trim_end().to_owned()
    };
    println!("{}", row(["workload", "waligate", "wasmtime-wasi", "ratio"].map(String::from)));
    // Figures in ns (per operation) or, with `ms`, in ms (per launch).
    let print = |label: &str, ours: Option<f64>, theirs: f64, ms: bool| {
        let show = |v: f64| if ms { format!("{:.2} ms", v / 1e6) } else { format!("{v:.1}") };
        let ratio = ours.map_or("-".into(), |o| format!("{:.2}x", o / theirs));
        println!("{}", row([label.into(), ours.map_or("-".into(), show), show(theirs), ratio]));
    };
    for &(label, workload, n) in WORKLOADS {
        let args = [workload, &n.to_string()].map(str::to_owned);
        let (mut ours, mut theirs, mut native) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        // Interleaved, so slow drift in the machine hits both alike.
        for _ in 0..WORKLOAD_RUNS {
            ours = ours.min(parse(&waligate(env, &scratch, &bench, &args.each_ref().map(String::as_str))));
            theirs = theirs.min(parse(&reference.run(&reference.module, &scratch, &args)));
            if workload == "create" {
                native = native.min(native_tree(&scratch, n));
            }
        }
        print(&format!("{label} (x{n})"), Some(ours), theirs, false);
        if workload == "create" {
            // The kernel's own time for the same files: when it is most of
            // both sides' (slow file-system states), their ratio is noise.
            print("  same, native Rust (for scale)", None, native, false);
        }
    }

    // Start-up of wasi_hello, each side a fresh process from spawn to exit
    // with a warm module cache: `waligate run` against `wasi-ref` (this
    // crate's wasmtime-wasi runner: engine, cache lookup, WASI context,
    // instantiate, run). The in-process figure (instantiate + run of a
    // module already in memory, no process) is shown apart, for scale.
    crate::cargo(&env.root, &["build", "--release", "--quiet", "-p", "bench", "--bin", "wasi-ref"]);
    // Both binaries copied now, together: a binary written moments ago
    // starts faster than one written earlier (up to 0.25 ms here; the page
    // cache holds a fresh file in larger pieces), so neither may be older.
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let (wasi_ref, waligate) = (bin.join("wasi-ref"), bin.join("waligate"));
    std::fs::copy(env.root.join("target/release/wasi-ref"), &wasi_ref).unwrap();
    std::fs::copy(&env.waligate, &waligate).unwrap();
    let ref_cache = env.root.join("target/bench-wasi-ref-cache");
    let reference_process = || {
        let out = quiet(Command::new(&wasi_ref).arg("--cache").arg(&ref_cache).arg("--dir"))
            .arg(format!("{}::/", scratch.display()))
            .arg(&hello)
            .output()
            .expect("run wasi-ref");
        assert!(out.status.success(), "wasi-ref: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    };
    reference_process();
    // The default profile, then without its kernel backstop, then the shim
    // with no policy at all: where start-up time goes, in the same run.
    const VARIANTS: [(&str, &[&str]); 3] = [
        ("hello start-up (processes)", &[]),
        ("  same, --no-seccomp --no-landlock", &["--no-seccomp", "--no-landlock"]),
        ("  same, --policy none", &["--policy", "none"]),
    ];
    // Launches interleaved in blocks of BLOCK, one side after the other,
    // and the median launch of each side: this VM's speed drifts over
    // seconds, and best-of-three means of 100 launches of one side, then of
    // the next, read ratios up to 0.15 apart from run to run.
    let mut sides: Vec<Box<dyn Fn()>> = VARIANTS
        .iter()
        .map(|&(_, flags)| {
            let (waligate, scratch, hello) = (&waligate, &scratch, &hello);
            Box::new(move || drop(run_waligate(waligate, env, scratch, hello, flags, &[]))) as Box<dyn Fn()>
        })
        .collect();
    sides.push(Box::new(reference_process));
    let mut launches = vec![Vec::with_capacity(STARTS); sides.len()];
    for _ in 0..STARTS / BLOCK {
        for (side, times) in sides.iter().zip(&mut launches) {
            for _ in 0..BLOCK {
                let start = Instant::now();
                side();
                times.push(start.elapsed().as_nanos() as f64);
            }
        }
    }
    let medians: Vec<f64> = launches.into_iter().map(|times| crate::startup::median(times.into_iter())).collect();
    let (ours, theirs) = (&medians[..VARIANTS.len()], medians[VARIANTS.len()]);
    let mean = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..LAUNCHES {
            f();
        }
        start.elapsed().as_nanos() as f64 / LAUNCHES as f64
    };
    let hello_ref = Reference::new(&engine, &hello);
    let in_process = (0..RUNS)
        .map(|_| {
            mean(&|| {
                hello_ref.run(&hello_ref.module, &scratch, &[]);
            })
        })
        .fold(f64::INFINITY, f64::min);
    for ((label, _), &ours) in VARIANTS.iter().zip(ours) {
        print(label, Some(ours), theirs, true);
    }
    print("hello, wasmtime in-process", None, in_process, true);
    println!(
        "hello: spawn to exit, median of {STARTS} launches per side, interleaved in blocks of {BLOCK}, RUST_BACKTRACE unset for both; \
         wasmtime-wasi = `wasi-ref --cache DIR --dir SCRATCH::/`, a fresh process on wasmtime-wasi with its module \
         cache warm, as waligate's; both binaries copied together first (a newer file starts faster); in-process = instantiate + run of a module already compiled in this process \
         (no process start, no cache lookup), for scale only"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

fn parse(stdout: &str) -> f64 {
    stdout.trim().parse().unwrap_or_else(|_| panic!("guest printed {stdout:?}"))
}

/// `waligate run --dir SCRATCH::/ WASM ARGS`; returns stdout, panics on failure.
fn waligate(env: &Env, scratch: &Path, wasm: &Path, args: &[&str]) -> String {
    run_waligate(&env.waligate, env, scratch, wasm, &[], args)
}

/// [`waligate`] as binary `bin`, with `flags` before the module.
fn run_waligate(bin: &Path, env: &Env, scratch: &Path, wasm: &Path, flags: &[&str], args: &[&str]) -> String {
    let out = quiet(&mut Command::new(bin))
        .arg("run")
        .args(flags)
        .arg("--dir")
        .arg(format!("{}::/", scratch.display()))
        .env("WALIGATE_CACHE_DIR", env.root.join("target/bench-module-cache"))
        .arg(wasm)
        .args(args)
        .output()
        .expect("run waligate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "waligate {args:?}: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The guest's `create` workload natively, in this process: ns per file
/// for removing the previous tree and creating `files` files, a hundred
/// per directory, beneath `scratch` (guests/wasi/src/bin/wasi_bench.rs).
fn native_tree(scratch: &Path, files: u64) -> f64 {
    let start = Instant::now();
    let root = scratch.join("tree");
    if root.exists() {
        std::fs::remove_dir_all(&root).unwrap();
    }
    std::fs::create_dir(&root).unwrap();
    for i in 0..files {
        let dir = root.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir(&dir).unwrap();
        }
        std::fs::File::create(dir.join(format!("f{:03}", i % 100))).unwrap();
    }
    start.elapsed().as_nanos() as f64 / files as f64
}

/// Without the backtrace variables: with them, wasmtime captures a backtrace
/// for every error, proc_exit's included.
fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE")
}

/// wasmtime-wasi preview1, with a module compiled once up front.
struct Reference<'a> {
    engine: &'a Engine,
    module: Module,
    path: PathBuf,
}

impl<'a> Reference<'a> {
    fn new(engine: &'a Engine, wasm: &Path) -> Self {
        Reference { engine, module: Module::from_file(engine, wasm).unwrap(), path: wasm.to_owned() }
    }

    /// Instantiates and runs `module` with `dir` preopened as "/"; returns stdout.
    fn run(&self, module: &Module, dir: &Path, args: &[String]) -> String {
        let (stdout, stderr) = (MemoryOutputPipe::new(1 << 20), MemoryOutputPipe::new(1 << 20));
        let argv: Vec<String> = std::iter::once(self.path.display().to_string()).chain(args.iter().cloned()).collect();
        // As the wasmtime CLI does for sync embeddings: blocking I/O runs on
        // this thread instead of a round trip through tokio's blocking pool.
        let ctx = WasiCtxBuilder::new()
            .allow_blocking_current_thread(true)
            .args(&argv)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .preopened_dir(dir, "/", FsPerms::ReadWrite)
            .unwrap()
            .build_p1();
        let mut store = Store::new(self.engine, ctx);
        let mut linker: Linker<WasiP1Ctx> = Linker::new(self.engine);
        p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
        let instance = linker.instantiate(&mut store, module).unwrap();
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
        let status = match start.call(&mut store, ()) {
            Ok(()) => 0,
            Err(e) => e.downcast_ref::<I32Exit>().map_or_else(|| panic!("{args:?} trapped: {e:?}"), |exit| exit.0),
        };
        let text = |p: MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        assert_eq!(status, 0, "wasmtime-wasi {args:?}: {}", text(stderr));
        text(stdout)
    }
}
