//! Guest threads through `__wasm_thread_spawn`: each runs in its own
//! instance over the shared memory. `threads MODE`:
//! - `counter`: four threads add to a counter under a futex mutex, then
//!   exit one by one while the others run; the main thread waits for the
//!   clear-tid words the host clears as each thread ends.
//! - `exit-group`: a thread ends the whole process with status 42 while
//!   the main thread is blocked.
//! - `exit-group-busy`: the same while the main thread makes calls
//!   nonstop (so one is under way when the process ends).
//! - `last-thread`: the main thread exits first (its clear-tid word tells
//!   the other thread); the process ends when the other thread exits,
//!   with its status.
//! - `trap`: a thread traps; the whole process ends.
//!
//! Thread entries run without a stack of their own (this guest has no
//! trampoline that sets `__stack_pointer`), so they touch only statics and
//! registers: no locals in memory, no formatting.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use wali_guest::{args, entry, println, ptr, show, sys::*};

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const THREADS: usize = 4;
const ROUNDS: u32 = 20_000;

/// 0 unlocked, 1 locked, 2 locked with waiters (Drepper's mutex).
static LOCK: AtomicU32 = AtomicU32::new(0);
static COUNTER: AtomicU32 = AtomicU32::new(0);
/// Each thread's own view of its TID (gettid), and its clear-tid word.
static SEEN_TID: [AtomicI32; THREADS] = [const { AtomicI32::new(0) }; THREADS];
static TID_WORD: [AtomicI32; THREADS] = [const { AtomicI32::new(0) }; THREADS];
static GO: AtomicU32 = AtomicU32::new(0);
static NEVER: AtomicU32 = AtomicU32::new(0);
/// The main thread's clear-tid word.
static MAIN_TID: AtomicU32 = AtomicU32::new(0);
static WORKER_DONE: &[u8] = b"worker done\n";

#[inline(always)]
fn futex(word: &AtomicU32, op: i32, val: u32) -> i64 {
    unsafe { SYS_futex(ptr(word.as_ptr()), op, val as i32, 0, 0, 0) }
}

#[inline(always)]
fn lock() {
    if LOCK.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        return;
    }
    while LOCK.swap(2, Ordering::Acquire) != 0 {
        futex(&LOCK, FUTEX_WAIT, 2);
    }
}

#[inline(always)]
fn unlock() {
    if LOCK.swap(0, Ordering::Release) == 2 {
        futex(&LOCK, FUTEX_WAKE, 1);
    }
}

/// `counter` worker; `arg` is its slot.
extern "C" fn count(_tid: i32, arg: i32) {
    let slot = arg as usize;
    unsafe {
        SEEN_TID[slot].store(SYS_gettid() as i32, Ordering::SeqCst);
        SYS_set_tid_address(ptr(TID_WORD[slot].as_ptr()));
    }
    for _ in 0..ROUNDS {
        lock();
        // A non-atomic read-modify-write: only the mutex keeps it exact.
        let v = COUNTER.load(Ordering::Relaxed);
        COUNTER.store(v + 1, Ordering::Relaxed);
        unlock();
    }
    unsafe { SYS_exit(0) };
}

#[inline(always)]
fn wait_for_go() {
    while GO.load(Ordering::SeqCst) == 0 {
        futex(&GO, FUTEX_WAIT, 0);
    }
}

fn go() {
    GO.store(1, Ordering::SeqCst);
    futex(&GO, FUTEX_WAKE, 1);
}

extern "C" fn exit_group(_: i32, _: i32) {
    wait_for_go();
    unsafe { SYS_exit_group(42) };
}

/// Makes 2000 calls, then ends the process, while the main thread is
/// making calls of its own.
extern "C" fn exit_group_busy(_: i32, _: i32) {
    wait_for_go();
    for _ in 0..2000 {
        unsafe { SYS_getppid() };
    }
    unsafe { SYS_exit_group(42) };
}

/// Writes once the main thread has exited (its clear-tid word is 0).
extern "C" fn outlive_main(_: i32, _: i32) {
    loop {
        let v = MAIN_TID.load(Ordering::SeqCst);
        if v == 0 {
            break;
        }
        futex(&MAIN_TID, FUTEX_WAIT, v);
    }
    unsafe {
        SYS_write(1, ptr(WORKER_DONE.as_ptr()), WORKER_DONE.len() as i32);
        SYS_exit(7);
    }
}

/// Traps once the main thread has reported the spawn.
extern "C" fn trap(_: i32, _: i32) {
    wait_for_go();
    core::arch::wasm32::unreachable()
}

fn spawn(f: extern "C" fn(i32, i32), arg: i32) -> i32 {
    unsafe { __wasm_thread_spawn(f as usize as i32, arg) }
}

fn counter() -> i32 {
    let mut tids = [0i32; THREADS];
    for (i, tid) in tids.iter_mut().enumerate() {
        // The word holds the TID until the thread ends, as with CLONE_CHILD_SETTID.
        TID_WORD[i].store(-1, Ordering::SeqCst);
        *tid = spawn(count, i as i32);
        TID_WORD[i].compare_exchange(-1, *tid, Ordering::SeqCst, Ordering::SeqCst).ok();
    }
    println!("spawned {} threads", tids.iter().filter(|&&t| t > 0).count());
    // Wait for each thread's clear-tid word to drop to 0.
    for word in &TID_WORD {
        loop {
            let v = word.load(Ordering::SeqCst);
            if v == 0 {
                break;
            }
            unsafe { SYS_futex(ptr(word.as_ptr()), FUTEX_WAIT, v, 0, 0, 0) };
        }
    }
    let pid = unsafe { SYS_getpid() } as i32;
    let seen: [i32; THREADS] = core::array::from_fn(|i| SEEN_TID[i].load(Ordering::SeqCst));
    println!("counter = {}", COUNTER.load(Ordering::SeqCst));
    println!("spawn returned each thread's gettid = {}", tids == seen);
    println!("tids distinct from pid = {}", tids.iter().all(|&t| t != pid));
    0
}

fn main() -> i32 {
    let args = args();
    match args.get(1).map(|s| s.as_str()) {
        Some("counter") => counter(),
        Some("exit-group") => {
            println!("spawn = {}", spawn(exit_group, 0) > 0);
            go();
            // Blocks until the other thread ends the process.
            println!("futex wait = {}", show(futex(&NEVER, FUTEX_WAIT, 0)));
            1
        }
        Some("exit-group-busy") => {
            println!("spawn = {}", spawn(exit_group_busy, 0) > 0);
            go();
            // Calls until the other thread ends the process.
            loop {
                unsafe { SYS_getpid() };
            }
        }
        Some("last-thread") => {
            MAIN_TID.store(unsafe { SYS_set_tid_address(ptr(MAIN_TID.as_ptr())) } as u32, Ordering::SeqCst);
            println!("spawn = {}", spawn(outlive_main, 0) > 0);
            println!("main leaving");
            unsafe { SYS_exit(3) };
            1
        }
        Some("trap") => {
            println!("spawn = {}", spawn(trap, 0) > 0);
            go();
            futex(&NEVER, FUTEX_WAIT, 0);
            1
        }
        _ => {
            println!("usage: threads counter|exit-group|last-thread|trap");
            2
        }
    }
}

entry!(main);
