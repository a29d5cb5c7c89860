//! Guest signal handlers run: a handler is installed in the WALI layout
//! (a table index), and the host calls it after the host call during which
//! the signal arrived, or at the next epoch check of running code.
//! `signals [MODE]`:
//! - no mode: kill to itself, a timer interrupting pause, SA_RESETHAND;
//! - `compute`: SIGALRM interrupts a loop that makes no host calls;
//! - `restart`: a read interrupted by a handler is restarted with
//!   SA_RESTART and fails with EINTR without it;
//! - `ack N`: counts SIGUSR1 sent by another process, acknowledging each;
//! - `storm`: handles SIGUSR1 while computing and calling the host, until
//!   SIGUSR2.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI32, Ordering};
use wali_guest::{entry, println, ptr, show, sys::*};

const SIGUSR1: i32 = 10;
const SIGUSR2: i32 = 12;
const SIGALRM: i32 = 14;
const SA_RESTART: u64 = 0x1000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    /// Not in the specification's list; real binaries import it.
    fn SYS_pause() -> i64;
}

static USR1: AtomicI32 = AtomicI32::new(0);
static ALRM: AtomicI32 = AtomicI32::new(0);
static LAST: AtomicI32 = AtomicI32::new(0);
static USR2: AtomicI32 = AtomicI32::new(0);
/// The write end of the pipe `on_alrm_write` writes to.
static PIPE_W: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_usr1(sig: i32) {
    USR1.fetch_add(1, Ordering::SeqCst);
    LAST.store(sig, Ordering::SeqCst);
}

extern "C" fn on_alrm(_: i32) {
    ALRM.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_usr2(_: i32) {
    USR2.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_alrm_write(_: i32) {
    ALRM.fetch_add(1, Ordering::SeqCst);
    let byte = b"!";
    unsafe { SYS_write(PIPE_W.load(Ordering::SeqCst), ptr(byte.as_ptr()), 1) };
}

fn handler(f: extern "C" fn(i32)) -> u32 {
    f as usize as u32
}

/// Arms a one-shot ITIMER_REAL of `usec` microseconds.
fn alarm_in(usec: i64) -> i64 {
    let timer: [i64; 4] = [0, 0, 0, usec];
    unsafe { SYS_setitimer(0, ptr(timer.as_ptr()), 0) }
}

/// rt_sigaction with the 24-byte WALI layout: handler, flags, restorer, mask.
fn sigaction(sig: i32, handler: u32, flags: u64) -> i64 {
    let mut act = [0u8; 24];
    act[0..4].copy_from_slice(&handler.to_le_bytes());
    act[4..12].copy_from_slice(&flags.to_le_bytes());
    unsafe { SYS_rt_sigaction(sig, ptr(act.as_ptr()), 0, 8) }
}

fn main() -> i32 {
    let args = wali_guest::args();
    match args.get(1).map(|s| s.as_str()) {
        None => basics(),
        Some("compute") => compute(),
        Some("restart") => restart(),
        Some("ack") => ack(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1)),
        Some("storm") => storm(),
        Some(other) => {
            println!("unknown mode {other}");
            2
        }
    }
}

fn compute() -> i32 {
    println!("sigaction SIGALRM = {}", show(sigaction(SIGALRM, handler(on_alrm), 0)));
    println!("setitimer = {}", show(alarm_in(20_000)));
    // No host call in the loop: only an epoch check can stop it.
    let mut x: u64 = 1;
    let mut spins: u64 = 0;
    while ALRM.load(Ordering::SeqCst) == 0 && spins < 1 << 40 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        spins += 1;
    }
    println!("computation interrupted by the handler = {}", ALRM.load(Ordering::SeqCst) == 1 && x != 0);
    0
}

fn restart() -> i32 {
    let mut fds = [0i32; 2];
    unsafe { SYS_pipe2(ptr(fds.as_mut_ptr()), 0) };
    PIPE_W.store(fds[1], Ordering::SeqCst);
    let mut byte = [0u8; 1];
    for (name, flags) in [("with SA_RESTART", SA_RESTART), ("without SA_RESTART", 0)] {
        sigaction(SIGALRM, handler(on_alrm_write), flags);
        alarm_in(20_000);
        // The handler writes the byte this read waits for.
        let n = unsafe { SYS_read(fds[0], ptr(byte.as_mut_ptr()), 1) };
        println!("read {name} = {}", show(n));
        if n < 0 {
            unsafe { SYS_read(fds[0], ptr(byte.as_mut_ptr()), 1) };
        }
    }
    println!("handler ran {} times", ALRM.load(Ordering::SeqCst));
    0
}

fn ack(n: i32) -> i32 {
    sigaction(SIGUSR1, handler(on_usr1), 0);
    // Blocked outside sigsuspend, so none arrives between the checks.
    let usr1: u64 = 1 << (SIGUSR1 - 1);
    unsafe { SYS_rt_sigprocmask(0, ptr(&usr1), 0, 8) };
    println!("ready");
    let empty = 0u64;
    while USR1.load(Ordering::SeqCst) < n {
        let seen = USR1.load(Ordering::SeqCst);
        let r = unsafe { SYS_rt_sigsuspend(ptr(&empty), 8) };
        println!("sigsuspend = {}, handled {}", show(r), seen + 1);
    }
    0
}

fn storm() -> i32 {
    sigaction(SIGUSR1, handler(on_usr1), SA_RESTART);
    sigaction(SIGUSR2, handler(on_usr2), 0);
    println!("ready");
    let mut x: u64 = 7;
    while USR2.load(Ordering::SeqCst) == 0 {
        for _ in 0..1000 {
            x = x.rotate_left(5) ^ 0x9e37_79b9_7f4a_7c15;
        }
        unsafe { SYS_getpid() };
    }
    println!("storm over, SIGUSR1 handled = {}, state {}", USR1.load(Ordering::SeqCst) > 0, x != 0);
    0
}

fn basics() -> i32 {
    let pid = unsafe { SYS_getpid() } as i32;
    println!("sigaction SIGUSR1 = {}", show(sigaction(SIGUSR1, handler(on_usr1), 0)));
    for _ in 0..3 {
        unsafe { SYS_kill(pid, SIGUSR1) };
    }
    println!("SIGUSR1 handled {} times, last signal {}", USR1.load(Ordering::SeqCst), LAST.load(Ordering::SeqCst));

    // A timer interrupts a blocking call; the handler runs when it returns.
    println!("sigaction SIGALRM = {}", show(sigaction(SIGALRM, handler(on_alrm), SA_RESETHAND)));
    println!("setitimer = {}", show(alarm_in(20_000)));
    println!("pause = {}", show(unsafe { SYS_pause() }));
    println!("SIGALRM handled {} times", ALRM.load(Ordering::SeqCst));
    // SA_RESETHAND: the disposition is back to the default.
    let mut old = [0u8; 24];
    unsafe { SYS_rt_sigaction(SIGALRM, 0, ptr(old.as_mut_ptr()), 8) };
    println!("SIGALRM handler after one delivery = {}", u32::from_le_bytes(old[0..4].try_into().unwrap()));
    0
}

entry!(main);
