//! The benchmark report, measured in one run (`cargo run --release -p bench
//! [SCALE]`):
//!
//! 1. Per-syscall cost: the same loop natively in this process, natively
//!    under a seccomp filter that allows everything (in a forked child: the
//!    kernel's floor for any filtered process), and in the `bench` guest
//!    under waligate with no gate, an allow-all policy, the
//!    default profile without and with its kernel backstop (seccomp filter
//!    and Landlock ruleset), and the default profile with every call
//!    audited. Each cell first runs a short calibration loop (discarded),
//!    then picks the iteration count that makes its timed loop take about
//!    SCALE x 100 ms, and reports the best of 3 such runs. The guest times
//!    only its loop, so process start and module loading are not counted.
//! 2. Compute-bound guests (compute.rs): engine overhead on one source
//!    built natively, as WALI and as WASI.
//! 3. Start-up and memory (startup.rs): cold and warm start of a small and
//!    a 3 MiB module (bigmodule.rs), peak RSS per running guest.
//! 4. WASI workloads (wasi.rs): waligate's WASI shim against wasmtime-wasi
//!    in this process.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod bigmodule;
mod compute;
mod startup;
mod wasi;

const OPS: &[&str] =
    &["getpid", "clock_gettime", "futex-wake", "read1", "write1", "read64k", "write64k", "openat-close", "mmap-munmap"];
const COLUMNS: [&str; 7] = ["native", "filtered", "none", "allow-all", "engine", "default", "audit-all"];
/// Ratios printed after the columns: (numerator, denominator, header).
const RATIOS: [(usize, usize, &str); 6] = [
    (2, 0, "none/nat"),
    (4, 0, "eng/nat"),
    (5, 0, "dflt/nat"),
    (1, 0, "filt/nat"),
    (5, 1, "dflt/filt"),
    (6, 5, "audit/dflt"),
];
const CALIBRATION_ITERS: u64 = 2000;
const TARGET_MS: f64 = 100.0;
const RUNS: usize = 3;
const BIG: usize = 64 * 1024;

struct Env {
    root: PathBuf,
    waligate: PathBuf,
    guest: PathBuf,
    scratch: PathBuf,
    /// The file `openat-close` opens: this crate's Cargo.toml.
    file: PathBuf,
}

impl Env {
    fn wali_guest(&self, name: &str) -> PathBuf {
        self.root.join(format!("guests/target/wasm32-unknown-unknown/release/{name}.wasm"))
    }

    fn wasi_guest(&self, name: &str) -> PathBuf {
        self.root.join(format!("guests/wasi/target/wasm32-wasip1/release/{name}.wasm"))
    }

    /// The module cache of warm runs.
    fn cache(&self) -> PathBuf {
        self.root.join("target/bench-module-cache")
    }

    /// The PATH argument of `op`: the scratch file `write64k` writes, else
    /// the file `openat-close` opens.
    fn path_for(&self, op: &str) -> PathBuf {
        if op == "write64k" { self.scratch.join("write64k.dat") } else { self.file.clone() }
    }
}

