//! Resource exhaustion: `attack_bombs MODE`, each running until waligate
//! stops it (or, with no limit, until the kernel does):
//! - `fork`: every process forks forever; the children block.
//! - `threads`: threads that block, started forever.
//! - `memory`: maps and touches 16 MiB after 16 MiB.
//! - `loop`: computes forever without a syscall.
//! - `fds`: opens its working directory forever.
//! - `write FILE`: appends 64 KiB after 64 KiB to FILE.
//! - `kill-all`: signals every process it can (kill(-1)), its parent's
//!   group, and its parent.
//! - `exec-native`: runs /bin/sh.
#![no_std]
#![no_main]

use core::sync::atomic::AtomicU32;
use wali_guest::{args, cstr, entry, println, ptr, show, sys::*};

static NEVER: AtomicU32 = AtomicU32::new(0);

/// Blocks forever on a futex no one wakes (touches only statics: thread
/// entries have no stack of their own).
extern "C" fn block(_: i32, _: i32) {
    loop {
        unsafe { SYS_futex(ptr(NEVER.as_ptr()), 0, 0, 0, 0, 0) };
    }
}

fn fork_bomb() -> i32 {
    let mut forks = 0u32;
    loop {
        let pid = unsafe { SYS_fork() };
        if pid < 0 {
            println!("fork failed after {forks}: {}", show(pid));
            return 3;
        }
        forks += 1;
    }
}

fn thread_bomb() -> i32 {
    let entry: extern "C" fn(i32, i32) = block;
    for n in 0.. {
        let tid = unsafe { __wasm_thread_spawn(entry as usize as i32, 0) };
        if tid < 0 {
            println!("thread spawn failed after {n}: {}", show(tid as i64));
            return 3;
        }
    }
    0
}

fn memory_bomb() -> i32 {
    const CHUNK: i32 = 16 << 20;
    for n in 0.. {
        let at = unsafe { SYS_mmap(0, CHUNK, 3, 0x22, -1, 0) };
        if at < 0 {
            println!("mmap failed after {n} MiB: {}", show(at));
            return 3;
        }
        // Touch every page so the memory is really used.
        for page in (0..CHUNK).step_by(4096) {
            unsafe { ((at as i32 + page) as usize as *mut u8).write_volatile(1) };
        }
        let _ = n * 16;
    }
    0
}

fn spin() -> i32 {
    let mut x = 1u64;
    loop {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

fn fd_bomb() -> i32 {
    let here = cstr(".");
    for n in 0.. {
        let fd = unsafe { SYS_open(ptr(here.as_ptr()), 0, 0) };
        if fd < 0 {
            println!("open failed after {n}: {}", show(fd));
            return 3;
        }
    }
    0
}

fn write_bomb(path: &str) -> i32 {
    let p = cstr(path);
    let fd = unsafe { SYS_open(ptr(p.as_ptr()), 0o2101, 0o644) };
    let chunk = [b'x'; 65536];
    let mut total = 0i64;
    loop {
        let n = unsafe { SYS_write(fd as i32, ptr(chunk.as_ptr()), chunk.len() as i32) };
        if n < 0 {
            println!("write failed after {total} bytes: {}", show(n));
            return 3;
        }
        total += n;
    }
}

fn kill_all() -> i32 {
    let parent = unsafe { SYS_getppid() } as i32;
    println!("kill(-1, SIGKILL) = {}", show(unsafe { SYS_kill(-1, 9) }));
    println!("kill(-1, 0) = {}", show(unsafe { SYS_kill(-1, 0) }));
    println!("kill(parent, SIGKILL) = {}", show(unsafe { SYS_kill(parent, 9) }));
    println!("kill(-parent group, SIGKILL) = {}", show(unsafe { SYS_kill(-parent, 9) }));
    println!("kill(1, 0) = {}", show(unsafe { SYS_kill(1, 0) }));
    let me = unsafe { SYS_getpid() } as i32;
    println!("kill(self, 0) = {}", show(unsafe { SYS_kill(me, 0) }));
    0
}

fn exec_native() -> i32 {
    let (sh, c, cmd) = (cstr("/bin/sh"), cstr("-c"), cstr("echo escaped"));
    let argv = [ptr(sh.as_ptr()), ptr(c.as_ptr()), ptr(cmd.as_ptr()), 0];
    println!("execve /bin/sh = {}", show(unsafe { SYS_execve(ptr(sh.as_ptr()), ptr(argv.as_ptr()), 0) }));
    0
}

fn main() -> i32 {
    let argv = args();
    match argv.get(1).map(|s| s.as_str()) {
        Some("fork") => fork_bomb(),
        Some("threads") => thread_bomb(),
        Some("memory") => memory_bomb(),
        Some("loop") => spin(),
        Some("fds") => fd_bomb(),
        Some("write") => write_bomb(&argv[2]),
        Some("kill-all") => kill_all(),
        Some("exec-native") => exec_native(),
        _ => {
            println!("usage: attack_bombs fork|threads|memory|loop|fds|write FILE|kill-all|exec-native");
            2
        }
    }
}

entry!(main);
