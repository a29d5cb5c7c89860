//! Start-up and memory: spawn to exit of small and large modules with an
//! empty module cache (compilation included) and a warm one, and the peak
//! resident memory of each run (`ru_maxrss` from `wait4`).

use crate::Env;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs per cell: cold runs compile, so fewer.
const COLD: usize = 5;
const WARM: usize = 20;

struct Sample {
    ms: f64,
    rss_kib: u64,
}

pub fn table(env: &Env) {
    let big = env.scratch.join("big.wasm");
    std::fs::write(&big, crate::bigmodule::generate()).unwrap();
    let hello = env.wali_guest("hello");
    let wasi_hello = env.wasi_guest("wasi_hello");
    let preopen = format!("{}::/", env.scratch.display());
    println!("Start-up (spawn to exit, best of {WARM} warm or {COLD} cold runs: the machine's noise only adds) and");
    println!("peak RSS (median of the same runs); default profile unless said;");
    println!("cold = an empty module cache (compile and store), warm = compiled module cached");
    let widths = [44, 10, 10, 10, 10, 10];
    let row = |cells: &[String]| crate::row(cells, &widths);
    println!("{}", row(&["process", "module", "cold ms", "warm ms", "cold RSS", "warm RSS"].map(String::from)));
    let waligate = env.waligate.to_str().unwrap();
    let cases: [(&str, &Path, Vec<&str>); 7] = [
        ("native /bin/true", Path::new("/bin/true"), vec![]),
        ("waligate --version (no guest)", &env.waligate, vec!["--version"]),
        ("WALI hello", &hello, vec![]),
        ("WALI hello, --no-seccomp --no-landlock", &hello, vec!["--no-seccomp", "--no-landlock"]),
        ("WALI hello, --policy none", &hello, vec!["--policy", "none"]),
        ("WASI hello (shim over WALI)", &wasi_hello, vec!["--dir", &preopen]),
        ("WALI generated module, 10000 functions", &big, vec![]),
    ];
    for (name, module, flags) in cases {
        let (program, args): (&str, Vec<&str>) = match name {
            n if n.starts_with("native") => (module.to_str().unwrap(), flags),
            n if n.starts_with("waligate") => (waligate, flags),
            _ => (waligate, [&["run"][..], &flags, &[module.to_str().unwrap()]].concat()),
        };
        let guest = program == waligate && args.first() == Some(&"run");
        let cold: Vec<Sample> = if guest {
            (0..COLD)
                .map(|i| {
                    let cache = env.scratch.join(format!("cold-cache-{i}"));
                    let sample = spawn(program, &args, &cache, &env.scratch);
                    let _ = std::fs::remove_dir_all(&cache);
                    sample
                })
                .collect()
        } else {
            Vec::new()
        };
        let cache = env.cache();
        spawn(program, &args, &cache, &env.scratch);
        let warm: Vec<Sample> = (0..WARM).map(|_| spawn(program, &args, &cache, &env.scratch)).collect();
        let size = if guest { size(module) } else { "-".into() };
        let (cold_ms, cold_rss) = if guest {
            (format!("{:.1}", best(cold.iter().map(|s| s.ms))), mib(median(cold.iter().map(|s| s.rss_kib as f64))))
        } else {
            ("-".into(), "-".into())
        };
        println!(
            "{}",
            row(&[
                name.into(),
                size,
                cold_ms,
                format!("{:.1}", best(warm.iter().map(|s| s.ms))),
                cold_rss,
                mib(median(warm.iter().map(|s| s.rss_kib as f64))),
            ])
        );
    }
    println!();
}

fn size(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn best(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(f64::INFINITY, f64::min)
}

pub(crate) fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One run to exit: its wall time and peak RSS. The run is started by a
/// fresh bench process in [`MEASURE`] mode: a process's peak RSS counts the
/// memory of the process that forked it (the image it replaced at exec),
/// and this one's is large.
fn spawn(program: &str, args: &[&str], cache: &Path, dir: &Path) -> Sample {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg(MEASURE)
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("WALIGATE_CACHE_DIR", cache)
        .stdin(Stdio::null())
        .output()
        .expect("run the bench in measure mode");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<u64> = stdout.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    match fields[..] {
        [ns, rss_kib, 0] => Sample { ms: ns as f64 / 1e6, rss_kib },
        _ => panic!("{program} {args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// The argument that makes the bench run `PROGRAM ARGS...` with its stdout
/// on /dev/null and print `NANOSECONDS PEAK_RSS_KIB WAIT_STATUS`.
pub const MEASURE: &str = "--measure-child";

/// The measure mode: called first thing in `main`, while this process is
/// still small (its own peak is the floor of what it reports).
pub fn measure_child(argv: &[String]) -> ! {
    let cstr = |s: &str| std::ffi::CString::new(s).unwrap();
    let args: Vec<std::ffi::CString> = argv.iter().map(|a| cstr(a)).collect();
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let null = cstr("/dev/null");
    let start = Instant::now();
    // SAFETY: this process is single-threaded here; the child only calls
    // async-signal-safe functions on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            let fd = libc::open(null.as_ptr(), libc::O_WRONLY);
            libc::dup2(fd, 1);
            libc::execvp(ptrs[0], ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for the child forked above; both out-pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let ns = start.elapsed().as_nanos();
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    println!("{ns} {} {status}", usage.ru_maxrss);
    std::process::exit(0)
}
