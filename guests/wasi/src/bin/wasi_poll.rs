//! poll_oneoff with clocks and files. Prints the events (userdata, error,
//! type, nbytes, flags) and whether the waits lasted long enough.
//! `wasi_poll misaligned` passes a misaligned subscription array.

use std::io::{Read, Write};
use std::os::wasi::io::AsRawFd;
use std::time::{Duration, Instant};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> i32;
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
}

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;
const ABSTIME: u16 = 1;

enum Sub {
    Clock { ud: u64, id: u32, timeout: u64, flags: u16 },
    Read { ud: u64, fd: u32 },
    Write { ud: u64, fd: u32 },
    Raw { ud: u64, tag: u8 },
}

fn encode(s: &Sub) -> [u8; 48] {
    let mut b = [0u8; 48];
    let (ud, tag) = match *s {
        Sub::Clock { ud, id, timeout, flags } => {
            b[16..20].copy_from_slice(&id.to_le_bytes());
            b[24..32].copy_from_slice(&timeout.to_le_bytes());
            b[40..42].copy_from_slice(&flags.to_le_bytes());
            (ud, 0)
        }
        Sub::Read { ud, fd } => {
            b[16..20].copy_from_slice(&fd.to_le_bytes());
            (ud, 1)
        }
        Sub::Write { ud, fd } => {
            b[16..20].copy_from_slice(&fd.to_le_bytes());
            (ud, 2)
        }
        Sub::Raw { ud, tag } => (ud, tag),
    };
    b[0..8].copy_from_slice(&ud.to_le_bytes());
    b[8] = tag;
    b
}

/// Polls, printing the result and each event; returns how long it took.
fn poll(what: &str, subs: &[Sub]) -> Duration {
    let mut words = vec![0u64; 6 * subs.len()];
    for (i, s) in subs.iter().enumerate() {
        let b = encode(s);
        for w in 0..6 {
            words[6 * i + w] = u64::from_le_bytes(b[8 * w..8 * w + 8].try_into().unwrap());
        }
    }
    let mut events = vec![0u64; 4 * subs.len().max(1)];
    let mut n = 0xdead;
    let start = Instant::now();
    let r = unsafe { poll_oneoff(words.as_ptr().cast(), events.as_mut_ptr().cast(), subs.len() as u32, &mut n) };
    let took = start.elapsed();
    if r != 0 {
        println!("{what}: errno {r}");
        return took;
    }
    println!("{what}: {n} events");
    for e in events.chunks(4).take(n as usize) {
        let (ud, error, ty, nbytes, flags) = (e[0], e[1] as u16, (e[1] >> 16) as u8, e[2], e[3] as u16);
        println!("  userdata {ud} error {error} type {ty} nbytes {nbytes} flags {flags}");
    }
    took
}

fn now(id: u32) -> u64 {
    let mut t = 0;
    assert_eq!(unsafe { clock_time_get(id, 1, &mut t) }, 0);
    t
}

