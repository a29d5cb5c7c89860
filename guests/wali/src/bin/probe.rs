//! Tries the operations named on its command line, one result line each,
//! so policy tests can ask "is this allowed?" precisely:
//! `read PATH`, `write PATH TEXT`, `mkdir PATH`, `unlink PATH`,
//! `rename FROM TO`, `symlink TARGET LINK`, `stat PATH`, `chdir PATH`,
//! `connect IPV4 PORT`, `sendmsg IPV4 PORT` (UDP), `unix-connect PATH`,
//! `fchmod PATH` (0777, through a read-only descriptor), `getpid`,
//! `opendir PATH` (kept open as the directory `read-at` works in; prints 0),
//! `read-at PATH` (openat relative to that directory, then read).
#![no_std]
#![no_main]

use wali_guest::{Vec, args, cstr, entry, println, ptr, show, sys::*};

const O_WRONLY_CREAT_TRUNC: i32 = 0o1101;
const O_DIRECTORY: i32 = 0o200000;

fn path_op(f: impl FnOnce(i32) -> i64, path: &str) -> i64 {
    let p = cstr(path);
    f(ptr(p.as_ptr()))
}

fn read(path: &str) -> i64 {
    read_fd(path_op(|p| unsafe { SYS_open(p, 0, 0) }, path))
}

fn read_at(dirfd: i32, path: &str) -> i64 {
    read_fd(path_op(|p| unsafe { SYS_openat(dirfd, p, 0, 0) }, path))
}

/// Reads from `fd` (an open's result) and closes it.
fn read_fd(fd: i64) -> i64 {
    if fd < 0 {
        return fd;
    }
    let mut buf = [0u8; 256];
    let n = unsafe { SYS_read(fd as i32, ptr(buf.as_mut_ptr()), buf.len() as i32) };
    unsafe { SYS_close(fd as i32) };
    n
}

fn write(path: &str, text: &str) -> i64 {
    let fd = path_op(|p| unsafe { SYS_open(p, O_WRONLY_CREAT_TRUNC, 0o644) }, path);
    if fd < 0 {
        return fd;
    }
    let n = unsafe { SYS_write(fd as i32, ptr(text.as_ptr()), text.len() as i32) };
    unsafe { SYS_close(fd as i32) };
    n
}

/// A `sockaddr_in` for `ip:port`.
fn sockaddr(ip: &str, port: &str) -> [u8; 16] {
    let octets: Vec<u8> = ip.split('.').map(|o| o.parse().unwrap_or(0)).collect();
    let port: u16 = port.parse().unwrap_or(0);
    let mut addr = [0u8; 16];
    addr[0] = 2;
    addr[2..4].copy_from_slice(&port.to_be_bytes());
    addr[4..8].copy_from_slice(&octets[..4]);
    addr
}

fn connect(ip: &str, port: &str) -> i64 {
    let fd = unsafe { SYS_socket(2, 1, 0) };
    if fd < 0 {
        return fd;
    }
    let addr = sockaddr(ip, port);
    let r = unsafe { SYS_connect(fd as i32, ptr(addr.as_ptr()), 16) };
    unsafe { SYS_close(fd as i32) };
    r
}

/// A stream connection to the unix socket at `path`.
fn unix_connect(path: &str) -> i64 {
    let fd = unsafe { SYS_socket(1, 1, 0) };
    if fd < 0 {
        return fd;
    }
    let mut addr = [0u8; 110];
    addr[0] = 1;
    addr[2..2 + path.len()].copy_from_slice(path.as_bytes());
    let r = unsafe { SYS_connect(fd as i32, ptr(addr.as_ptr()), (2 + path.len() + 1) as i32) };
    unsafe { SYS_close(fd as i32) };
    r
}

/// A UDP datagram to `ip:port` through sendmsg's msg_name.
fn sendmsg(ip: &str, port: &str) -> i64 {
    let fd = unsafe { SYS_socket(2, 2, 0) };
    if fd < 0 {
        return fd;
    }
    let addr = sockaddr(ip, port);
    let data = *b"datagram";
    let iov: [u32; 2] = [ptr(data.as_ptr()) as u32, data.len() as u32];
    // The 36-byte WALI msghdr: name, namelen, iov, iovlen, control, controllen, flags.
    let mut hdr = [0u32; 9];
    hdr[0] = ptr(addr.as_ptr()) as u32;
    hdr[1] = 16;
    hdr[2] = ptr(iov.as_ptr()) as u32;
    hdr[3] = 1;
    let r = unsafe { SYS_sendmsg(fd as i32, ptr(hdr.as_ptr()), 0) };
    unsafe { SYS_close(fd as i32) };
    r
}

fn main() -> i32 {
    let argv = args();
    let mut ops = argv[1..].iter().map(|s| s.as_str());
    let mut dirfd = -100;
    while let Some(op) = ops.next() {
        let mut arg = || ops.next().unwrap_or("");
        let (what, r) = match op {
            "read" => {
                let p = arg();
                (p, read(p))
            }
            "write" => {
                let (p, t) = (arg(), arg());
                (p, write(p, t))
            }
            "mkdir" => {
                let p = arg();
                (p, path_op(|q| unsafe { SYS_mkdir(q, 0o755) }, p))
            }
            "unlink" => {
                let p = arg();
                (p, path_op(|q| unsafe { SYS_unlink(q) }, p))
            }
            "stat" => {
                let p = arg();
                let mut st = [0u8; 144];
                (p, path_op(|q| unsafe { SYS_stat(q, ptr(st.as_mut_ptr())) }, p))
            }
            "chdir" => {
                let p = arg();
                (p, path_op(|q| unsafe { SYS_chdir(q) }, p))
            }
            "rename" | "symlink" => {
                let (a, b) = (cstr(arg()), arg());
                let bb = cstr(b);
                let r = if op == "rename" {
                    unsafe { SYS_rename(ptr(a.as_ptr()), ptr(bb.as_ptr())) }
                } else {
                    unsafe { SYS_symlink(ptr(a.as_ptr()), ptr(bb.as_ptr())) }
                };
                (b, r)
            }
            "connect" => {
                let (ip, port) = (arg(), arg());
                (ip, connect(ip, port))
            }
            "fchmod" => {
                // Through a descriptor opened read-only.
                let p = arg();
                let fd = path_op(|q| unsafe { SYS_open(q, 0, 0) }, p);
                let r = if fd < 0 { fd } else { unsafe { SYS_fchmod(fd as i32, 0o777) } };
                unsafe { SYS_close(fd as i32) };
                (p, r)
            }
            "unix-connect" => {
                let path = arg();
                (path, unix_connect(path))
            }
            "sendmsg" => {
                let (ip, port) = (arg(), arg());
                (ip, sendmsg(ip, port))
            }
            "getpid" => ("", i64::from(unsafe { SYS_getpid() } > 0)),
            "opendir" => {
                let p = arg();
                let fd = path_op(|q| unsafe { SYS_open(q, O_DIRECTORY, 0) }, p);
                if fd >= 0 {
                    dirfd = fd as i32;
                }
                (p, fd.min(0))
            }
            "read-at" => {
                let p = arg();
                (p, read_at(dirfd, p))
            }
            other => {
                println!("unknown op {other}");
                return 2;
            }
        };
        println!("{op} {what} = {}", show(r));
    }
    0
}

entry!(main);
