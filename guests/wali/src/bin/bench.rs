//! Syscall cost benchmark: `bench OP N [PATH]` times N calls of OP (after a
//! warm-up of N/10) with CLOCK_MONOTONIC and prints the ns per call with one
//! decimal. Driven by the `bench` crate in the host workspace, which runs the
//! same loops natively for comparison. Any failing call aborts with status 1
//! so a denied call is never timed as a fast one.
#![no_std]
#![no_main]

use wali_guest::{args, cstr, entry, println, ptr, show, sys::*, vec};

const CLOCK_MONOTONIC: i32 = 1;
const AT_FDCWD: i32 = -100;
const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 1;
const O_CREAT: i32 = 0o100;
const O_TRUNC: i32 = 0o1000;
const O_CLOEXEC: i32 = 0o2000000;
const RW: i32 = 3; // PROT_READ | PROT_WRITE
const ANON: i32 = 0x22; // MAP_PRIVATE | MAP_ANONYMOUS
const FUTEX_WAKE_PRIVATE: i32 = 1 | 128;
const BIG: usize = 64 * 1024;

fn now_ns() -> u64 {
    let mut ts = [0i64; 2];
    unsafe { SYS_clock_gettime(CLOCK_MONOTONIC, ptr(ts.as_mut_ptr())) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

fn check(what: &str, ret: i64) -> i64 {
    if ret < 0 {
        println!("{what} = {}", show(ret));
        wali_guest::exit(1);
    }
    ret
}

fn open(path: &[u8], flags: i32) -> i32 {
    check("open", unsafe { SYS_openat(AT_FDCWD, ptr(path.as_ptr()), flags | O_CLOEXEC, 0) }) as i32
}

/// Runs `op` n/10 times, then n times under the clock; returns ns per call x10.
fn time(n: u64, mut op: impl FnMut() -> i64) -> u64 {
    for _ in 0..n / 10 {
        check("warm-up", op());
    }
    let start = now_ns();
    for _ in 0..n {
        check("call", op());
    }
    (now_ns() - start) * 10 / n
}

fn main() -> i32 {
    let argv = args();
    let (Some(op), Some(n)) = (argv.get(1), argv.get(2).and_then(|s| s.parse::<u64>().ok())) else {
        println!("usage: bench OP N [PATH]");
        return 2;
    };
    let n = n.max(1);
    let zero = open(&cstr("/dev/zero"), O_RDONLY);
    let null = open(&cstr("/dev/null"), O_WRONLY);
    // Page-aligned, as the native side's: the kernel's copy speed depends
    // on the buffer's alignment (up to 8% on a 64 KiB read).
    let mut buf = vec![0u8; BIG + 4096];
    let aligned = buf.as_mut_ptr().wrapping_add(buf.as_ptr().align_offset(4096));
    let (p, len) = (ptr(aligned), |big: bool| if big { BIG as i32 } else { 1 });
    let tenths = match op.as_str() {
        "getpid" => time(n, || unsafe { SYS_getpid() }),
        "clock_gettime" => {
            let mut ts = [0i64; 2];
            let tp = ptr(ts.as_mut_ptr());
            time(n, || unsafe { SYS_clock_gettime(CLOCK_MONOTONIC, tp) })
        }
        "read1" | "read64k" => time(n, || unsafe { SYS_read(zero, p, len(op == "read64k")) }),
        "write1" => time(n, || unsafe { SYS_write(null, p, 1) }),
        "write64k" => {
            // A write to /dev/null moves nothing: this one is copied into
            // the page cache, at offset 0 of a scratch file.
            let Some(path) = argv.get(3).map(|s| cstr(s)) else {
                println!("write64k needs a PATH");
                return 2;
            };
            let fd = check("open", unsafe {
                SYS_openat(AT_FDCWD, ptr(path.as_ptr()), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            }) as i32;
            time(n, || unsafe { SYS_pwrite64(fd, p, BIG as i32, 0) })
        }
        "openat-close" => {
            let Some(path) = argv.get(3).map(|s| cstr(s)) else {
                println!("openat-close needs a PATH");
                return 2;
            };
            time(n, || unsafe { SYS_close(open(&path, O_RDONLY)) })
        }
        "futex-wake" => {
            // No waiter: the kernel looks the word up and returns 0.
            let word = 0u32;
            let addr = ptr(&word);
            time(n, || unsafe { SYS_futex(addr, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0) })
        }
        "mmap-munmap" => time(n, || {
            let addr = check("mmap", unsafe { SYS_mmap(0, BIG as i32, RW, ANON, -1, 0) });
            unsafe { SYS_munmap(addr as i32, BIG as i32) }
        }),
        other => {
            println!("unknown operation {other}");
            return 2;
        }
    };
    println!("{}.{}", tenths / 10, tenths % 10);
    0
}

entry!(main);
