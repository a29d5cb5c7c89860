//! fork: the child continues in the same instance with a copy of memory.
//! `fork pipe`: the child writes to a pipe and exits with 3; the parent
//! reads it and reaps the child with wait4. `fork exec MODULE`: the child
//! execs another guest module; the parent waits for it.
#![no_std]
#![no_main]

use wali_guest::{String, args, cstr, entry, println, ptr, show, sys::*};

/// The exit status in a wait status word.
fn exit_status(status: i32) -> i32 {
    (status >> 8) & 0xff
}

fn wait(pid: i32) -> i32 {
    let mut status = 0i32;
    let r = unsafe { SYS_wait4(pid, ptr(&raw mut status), 0, 0) };
    println!("wait4 returned the child = {}", r == pid as i64);
    println!("child exited = {}, status {}", status & 0x7f == 0, exit_status(status));
    0
}

fn pipe() -> i32 {
    let mut fds = [0i32; 2];
    unsafe { SYS_pipe2(ptr(fds.as_mut_ptr()), 0) };
    // Memory is copied: the child's change stays in the child.
    let mut marker = 1;
    let pid = unsafe { SYS_fork() } as i32;
    if pid == 0 {
        marker = 2;
        let msg = wali_guest::format!("child {} sees marker {marker}", unsafe { SYS_getpid() } != 0);
        unsafe { SYS_write(fds[1], ptr(msg.as_ptr()), msg.len() as i32) };
        unsafe { SYS_exit_group(3) };
    }
    println!("fork = {}", if pid > 0 { "child pid" } else { "error" });
    unsafe { SYS_close(fds[1]) };
    let mut buf = [0u8; 64];
    let mut got = String::new();
    loop {
        let n = unsafe { SYS_read(fds[0], ptr(buf.as_mut_ptr()), buf.len() as i32) };
        if n <= 0 {
            break;
        }
        got.push_str(core::str::from_utf8(&buf[..n as usize]).unwrap_or("?"));
    }
    println!("from the pipe: {got}");
    println!("parent still sees marker {marker}");
    wait(pid)
}

fn exec(module: &str) -> i32 {
    let path = cstr(module);
    let arg1 = cstr("from-fork");
    let env0 = cstr("GREETING=forked");
    let argv = [ptr(path.as_ptr()), ptr(arg1.as_ptr()), 0];
    let envp = [ptr(env0.as_ptr()), 0];
    let pid = unsafe { SYS_fork() } as i32;
    if pid == 0 {
        let r = unsafe { SYS_execve(ptr(path.as_ptr()), ptr(argv.as_ptr()), ptr(envp.as_ptr())) };
        println!("execve failed: {}", show(r));
        unsafe { SYS_exit_group(127) };
    }
    wait(pid)
}

fn main() -> i32 {
    let args = args();
    match (args.get(1).map(|s| s.as_str()), args.get(2)) {
        (Some("pipe"), _) => pipe(),
        (Some("exec"), Some(module)) => exec(module),
        _ => {
            println!("usage: fork pipe | fork exec MODULE");
            2
        }
    }
}

entry!(main);
