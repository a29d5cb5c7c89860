//! fd_* functions.

use super::ret;
use crate::abi::{Stat, filetype, rights};
use crate::app;
use crate::errno::{EBADF, EINVAL, WasiResult, check};
use crate::{config, fds, sys};

#[unsafe(no_mangle)]
pub extern "C" fn fd_write(fd: u32, iovs: u32, n: u32, nwritten: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_WRITE)?;
        let w = check(unsafe { sys::app_writev(e.host, iovs, n as i32) })?;
        app::write_u32(nwritten, w as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_read(fd: u32, iovs: u32, n: u32, nread: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_READ)?;
        let r = check(unsafe { sys::app_readv(e.host, iovs, n as i32) })?;
        app::write_u32(nread, r as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_pwrite(fd: u32, iovs: u32, n: u32, offset: u64, nwritten: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_WRITE | rights::FD_SEEK)?;
        let w = check(unsafe { sys::app_pwritev(e.host, iovs, n as i32, offset as i64) })?;
        app::write_u32(nwritten, w as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_pread(fd: u32, iovs: u32, n: u32, offset: u64, nread: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_READ | rights::FD_SEEK)?;
        let r = check(unsafe { sys::app_preadv(e.host, iovs, n as i32, offset as i64) })?;
        app::write_u32(nread, r as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_close(fd: u32) -> i32 {
    ret((|| {
        let e = fds::remove(fd)?;
        check(unsafe { sys::SYS_close(e.host) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_seek(fd: u32, offset: i64, whence: u32, newoffset: u32) -> i32 {
    ret((|| {
        let need = if offset == 0 && whence == 1 { rights::FD_TELL } else { rights::FD_SEEK | rights::FD_TELL };
        let e = fds::with_rights(fd, need)?;
        // WASI whence: 0 set, 1 cur, 2 end (Linux's order too).
        if whence > 2 {
            return Err(EINVAL);
        }
        let pos = check(unsafe { sys::SYS_lseek(e.host, offset, whence as i32) })?;
        app::write_u64(newoffset, pos as u64)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_tell(fd: u32, offset: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_TELL)?;
        let pos = check(unsafe { sys::SYS_lseek(e.host, 0, 1) })?;
        app::write_u64(offset, pos as u64)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_fdstat_get(fd: u32, out: u32) -> i32 {
    ret((|| {
        let e = fds::get(fd)?;
        let fl = check(unsafe { sys::SYS_fcntl(e.host, 3, 0) })? as u32; // F_GETFL
        let mut flags = 0u16;
        if fl & 0o2000 != 0 {
            flags |= crate::abi::fdflags::APPEND;
        }
        if fl & 0o4000 != 0 {
            flags |= crate::abi::fdflags::NONBLOCK;
        }
        if fl & 0o4010000 == 0o4010000 {
            flags |= crate::abi::fdflags::SYNC;
        } else if fl & 0o10000 != 0 {
            flags |= crate::abi::fdflags::DSYNC;
        }
        let mut b = [0u8; 24];
        b[0] = e.filetype;
        b[2..4].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&e.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&e.rights_inheriting.to_le_bytes());
        app::write(out, &b)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_filestat_get(fd: u32, out: u32) -> i32 {
    ret((|| {
        let e = fds::with_rights(fd, rights::FD_FILESTAT_GET)?;
        let mut st = Stat::new();
        check(unsafe { sys::SYS_fstat(e.host, st.0.as_mut_ptr()) })?;
        app::write(out, &st.to_filestat())
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_prestat_get(fd: u32, out: u32) -> i32 {
    ret((|| {
        let (_, len) = fds::get(fd)?.preopen.ok_or(EBADF)?;
        let mut b = [0u8; 8];
        b[0] = 0; // directory
        b[4..8].copy_from_slice(&len.to_le_bytes());
        app::write(out, &b)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_prestat_dir_name(fd: u32, path: u32, len: u32) -> i32 {
    ret((|| {
        let (off, n) = fds::get(fd)?.preopen.ok_or(EBADF)?;
        if len < n {
            return Err(crate::errno::ENAMETOOLONG);
        }
        app::write(path, config::slice(off, n))
    })())
}

/// Keeps the filetype constant used for entries this module creates.
pub const REGULAR: u8 = filetype::REGULAR_FILE;
