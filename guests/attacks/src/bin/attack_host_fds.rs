//! Tries every way to touch the host's own descriptors, which lie just
//! above the guest's range (its RLIMIT_NOFILE): I/O, close, dup over,
//! mmap, fcntl, epoll, passing them over a socket, raising the limit to
//! reach them. One line per attempt: "all -ERRNO" when every host slot
//! answered the same, else the first slot that did not.
#![no_std]
#![no_main]

use wali_guest::{String, entry, format, println, ptr, show, sys::*};

/// Host slots probed above the guest's range.
const SLOTS: i32 = 8;

fn probe(name: &str, limit: i32, mut f: impl FnMut(i32) -> i64) {
    let first = f(limit);
    let odd = (limit..limit + SLOTS).map(|fd| (fd, f(fd))).find(|&(_, r)| r != first);
    let verdict: String = match odd {
        None => format!("all {}", show(first)),
        Some((fd, r)) => format!("slot {} = {} (first {})", fd - limit, show(r), show(first)),
    };
    println!("{name}: {verdict}");
}

fn main() -> i32 {
    let mut rl = [0u64; 2];
    unsafe { SYS_getrlimit(7, ptr(rl.as_mut_ptr())) };
    let limit = rl[0] as i32;
    println!("nofile soft == hard: {}", rl[0] == rl[1]);
    let mut byte = [0u8; 1];
    let mut st = [0u8; 144];
    probe("read", limit, |fd| unsafe { SYS_read(fd, ptr(byte.as_mut_ptr()), 1) });
    probe("write", limit, |fd| unsafe { SYS_write(fd, ptr(b"x".as_ptr()), 1) });
    probe("fstat", limit, |fd| unsafe { SYS_fstat(fd, ptr(st.as_mut_ptr())) });
    probe("lseek", limit, |fd| unsafe { SYS_lseek(fd, 0, 0) });
    probe("ftruncate", limit, |fd| unsafe { SYS_ftruncate(fd, 0) });
    probe("fchmod", limit, |fd| unsafe { SYS_fchmod(fd, 0o777) });
    probe("fcntl F_GETFD", limit, |fd| unsafe { SYS_fcntl(fd, 1, 0) });
    probe("fcntl F_SETFL", limit, |fd| unsafe { SYS_fcntl(fd, 4, 0) });
    probe("mmap", limit, |fd| unsafe { SYS_mmap(0, 4096, 1, 1, fd, 0) });
    probe("dup", limit, |fd| unsafe { SYS_dup(fd) });
    probe("dup2 over", limit, |fd| unsafe { SYS_dup2(1, fd) });
    probe("dup3 over", limit, |fd| unsafe { SYS_dup3(1, fd, 0) });
    probe("F_DUPFD into", limit, |fd| unsafe { SYS_fcntl(1, 0, fd as i64) });
    let ep = unsafe { SYS_epoll_create1(0) } as i32;
    let event = [1u32, 0, 0];
    probe("epoll_ctl add", limit, |fd| unsafe { SYS_epoll_ctl(ep, 1, fd, ptr(event.as_ptr())) });
    // SCM_RIGHTS over a unix socket pair: {len u64, level i32, type i32, fd}.
    let mut pair = [0i32; 2];
    unsafe { SYS_socketpair(1, 1, 0, ptr(pair.as_mut_ptr())) };
    let pass = |fd: i32| {
        let mut control = [0u8; 24];
        control[..8].copy_from_slice(&20u64.to_le_bytes());
        control[8..12].copy_from_slice(&1i32.to_le_bytes());
        control[12..16].copy_from_slice(&1i32.to_le_bytes());
        control[16..20].copy_from_slice(&fd.to_le_bytes());
        let iov = [ptr(b"x".as_ptr()), 1];
        // WALI msghdr: name, namelen, iov, iovlen, pad, control, controllen, pad, flags.
        let msg = [0, 0, ptr(iov.as_ptr()), 1, 0, ptr(control.as_ptr()), 24, 0, 0];
        unsafe { SYS_sendmsg(pair[0], ptr(msg.as_ptr()), 0) }
    };
    println!("sendmsg SCM_RIGHTS of stdout = {}", show(pass(1)));
    probe("sendmsg SCM_RIGHTS", limit, pass);
    probe("close", limit, |fd| unsafe { SYS_close(fd) });
    let raised = [rl[0] + 100, rl[1] + 100];
    println!("setrlimit raise = {}", show(unsafe { SYS_setrlimit(7, ptr(raised.as_ptr())) }));
    println!("prlimit64 raise = {}", show(unsafe { SYS_prlimit64(0, 7, ptr(raised.as_ptr()), 0) }));
    let lowered = [64u64, 64];
    println!("setrlimit lower = {}", show(unsafe { SYS_setrlimit(7, ptr(lowered.as_ptr())) }));
    println!("still writes to stdout");
    0
}

entry!(main);
