//! Hostile arguments: pointers past the end of memory, NULL, lengths that
//! wrap around, unterminated paths, negative and huge fds, bogus flags.
//! Every one must come back as the kernel's errno and the host survives.
#![no_std]
#![no_main]

use wali_guest::{String, cstr, entry, println, ptr, show, sys::*};

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    /// Not a Linux syscall: the host answers -ENOSYS.
    fn SYS_no_such_call(a: i32) -> i64;
}

/// The current end of linear memory (allocations may grow it, so it is
/// read right before each call).
fn end() -> i32 {
    (core::arch::wasm32::memory_size(0) * 65536) as i32
}

fn main() -> i32 {
    let zero = unsafe { SYS_open(ptr(cstr("/dev/zero").as_ptr()), 0, 0) } as i32;
    let mut buf = [0u8; 64];
    let b = ptr(buf.as_mut_ptr());

    println!("read ok = {}", show(unsafe { SYS_read(zero, b, 64) }));
    println!("read NULL = {}", show(unsafe { SYS_read(zero, 0, 1) }));
    println!("read NULL len 0 = {}", show(unsafe { SYS_read(zero, 0, 0) }));
    println!("read straddling end = {}", show(unsafe { SYS_read(zero, end() - 8, 16) }));
    println!("read ending at end = {}", show(unsafe { SYS_read(zero, end() - 8, 8) }));
    println!("read past end = {}", show(unsafe { SYS_read(zero, end() + 4096, 1) }));
    println!("read len u32::MAX = {}", show(unsafe { SYS_read(zero, b, -1) }));
    println!("write wrapping = {}", show(unsafe { SYS_write(1, -16, 32) }));
    println!("getrandom huge = {}", show(unsafe { SYS_getrandom(b, 0x7fff_ffff, 0) }));
    println!("getcwd huge = {}", show(unsafe { SYS_getcwd(b, -1) }));

    println!("open path past end = {}", show(unsafe { SYS_open(end() + 10, 0, 0) }));
    println!("open NULL path = {}", show(unsafe { SYS_open(0, 0, 0) }));
    // An unterminated path running into the end of memory.
    let tail = (end() - 16) as *mut u8;
    unsafe { core::ptr::write_bytes(tail, b'a', 16) };
    println!("open unterminated = {}", show(unsafe { SYS_open(ptr(tail), 0, 0) }));
    // PATH_MAX counts the NUL: 4095 bytes is the longest path the kernel takes.
    let longest: String = "a/".repeat(2047) + "a";
    println!("open 4095-byte path = {}", show(unsafe { SYS_open(ptr(cstr(&longest).as_ptr()), 0, 0) }));
    let too_long = longest + "a";
    println!("open 4096-byte path = {}", show(unsafe { SYS_open(ptr(cstr(&too_long).as_ptr()), 0, 0) }));

    println!("fstat struct past end = {}", show(unsafe { SYS_fstat(zero, end() - 100) }));
    println!("stat NULL buffer = {}", show(unsafe { SYS_stat(ptr(cstr("/").as_ptr()), 0) }));
    println!("uname past end = {}", show(unsafe { SYS_uname(end() - 200) }));
    println!("clock_gettime past end = {}", show(unsafe { SYS_clock_gettime(1, end() - 8) }));
    println!("nanosleep bad req = {}", show(unsafe { SYS_nanosleep(end(), 0) }));
    println!("futex bad address = {}", show(unsafe { SYS_futex(end(), 1, 1, 0, 0, 0) }));
    println!("rt_sigaction bad act = {}", show(unsafe { SYS_rt_sigaction(10, end() - 4, 0, 8) }));
    println!("rt_sigaction bad sigsetsize = {}", show(unsafe { SYS_rt_sigaction(10, 0, b, 4) }));
    println!("rt_sigaction signal 0 = {}", show(unsafe { SYS_rt_sigaction(0, 0, b, 8) }));
    println!("rt_sigaction SIGKILL = {}", show(unsafe { SYS_rt_sigaction(9, b, 0, 8) }));
    println!("sigaltstack bad ptr = {}", show(unsafe { SYS_sigaltstack(end() - 4, 0) }));

    println!("read fd -5 = {}", show(unsafe { SYS_read(-5, b, 1) }));
    println!("close fd -1 = {}", show(unsafe { SYS_close(-1) }));
    println!("fstat fd 1<<30 = {}", show(unsafe { SYS_fstat(1 << 30, b) }));
    println!("dup2 to huge fd = {}", show(unsafe { SYS_dup2(1, 1 << 30) }));
    println!("pipe2 bogus flags = {}", show(unsafe { SYS_pipe2(b, 0xdead) }));
    println!("eventfd2 bogus flags = {}", show(unsafe { SYS_eventfd2(0, 0xdead) }));
    println!("socket bogus type = {}", show(unsafe { SYS_socket(2, 0xff, 0) }));
    println!("clock_gettime bogus clock = {}", show(unsafe { SYS_clock_gettime(999, b) }));
    println!("unknown syscall = {}", show(unsafe { SYS_no_such_call(1) }));
    println!("execve a directory = {}", show(unsafe { SYS_execve(ptr(cstr("/").as_ptr()), 0, 0) }));
    println!("thread spawn bad entry = {}", show(unsafe { wali_guest::sys::__wasm_thread_spawn(0xffff, 0) } as i64));
    println!("host alive = true");
    0
}

entry!(main);
