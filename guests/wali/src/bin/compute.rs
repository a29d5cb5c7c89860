//! Engine overhead: `compute WORKLOAD N` runs one of the shared CPU-bound
//! workloads (guests/compute) N times, timing only the computation, and
//! prints `NANOSECONDS CHECKSUM`. The bench crate runs the same source
//! natively and as the WASI guest `wasi_compute`.
#![no_std]
#![no_main]

use wali_guest::{args, entry, println, ptr, sys::*, vec};

fn now_ns() -> u64 {
    let mut ts = [0i64; 2];
    unsafe { SYS_clock_gettime(1, ptr(ts.as_mut_ptr())) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

fn main() -> i32 {
    let argv = args();
    let (Some(workload), Some(n)) = (argv.get(1), argv.get(2).and_then(|s| s.parse::<u64>().ok())) else {
        println!("usage: compute WORKLOAD N");
        return 2;
    };
    let mut mem = vec![0u8; compute_kernel::MEMORY];
    let start = now_ns();
    let Some(sum) = compute_kernel::run(workload, n, &mut mem) else {
        println!("unknown workload {workload}");
        return 2;
    };
    println!("{} {sum}", now_ns() - start);
    0
}

entry!(main);
