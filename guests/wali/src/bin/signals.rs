//! Guest signal handlers run: a handler is installed in the WALI layout
//! (a table index), and the host calls it after the host call during which
//! the signal arrived.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI32, Ordering};
use wali_guest::{entry, println, ptr, show, sys::*};

const SIGUSR1: i32 = 10;
const SIGALRM: i32 = 14;
const SA_RESETHAND: u64 = 0x8000_0000;

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    /// Not in the specification's list; real binaries import it.
    fn SYS_pause() -> i64;
}

static USR1: AtomicI32 = AtomicI32::new(0);
static ALRM: AtomicI32 = AtomicI32::new(0);
static LAST: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_usr1(sig: i32) {
    USR1.fetch_add(1, Ordering::SeqCst);
    LAST.store(sig, Ordering::SeqCst);
}

extern "C" fn on_alrm(_: i32) {
    ALRM.fetch_add(1, Ordering::SeqCst);
}

/// rt_sigaction with the 24-byte WALI layout: handler, flags, restorer, mask.
fn sigaction(sig: i32, handler: u32, flags: u64) -> i64 {
    let mut act = [0u8; 24];
    act[0..4].copy_from_slice(&handler.to_le_bytes());
    act[4..12].copy_from_slice(&flags.to_le_bytes());
    unsafe { SYS_rt_sigaction(sig, ptr(act.as_ptr()), 0, 8) }
}

fn main() -> i32 {
    let pid = unsafe { SYS_getpid() } as i32;
    println!("sigaction SIGUSR1 = {}", show(sigaction(SIGUSR1, on_usr1 as extern "C" fn(i32) as usize as u32, 0)));
    for _ in 0..3 {
        unsafe { SYS_kill(pid, SIGUSR1) };
    }
    println!("SIGUSR1 handled {} times, last signal {}", USR1.load(Ordering::SeqCst), LAST.load(Ordering::SeqCst));

    // A timer interrupts a blocking call; the handler runs when it returns.
    println!(
        "sigaction SIGALRM = {}",
        show(sigaction(SIGALRM, on_alrm as extern "C" fn(i32) as usize as u32, SA_RESETHAND))
    );
    let timer: [i64; 4] = [0, 0, 0, 20_000]; // no interval, 20 ms
    println!("setitimer = {}", show(unsafe { SYS_setitimer(0, ptr(timer.as_ptr()), 0) }));
    println!("pause = {}", show(unsafe { SYS_pause() }));
    println!("SIGALRM handled {} times", ALRM.load(Ordering::SeqCst));
    // SA_RESETHAND: the disposition is back to the default.
    let mut old = [0u8; 24];
    unsafe { SYS_rt_sigaction(SIGALRM, 0, ptr(old.as_mut_ptr()), 8) };
    println!("SIGALRM handler after one delivery = {}", u32::from_le_bytes(old[0..4].try_into().unwrap()));
    0
}

entry!(main);
