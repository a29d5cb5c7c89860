//! WASI workloads for the benchmark runner (`cargo run --release -p bench`):
//! `wasi_bench WORKLOAD COUNT` runs one workload against the directory
//! preopened as "/", times only its loop and prints the nanoseconds per
//! operation. The runner runs it through waligate and on wasmtime-wasi.
//!
//! - `write N`: N writes of 16 bytes to /bench-write.dat (unbuffered).
//! - `read N`: N reads of 64 KiB from /bench-big.dat (the runner creates
//!   it), rewinding at end of file.
//! - `create N`: creates N empty files in N/100 directories under /tree.
//! - `walk N`: builds the same tree (untimed), then times recursive
//!   read_dir + metadata of every entry, per entry, over 10 walks.
//! - `clock N`: N calls of Instant::now() (clock_time_get, monotonic).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Instant;

const FILES_PER_DIR: u64 = 100;
const WALKS: u64 = 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (workload, n) = match args.as_slice() {
        [_, w, n] => (w.as_str(), n.parse::<u64>().expect("COUNT must be a number")),
        _ => panic!("usage: wasi_bench WORKLOAD COUNT"),
    };
    let ns_per_op = match workload {
        "write" => write(n),
        "read" => read(n),
        "create" => {
            let start = Instant::now();
            tree(n);
            per(start, n)
        }
        "walk" => {
            tree(n);
            let start = Instant::now();
            let mut entries = 0;
            for _ in 0..WALKS {
                entries += walk(Path::new("/tree"));
            }
            assert_eq!(entries, WALKS * (n + n.div_ceil(FILES_PER_DIR)), "walk saw every entry");
            per(start, entries)
        }
        "clock" => {
            let start = Instant::now();
            let mut last = start;
            for _ in 0..n {
                let now = Instant::now();
                assert!(now >= last, "monotonic");
                last = now;
            }
            per(start, n)
        }
        _ => panic!("unknown workload {workload}"),
    };
    println!("{ns_per_op:.1}");
}

fn per(start: Instant, ops: u64) -> f64 {
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn write(n: u64) -> f64 {
    let mut f = File::create("/bench-write.dat").unwrap();
    let chunk = [b'x'; 16];
    let start = Instant::now();
    for _ in 0..n {
        assert_eq!(f.write(&chunk).unwrap(), chunk.len());
    }
    let ns = per(start, n);
    assert_eq!(f.metadata().unwrap().len(), 16 * n);
    ns
}

fn read(n: u64) -> f64 {
    let mut f = File::open("/bench-big.dat").unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let start = Instant::now();
    for _ in 0..n {
        let got = f.read(&mut buf).unwrap();
        if got == 0 {
            f.seek(SeekFrom::Start(0)).unwrap();
        }
        total += got as u64;
    }
    let ns = per(start, n);
    assert!(total > 0, "read something");
    ns
}

/// /tree/dNNN/fNNN: `files` empty files, FILES_PER_DIR per directory.
fn tree(files: u64) {
    let root = Path::new("/tree");
    if root.exists() {
        std::fs::remove_dir_all(root).unwrap();
    }
    std::fs::create_dir(root).unwrap();
    for i in 0..files {
        let dir = root.join(format!("d{:03}", i / FILES_PER_DIR));
        if i % FILES_PER_DIR == 0 {
            std::fs::create_dir(&dir).unwrap();
        }
        File::create(dir.join(format!("f{:03}", i % FILES_PER_DIR))).unwrap();
    }
}

/// Entries below `dir`, each read_dir'd (directories) and stat'd.
fn walk(dir: &Path) -> u64 {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = std::fs::metadata(entry.path()).unwrap();
        count += 1;
        if meta.is_dir() {
            count += walk(&entry.path());
        }
    }
    count
}