/// Right-aligned cells of the given widths, one line.
fn row(cells: &[String], widths: &[usize]) -> String {
    cells.iter().zip(widths).map(|(c, &w)| format!("{c:>w$}")).collect::<Vec<_>>().join(" ").trim_end().to_owned()
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).is_some_and(|a| a == startup::MEASURE) {
        startup::measure_child(&argv[2..]);
    }
    let scale: f64 = std::env::args().nth(1).map_or(1.0, |s| s.parse().expect("SCALE must be a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    cargo(&root, &["build", "--release", "--quiet", "-p", "waligate"]);
    // Inside guests/ so its .cargo/config.toml selects the wasm target.
    cargo(&root.join("guests"), &["build", "--release", "--quiet"]);
    cargo(&root.join("guests/wasi"), &["build", "--release", "--quiet"]);
    let scratch = std::env::temp_dir().join(format!("waligate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let env = Env {
        waligate: root.join("target/release/waligate"),
        guest: root.join("guests/target/wasm32-unknown-unknown/release/bench.wasm"),
        file: root.join("bench/Cargo.toml"),
        scratch,
        root,
    };

    println!("{}", machine(&env));
    println!();
    syscalls(&env, scale);
    compute::table(&env, scale);
    startup::table(&env);
    wasi::table(&env);
    let _ = std::fs::remove_dir_all(&env.scratch);
}

fn syscalls(env: &Env, scale: f64) {
    println!(
        "Per-syscall cost, ns per call, best of {RUNS} runs of ~{:.0} ms each (iteration counts calibrated per cell)",
        TARGET_MS * scale
    );
    println!("native clock_gettime is libc's (vDSO, no syscall); the guest's is a real syscall through the host");
    println!(
        "read from /dev/zero, write1 to /dev/null, write64k = pwrite at offset 0 of a scratch file (copied into the \
         page cache); futex-wake: FUTEX_WAKE_PRIVATE on a word nobody waits on"
    );
    println!("engine = default profile with --no-seccomp --no-landlock; default = the same with its kernel backstop");
    println!(
        "filtered = the native loop under a one-instruction seccomp filter that allows everything: the kernel's \
         own cost of a filtered syscall, which no filter avoids (default's floor)"
    );
    let mut widths = vec![14, 9, 9, 9, 10, 9, 9, 10];
    widths.extend([10; RATIOS.len()]);
    let header: Vec<String> =
        ["op"].iter().chain(&COLUMNS).chain(RATIOS.iter().map(|(_, _, h)| h)).map(|s| s.to_string()).collect();
    println!("{}", row(&header, &widths));
    let measure = |col: usize, op: &str, n: u64| match col {
        0 => native(op, n, &env.path_for(op)),
        1 => filtered(op, n, &env.path_for(op)),
        _ => guest(env, COLUMNS[col], op, n),
    };
    for &op in OPS {
        let iters: Vec<u64> = (0..COLUMNS.len())
            .map(|col| ((TARGET_MS * scale * 1e6 / measure(col, op, CALIBRATION_ITERS)) as u64).max(10))
            .collect();
        let mut best = [f64::INFINITY; COLUMNS.len()];
        // Runs interleave across columns so slow drift in the machine hits all alike.
        for _ in 0..RUNS {
            for (col, b) in best.iter_mut().enumerate() {
                *b = b.min(measure(col, op, iters[col]));
            }
        }
        let mut cells = vec![op.to_owned()];
        cells.extend(best.iter().map(|ns| format!("{ns:.1}")));
        cells.extend(RATIOS.iter().map(|&(a, b, _)| format!("{:.2}x", best[a] / best[b])));
        println!("{}", row(&cells, &widths));
    }
    println!();
}

fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo {args:?} failed in {}", dir.display());
}

/// `cpu: MODEL, N cores; waligate X (commit Y)`.
fn machine(env: &Env) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |l| l.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let output = |cmd: &mut Command| cmd.output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let version = output(Command::new(&env.waligate).arg("--version")).unwrap_or_default();
    let git = |args: &[&str]| output(Command::new("git").args(args).current_dir(&env.root)).unwrap_or_default();
    let dirty = if git(&["status", "--porcelain"]).is_empty() { "" } else { "-dirty" };
    format!("cpu: {model}, {cores} cores; {version} (commit {}{dirty})", git(&["rev-parse", "--short", "HEAD"]))
}