fn ms(n: u64) -> u64 {
    n * 1_000_000
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("misaligned") {
        let words = [0u64; 7];
        let mut events = [0u64; 4];
        let mut n = 0;
        let p = (words.as_ptr() as *const u8).wrapping_add(4);
        println!("misaligned = {}", unsafe { poll_oneoff(p, events.as_mut_ptr().cast(), 1, &mut n) });
        return;
    }
    poll("no subscriptions", &[]);
    let t = poll("relative 20ms", &[Sub::Clock { ud: 7, id: MONOTONIC, timeout: ms(20), flags: 0 }]);
    println!("  waited >= 20ms: {}", t >= Duration::from_millis(20));
    let t = poll("relative realtime 10ms", &[Sub::Clock { ud: 8, id: REALTIME, timeout: ms(10), flags: 0 }]);
    println!("  waited >= 10ms: {}", t >= Duration::from_millis(10));
    let t = poll(
        "10ms and 10s",
        &[
            Sub::Clock { ud: 2, id: MONOTONIC, timeout: ms(10_000), flags: 0 },
            Sub::Clock { ud: 1, id: MONOTONIC, timeout: ms(10), flags: 0 },
        ],
    );
    println!("  waited >= 10ms and < 5s: {}", t >= Duration::from_millis(10) && t < Duration::from_secs(5));
    let t = poll(
        "absolute monotonic +15ms",
        &[Sub::Clock { ud: 3, id: MONOTONIC, timeout: now(MONOTONIC) + ms(15), flags: ABSTIME }],
    );
    println!("  waited >= 15ms: {}", t >= Duration::from_millis(15));
    let t = poll(
        "absolute realtime +15ms",
        &[Sub::Clock { ud: 4, id: REALTIME, timeout: now(REALTIME) + ms(15), flags: ABSTIME }],
    );
    println!("  waited >= 14ms: {}", t >= Duration::from_millis(14));
    let t = poll("absolute realtime in the past", &[Sub::Clock { ud: 5, id: REALTIME, timeout: 1, flags: ABSTIME }]);
    println!("  waited < 1s: {}", t < Duration::from_secs(1));
    poll(
        "zero timeouts",
        &[
            Sub::Clock { ud: 10, id: MONOTONIC, timeout: 0, flags: 0 },
            Sub::Clock { ud: 11, id: REALTIME, timeout: 0, flags: 0 },
        ],
    );
    for id in [2, 3, 9] {
        poll(&format!("clock id {id}"), &[Sub::Clock { ud: 1, id, timeout: 0, flags: 0 }]);
    }
    poll("clock flags 2", &[Sub::Clock { ud: 1, id: MONOTONIC, timeout: 0, flags: 2 }]);
    poll("tag 3", &[Sub::Raw { ud: 1, tag: 3 }]);
    poll("read fd 99", &[Sub::Read { ud: 1, fd: 99 }]);
    poll("write fd 99", &[Sub::Write { ud: 1, fd: 99 }]);
    poll("read stdout", &[Sub::Read { ud: 1, fd: 1 }]);
    poll("write stdin", &[Sub::Write { ud: 1, fd: 0 }]);
    poll("read preopen", &[Sub::Read { ud: 1, fd: 3 }]);
    poll("write preopen", &[Sub::Write { ud: 1, fd: 3 }]);
    poll(
        "bad fd after a good clock",
        &[Sub::Clock { ud: 1, id: MONOTONIC, timeout: 0, flags: 0 }, Sub::Read { ud: 2, fd: 99 }],
    );
    let t = poll(
        "write stdout, stderr and a 10s clock",
        &[
            Sub::Write { ud: 21, fd: 1 },
            Sub::Clock { ud: 22, id: MONOTONIC, timeout: ms(10_000), flags: 0 },
            Sub::Write { ud: 23, fd: 2 },
        ],
    );
    println!("  waited < 5s: {}", t < Duration::from_secs(5));

    let mut f =
        std::fs::File::options().read(true).write(true).create(true).truncate(true).open("/polled.txt").unwrap();
    f.write_all(b"abc").unwrap();
    let fd = f.as_raw_fd() as u32;
    poll("read file at its end", &[Sub::Read { ud: 31, fd }]);
    std::io::Seek::rewind(&mut f).unwrap();
    poll("read file at its start", &[Sub::Read { ud: 32, fd }]);
    // A zero timeout beside a ready descriptor is a non-blocking check.
    poll(
        "write file, clock 0",
        &[Sub::Clock { ud: 33, id: MONOTONIC, timeout: 0, flags: 0 }, Sub::Write { ud: 34, fd }],
    );
    poll(
        "write file, stdout, 10s clock",
        &[
            Sub::Write { ud: 36, fd },
            Sub::Clock { ud: 37, id: REALTIME, timeout: ms(10_000), flags: 0 },
            Sub::Write { ud: 38, fd: 1 },
        ],
    );
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    println!("read back {s:?}");
    poll("read file after reading it all", &[Sub::Read { ud: 35, fd }]);
}
