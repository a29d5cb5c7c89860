//! A file mapped into memory and then truncated: its pages vanish. The host
//! must answer EFAULT for arguments that point there, never crash on SIGBUS.
#![no_std]
#![no_main]

use wali_guest::{args, cstr, entry, println, ptr, show, sys::*};

const O_RDWR_CREAT: i32 = 0o102;
const PROT_RW: i32 = 3;
const MAP_SHARED: i32 = 1;

fn main() -> i32 {
    let path = cstr(&(args()[1].clone() + "/mapped"));
    let fd = unsafe { SYS_open(ptr(path.as_ptr()), O_RDWR_CREAT, 0o600) } as i32;
    let page = [b'a'; 4096];
    for _ in 0..2 {
        unsafe { SYS_write(fd, ptr(page.as_ptr()), 4096) };
    }
    let map = unsafe { SYS_mmap(0, 8192, PROT_RW, MAP_SHARED, fd, 0) };
    println!("mmap ok = {}", map > 0);
    let p = map as i32;
    println!("ftruncate = {}", show(unsafe { SYS_ftruncate(fd, 0) }));
    // The host copies the path out of guest memory itself.
    println!("open path in vanished page = {}", show(unsafe { SYS_open(p + 16, 0, 0) }));
    println!("sigaltstack from vanished page = {}", show(unsafe { SYS_sigaltstack(p, 0) }));
    let act = [0u8; 24];
    println!("rt_sigaction into vanished page = {}", show(unsafe { SYS_rt_sigaction(10, ptr(act.as_ptr()), p, 8) }));
    // The kernel itself touches these.
    println!("write from vanished page = {}", show(unsafe { SYS_write(1, p, 4) }));
    println!("host alive = true");
    0
}

entry!(main);
