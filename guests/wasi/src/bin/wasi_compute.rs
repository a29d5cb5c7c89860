//! Engine overhead: `wasi_compute WORKLOAD N` runs one of the shared
//! CPU-bound workloads (guests/compute) N times, timing only the
//! computation, and prints `NANOSECONDS CHECKSUM`: the WASI twin of the
//! WALI guest `compute`.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, workload, n] = args.as_slice() else { panic!("usage: wasi_compute WORKLOAD N") };
    let n: u64 = n.parse().expect("N must be a number");
    let mut mem = vec![0u8; compute_kernel::MEMORY];
    let start = Instant::now();
    let sum = compute_kernel::run(workload, n, &mut mem).expect("unknown workload");
    println!("{} {sum}", start.elapsed().as_nanos());
}
