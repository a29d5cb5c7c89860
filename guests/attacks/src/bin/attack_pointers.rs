//! Bad pointers and engine-signal hijacks: pointers that wrap around or
//! run past the end of linear memory, structs that straddle its end, the
//! host's signal alternate stack probed, and a guest SIGSEGV handler that
//! must not take over the engine's own fault handling: after installing it
//! the guest reads out of bounds, which must trap, not run the handler.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use wali_guest::{entry, println, ptr, show, sys::*};

static HANDLED: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_segv(_: i32) {
    HANDLED.store(1, Ordering::SeqCst);
    println!("guest SIGSEGV handler ran");
}

/// The end of linear memory now (printing allocates, which may grow it).
fn end() -> u32 {
    (core::arch::wasm32::memory_size(0) * 65536) as u32
}

fn main() -> i32 {
    let mut buf = [0u8; 64];
    println!("read to wraparound = {}", show(unsafe { SYS_read(0, -16, 32) }));
    println!("write from last byte = {}", show(unsafe { SYS_write(1, -1, 2) }));
    println!("write length past end = {}", show(unsafe { SYS_write(1, ptr(buf.as_ptr()), i32::MAX) }));
    println!("pread into end-8 = {}", show(unsafe { SYS_pread64(0, (end() - 8) as i32, 16, 0) }));
    println!("fstat struct past end = {}", show(unsafe { SYS_fstat(1, (end() - 8) as i32) }));
    println!("getrlimit struct past end = {}", show(unsafe { SYS_getrlimit(7, (end() - 8) as i32) }));
    let iov = [(end() - 4) as i32, 64];
    println!("writev iovec past end = {}", show(unsafe { SYS_writev(1, ptr(iov.as_ptr()), 1) }));
    println!("writev iovec array past end = {}", show(unsafe { SYS_writev(1, (end() - 4) as i32, 1) }));
    println!("readv huge count = {}", show(unsafe { SYS_readv(0, ptr(buf.as_mut_ptr()), i32::MAX) }));
    // The alternate stack the guest sees is its own, never the host's.
    let mut ss = [0u8; 12];
    unsafe { SYS_sigaltstack(0, ptr(ss.as_mut_ptr())) };
    let (sp, flags) =
        (u32::from_le_bytes(ss[0..4].try_into().unwrap()), i32::from_le_bytes(ss[4..8].try_into().unwrap()));
    println!("initial altstack sp {sp} flags {flags}");
    let mut stack = [0u8; 12];
    stack[0..4].copy_from_slice(&(end() - 4096).to_le_bytes());
    stack[8..12].copy_from_slice(&65536u32.to_le_bytes());
    println!("sigaltstack past end = {}", show(unsafe { SYS_sigaltstack(ptr(stack.as_ptr()), 0) }));
    let mut act = [0u8; 24];
    let handler: extern "C" fn(i32) = on_segv;
    act[0..4].copy_from_slice(&(handler as usize as u32).to_le_bytes());
    println!("sigaction SIGSEGV = {}", show(unsafe { SYS_rt_sigaction(11, ptr(act.as_ptr()), 0, 8) }));
    // An out-of-bounds load: the engine's fault handling turns it into a trap.
    let far = core::hint::black_box(end() as usize + 4096) as *const u8;
    let v = unsafe { far.read_volatile() };
    println!("out-of-bounds read returned {v} (handled {})", HANDLED.load(Ordering::SeqCst));
    0
}

entry!(main);
