//! Tries to reach the host's memory and descriptors through /proc and
//! links into it, and the host's files by name: `attack_proc AUDIT_LOG
//! POLICY_FILE`. One line per attempt with its result (an open that got
//! through says OPENED).
#![no_std]
#![no_main]

use wali_guest::{args, cstr, entry, format, println, ptr, show, sys::*};

const O_RDONLY: i32 = 0;
const O_WRONLY_APPEND: i32 = 0o2001;
const O_RDWR: i32 = 2;
const O_DIRECTORY: i32 = 0o200000;
const AT_FDCWD: i32 = -100;

fn open(path: &str, flags: i32) -> i64 {
    let p = cstr(path);
    unsafe { SYS_open(ptr(p.as_ptr()), flags, 0) }
}

fn attempt(what: &str, ret: i64) {
    // A descriptor is reported as such, not by number.
    let shown = if ret >= 0 { "OPENED".into() } else { show(ret) };
    println!("{what}: {shown}");
}

fn main() -> i32 {
    let argv = args();
    let (audit, policy) = (&argv[1], &argv[2]);
    let mut rl = [0u64; 2];
    unsafe { SYS_getrlimit(7, ptr(rl.as_mut_ptr())) };
    let host_fd = rl[0];
    let pid = unsafe { SYS_getpid() };
    attempt("/proc/self/mem rw", open("/proc/self/mem", O_RDWR));
    attempt("/proc/self/mem r", open("/proc/self/mem", O_RDONLY));
    attempt("/proc/PID/mem", open(&format!("/proc/{pid}/mem"), O_RDONLY));
    attempt("/proc/PID/task/PID/mem", open(&format!("/proc/{pid}/task/{pid}/mem"), O_RDONLY));
    attempt("/proc/self/maps", open("/proc/self/maps", O_RDONLY));
    attempt("/proc/self/environ", open("/proc/self/environ", O_RDONLY));
    attempt("/proc/self/fd", open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
    attempt("/proc/self/fd/HOST", open(&format!("/proc/self/fd/{host_fd}"), O_WRONLY_APPEND));
    attempt("/proc/thread-self/fd/HOST", open(&format!("/proc/thread-self/fd/{host_fd}"), O_WRONLY_APPEND));
    attempt("/proc/self/root/proc/self/mem", open("/proc/self/root/proc/self/mem", O_RDONLY));
    let dir = open("/proc/self", O_RDONLY | O_DIRECTORY);
    let (mem, fd) = (cstr("mem"), cstr(&format!("fd/{host_fd}")));
    attempt("openat(/proc/self, mem)", unsafe { SYS_openat(dir as i32, ptr(mem.as_ptr()), O_RDONLY, 0) });
    attempt("openat(/proc/self, fd/HOST)", unsafe { SYS_openat(dir as i32, ptr(fd.as_ptr()), O_WRONLY_APPEND, 0) });
    let (target, link) = (cstr("/proc/self/mem"), cstr("mem-link"));
    unsafe { SYS_symlinkat(ptr(target.as_ptr()), AT_FDCWD, ptr(link.as_ptr())) };
    attempt("symlink to /proc/self/mem", open("mem-link", O_RDONLY));
    attempt("audit log by path", open(audit, O_WRONLY_APPEND));
    attempt("policy file by path", open(policy, O_RDWR));
    let (a, p) = (cstr(audit), cstr(policy));
    let (moved, linked) = (cstr("moved"), cstr("linked"));
    println!("chmod policy = {}", show(unsafe { SYS_chmod(ptr(p.as_ptr()), 0o666) }));
    println!("rename audit log = {}", show(unsafe { SYS_rename(ptr(a.as_ptr()), ptr(moved.as_ptr())) }));
    println!("link audit log = {}", show(unsafe { SYS_link(ptr(a.as_ptr()), ptr(linked.as_ptr())) }));
    println!("unlink audit log = {}", show(unsafe { SYS_unlink(ptr(a.as_ptr())) }));
    // The runner made `audit-alias`, a symlink to the audit log.
    attempt("symlink to the audit log", open("audit-alias", O_WRONLY_APPEND));
    let alias = cstr("audit-alias");
    println!("chmod through the symlink = {}", show(unsafe { SYS_chmod(ptr(alias.as_ptr()), 0o666) }));
    let (target, alias) = (cstr(audit), cstr("new-alias"));
    let made = unsafe { SYS_symlinkat(ptr(target.as_ptr()), AT_FDCWD, ptr(alias.as_ptr())) };
    println!("symlink naming the audit log = {}", show(made));
    0
}

entry!(main);
