//! sock_* functions. A preview1 program cannot create sockets, but a
//! standard stream may be one (inetd style); on those these work. On any
//! other descriptor they fail as wasmtime-wasi's do: EBADF for an unknown
//! fd, ENOTSOCK otherwise. Unknown flag bits trap, as wiggle's argument
//! decoding does.

use super::clock::{aligned, invalid_argument, strict};
use crate::abi::Stat;
use crate::app;
use crate::errno::{EINVAL, ENOTSOCK, WasiResult, check};
use crate::fds::{self, Entry};
use crate::sys;
use core::cell::UnsafeCell;

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    fn SYS_recvmsg(fd: i32, msg: *mut u8, flags: i32) -> i64;
}

/// The descriptor's entry, if the host fd is a socket.
fn socket(fd: u32) -> WasiResult<Entry> {
    let e = fds::get(fd)?;
    let mut st = Stat::new();
    check(unsafe { sys::SYS_fstat(e.host, st.0.as_mut_ptr()) })?;
    if st.mode() & 0o170000 != 0o140000 {
        return Err(ENOTSOCK);
    }
    Ok(e)
}

const O_NONBLOCK: i32 = 0o4000;
const O_CLOEXEC: i32 = 0o2000000;

#[unsafe(no_mangle)]
pub extern "C" fn sock_accept(fd: u32, flags: u32, fd_out: u32) -> i32 {
    strict((|| {
        if flags & !0x1f != 0 {
            invalid_argument()
        }
        let e = socket(fd)?;
        // Only NONBLOCK means anything for an accepted socket.
        let nonblock = if flags & crate::abi::fdflags::NONBLOCK as u32 != 0 { O_NONBLOCK } else { 0 };
        let host = check(unsafe {
            sys::SYS_accept4(e.host, core::ptr::null_mut(), core::ptr::null_mut(), nonblock | O_CLOEXEC)
        })? as i32;
        let entry = Entry { host, ..e };
        let new = match fds::insert(entry) {
            Ok(n) => n,
            Err(err) => {
                unsafe { sys::SYS_close(host) };
                return Err(err);
            }
        };
        app::write_u32(aligned(fd_out, 4)?, new)
    })())
}

/// Bytes one sock_recv moves (through the shim's memory: WALI's msghdr
/// must live in one memory, and its buffers with it).
const BOUNCE: usize = 65536;

struct Bounce(UnsafeCell<[u8; BOUNCE]>);

// SAFETY: the shim runs on one thread.
unsafe impl Sync for Bounce {}

static BUF: Bounce = Bounce(UnsafeCell::new([0; BOUNCE]));

#[unsafe(no_mangle)]
pub extern "C" fn sock_recv(fd: u32, iovs: u32, n: u32, ri_flags: u32, nread: u32, ro_flags: u32) -> i32 {
    strict((|| {
        const RECV_PEEK: u32 = 1;
        const RECV_WAITALL: u32 = 2;
        if ri_flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
            invalid_argument()
        }
        let e = socket(fd)?;
        aligned(iovs, 4)?;
        // The application's buffers, up to what one bounce holds.
        let mut want = 0usize;
        for i in 0..n {
            want = want.saturating_add(app::read_u32(iovs + 8 * i + 4)? as usize);
        }
        let want = want.min(BOUNCE);
        // SAFETY: see `Bounce`.
        let buf = unsafe { &mut *BUF.0.get() };
        let mut iov = [0u8; 8];
        iov[0..4].copy_from_slice(&(buf.as_mut_ptr() as u32).to_le_bytes());
        iov[4..8].copy_from_slice(&(want as u32).to_le_bytes());
        // WALI's msghdr: name@0 namelen@4 iov@8 iovlen@12 control@20
        // controllen@24 flags@32.
        let mut msg = [0u8; 36];
        msg[8..12].copy_from_slice(&(iov.as_ptr() as u32).to_le_bytes());
        msg[12..16].copy_from_slice(&1u32.to_le_bytes());
        let flags =
            if ri_flags & RECV_PEEK != 0 { 2 } else { 0 } | if ri_flags & RECV_WAITALL != 0 { 0x100 } else { 0 };
        let got = check(unsafe { SYS_recvmsg(e.host, msg.as_mut_ptr(), flags) })? as usize;
        let truncated = i32::from_le_bytes([msg[32], msg[33], msg[34], msg[35]]) & 0x20 != 0; // MSG_TRUNC
        // Scatter into the application's iovecs.
        let mut done = 0usize;
        for i in 0..n {
            if done == got {
                break;
            }
            let base = app::read_u32(iovs + 8 * i)?;
            let len = (app::read_u32(iovs + 8 * i + 4)? as usize).min(got - done);
            app::write(base, &buf[done..done + len])?;
            done += len;
        }
        app::write_u32(aligned(nread, 4)?, got as u32)?;
        app::write(aligned(ro_flags, 2)?, &u16::from(truncated).to_le_bytes())
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn sock_send(fd: u32, iovs: u32, n: u32, si_flags: u32, nwritten: u32) -> i32 {
    strict((|| {
        // siflags is a plain u16 (no flags are defined), so only its
        // width is checked.
        if si_flags > 0xffff {
            invalid_argument()
        }
        let e = socket(fd)?;
        aligned(iovs, 4)?;
        // With no flags, sending is writing: zero-copy from the iovecs.
        let w = check(unsafe { sys::app_writev(e.host, iovs, n as i32) })?;
        app::write_u32(aligned(nwritten, 4)?, w as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn sock_shutdown(fd: u32, how: u32) -> i32 {
    strict((|| {
        // sdflags: RD = 1, WR = 2; Linux's SHUT_RD/WR/RDWR are 0/1/2.
        if how & !3 != 0 {
            invalid_argument()
        }
        let e = socket(fd)?;
        let how = match how {
            1 => 0,
            2 => 1,
            3 => 2,
            _ => return Err(EINVAL),
        };
        check(unsafe { sys::SYS_shutdown(e.host, how) }).map(drop)
    })())
}