/// One guest run under `column`'s configuration; returns the guest's ns per call.
fn guest(env: &Env, column: &str, op: &str, n: u64) -> f64 {
    let audit = env.scratch.join("audit.jsonl");
    let mut cmd = Command::new(&env.waligate);
    cmd.arg("run").current_dir(&env.scratch).env("WALIGATE_CACHE_DIR", env.cache());
    // The default profile's grants: the file openat-close opens, the
    // scratch file write64k writes.
    let grants = [env.root.join("bench"), env.scratch.clone()];
    let default = |cmd: &mut Command| {
        cmd.args(["--policy", "default"]);
        for dir in &grants {
            cmd.arg("--dir").arg(dir);
        }
    };
    match column {
        "none" => {
            cmd.args(["--policy", "none"]);
        }
        // unrestricted allows everything; without --audit nothing is recorded.
        "allow-all" => {
            cmd.args(["--policy", "unrestricted"]);
        }
        "engine" => {
            default(&mut cmd);
            cmd.args(["--no-seccomp", "--no-landlock"]);
        }
        "default" => default(&mut cmd),
        _ => {
            default(&mut cmd);
            cmd.arg("--audit").arg(&audit).args(["--audit-level", "all"]);
        }
    };
    let out = cmd.arg(&env.guest).args([op, &n.to_string()]).arg(env.path_for(op)).output().expect("run waligate");
    let _ = std::fs::remove_file(&audit);
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.trim().parse() {
        Ok(ns) if out.status.success() => ns,
        _ => panic!("{column} {op}: {}\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr)),
    }
}

/// The guest's loop run natively with raw syscalls (clock_gettime via libc's vDSO).
fn native(op: &str, n: u64, file: &Path) -> f64 {
    let open = |path: &str, flags| unsafe { libc::open(CString::new(path).unwrap().as_ptr(), flags | libc::O_CLOEXEC) };
    let (zero, null) = (open("/dev/zero", libc::O_RDONLY), open("/dev/null", libc::O_WRONLY));
    assert!(zero >= 0 && null >= 0, "open /dev/zero, /dev/null");
    // Page-aligned, as the guest's (see guests/wali/src/bin/bench.rs).
    let mut buf = vec![0u8; BIG + 4096];
    let p = buf.as_mut_ptr().wrapping_add(buf.as_ptr().align_offset(4096));
    let path = CString::new(file.as_os_str().as_encoded_bytes()).unwrap();
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let ns = unsafe {
        match op {
            "getpid" => time(n, || libc::syscall(libc::SYS_getpid)),
            "clock_gettime" => time(n, || libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) as i64),
            "read1" => time(n, || libc::syscall(libc::SYS_read, zero, p, 1)),
            "read64k" => time(n, || libc::syscall(libc::SYS_read, zero, p, BIG)),
            "write1" => time(n, || libc::syscall(libc::SYS_write, null, p, 1)),
            "write64k" => {
                let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC;
                let fd = libc::open(path.as_ptr(), flags, 0o600);
                assert!(fd >= 0, "open {}", file.display());
                let ns = time(n, || libc::syscall(libc::SYS_pwrite64, fd, p, BIG, 0));
                libc::close(fd);
                ns
            }
            "futex-wake" => {
                let word = 0u32;
                let op = libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG;
                time(n, || libc::syscall(libc::SYS_futex, &word as *const u32, op, 1, 0, 0, 0))
            }
            "openat-close" => time(n, || {
                let fd =
                    libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                if fd < 0 { fd } else { libc::syscall(libc::SYS_close, fd) }
            }),
            "mmap-munmap" => time(n, || {
                let prot = libc::PROT_READ | libc::PROT_WRITE;
                let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
                let addr = libc::syscall(libc::SYS_mmap, 0, BIG, prot, flags, -1, 0);
                if addr < 0 { addr } else { libc::syscall(libc::SYS_munmap, addr, BIG) }
            }),
            _ => unreachable!("unknown op {op}"),
        }
    };
    unsafe { libc::close(zero) };
    unsafe { libc::close(null) };
    ns
}

/// [`native`] in a forked child that first installs a seccomp filter of
/// one instruction, `return ALLOW` (the cheapest filter there is).
fn filtered(op: &str, n: u64, file: &Path) -> f64 {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    match unsafe { libc::fork() } {
        0 => {
            let allow = [libc::sock_filter { code: 0x06, jt: 0, jf: 0, k: libc::SECCOMP_RET_ALLOW }];
            let prog = libc::sock_fprog { len: 1, filter: allow.as_ptr() as *mut _ };
            let ok = unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                    && libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) == 0
            };
            let ns = if ok { native(op, n, file) } else { f64::NAN };
            unsafe {
                libc::write(fds[1], ns.to_ne_bytes().as_ptr().cast(), 8);
                libc::_exit(0)
            }
        }
        pid => {
            assert!(pid > 0, "fork");
            unsafe { libc::close(fds[1]) };
            let mut bytes = [0u8; 8];
            let got = unsafe { libc::read(fds[0], bytes.as_mut_ptr().cast(), 8) };
            unsafe {
                libc::close(fds[0]);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
            let ns = f64::from_ne_bytes(bytes);
            assert!(got == 8 && ns.is_finite(), "filtered {op}: the child could not install its filter");
            ns
        }
    }
}

/// Like the guest: n/10 warm-up calls, then n timed; every call must succeed.
fn time(n: u64, mut op: impl FnMut() -> i64) -> f64 {
    for _ in 0..n / 10 {
        assert!(op() >= 0, "native warm-up call failed: {}", std::io::Error::last_os_error());
    }
    let start = Instant::now();
    for _ in 0..n {
        assert!(op() >= 0, "native call failed: {}", std::io::Error::last_os_error());
    }
    start.elapsed().as_nanos() as f64 / n as f64
}
