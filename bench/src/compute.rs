//! Engine overhead: the same CPU-bound source (guests/compute) run
//! natively here and as the WALI guest `compute` and the WASI guest
//! `wasi_compute` under waligate. Each side times only the computation.

use crate::{Env, RUNS};
use std::process::Command;
use std::time::Instant;

#[path = "../../guests/compute/src/kernels.rs"]
mod kernels;

/// Native time of one cell, in ms, before scaling.
const TARGET_MS: f64 = 250.0;

pub fn table(env: &Env, scale: f64) {
    println!("Compute-bound guest: the same Rust source (guests/compute, opt-level 3 on every side) natively,");
    println!("as WALI (`compute`) and as WASI (`wasi_compute`) under the default profile; ms, best of {RUNS}");
    let widths = [8, 28, 10, 10, 10, 10, 10];
    let row = |cells: &[String]| crate::row(cells, &widths);
    println!("{}", row(&["workload", "work", "native", "WALI", "WASI", "WALI/nat", "WASI/nat"].map(String::from)));
    let mut mem = vec![0u8; kernels::MEMORY];
    for &(workload, unit) in kernels::WORKLOADS {
        // Pick n so the native run takes about TARGET_MS.
        let mut n = 1;
        while native(workload, n, &mut mem).0 < 20.0 {
            n *= 2;
        }
        let n = ((n as f64) * TARGET_MS * scale / native(workload, n, &mut mem).0).max(1.0) as u64;
        let mut best = [f64::INFINITY; 3];
        let mut sums = [None; 3];
        for _ in 0..RUNS {
            let runs = [native(workload, n, &mut mem), guest(env, false, workload, n), guest(env, true, workload, n)];
            for (i, (ms, sum)) in runs.into_iter().enumerate() {
                best[i] = best[i].min(ms);
                assert!(sums[i].is_none_or(|s| s == sum), "{workload}: checksum changed between runs");
                sums[i] = Some(sum);
            }
        }
        assert!(sums.iter().all(|s| *s == sums[0]), "{workload}: checksums differ: {sums:?}");
        println!(
            "{}",
            row(&[
                workload.into(),
                format!("{n} x {unit}"),
                format!("{:.1}", best[0]),
                format!("{:.1}", best[1]),
                format!("{:.1}", best[2]),
                format!("{:.2}x", best[1] / best[0]),
                format!("{:.2}x", best[2] / best[0]),
            ])
        );
    }
    println!();
}

/// (ms, checksum) of a native run.
fn native(workload: &str, n: u64, mem: &mut [u8]) -> (f64, u64) {
    let start = Instant::now();
    let sum = kernels::run(workload, n, mem).expect("known workload");
    (start.elapsed().as_secs_f64() * 1e3, std::hint::black_box(sum))
}

/// (ms, checksum) of a run through waligate, as reported by the guest.
fn guest(env: &Env, wasi: bool, workload: &str, n: u64) -> (f64, u64) {
    let mut cmd = Command::new(&env.waligate);
    cmd.arg("run").current_dir(&env.scratch).env("WALIGATE_CACHE_DIR", env.cache());
    if wasi {
        cmd.arg("--dir").arg(format!("{}::/", env.scratch.display())).arg(env.wasi_guest("wasi_compute"));
    } else {
        cmd.arg(env.wali_guest("compute"));
    }
    let out = cmd.args([workload, &n.to_string()]).output().expect("run waligate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let parsed = stdout.split_once(' ').and_then(|(ns, sum)| Some((ns.parse::<f64>().ok()?, sum.trim().parse().ok()?)));
    match parsed {
        Some((ns, sum)) if out.status.success() => (ns / 1e6, sum),
        _ => panic!("{workload} (wasi: {wasi}): {}\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr)),
    }
}
