//! path_* functions: every path is resolved beneath its directory
//! descriptor by the kernel (see `resolve`), with wasmtime-wasi's
//! (cap-std's) choice of errno for each case.

use super::clock::{aligned, strict};
use super::fd::{host_filestat, known_bits, timespecs};
use crate::abi::{LOOKUP_SYMLINK_FOLLOW, STATX_BASIC_STATS, STATX_BTIME, Statx, fdflags, oflags, rights};
use crate::app;
use crate::errno::{EACCES, EILSEQ, EINVAL, EISDIR, ENOTDIR, ENOTSUP, EPERM, WasiResult, check};
use crate::fds::{self, Entry, Kind};
use crate::resolve::{self, O_NOFOLLOW, O_PATH, Owned, Path};
use crate::sys;

const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 1;
const O_RDWR: i32 = 2;
const O_CREAT: i32 = 0o100;
const O_EXCL: i32 = 0o200;
const O_TRUNC: i32 = 0o1000;
const O_APPEND: i32 = 0o2000;
const O_NONBLOCK: i32 = 0o4000;
const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
const AT_REMOVEDIR: i32 = 0x200;

/// Lookup flags: only SYMLINK_FOLLOW exists.
fn follow(flags: u32) -> WasiResult<bool> {
    known_bits(flags as u64, LOOKUP_SYMLINK_FOLLOW as u64);
    Ok(flags & LOOKUP_SYMLINK_FOLLOW != 0)
}

/// The directory `fd` and the path at (`ptr`, `len`), in wasmtime-wasi's
/// order of checks.
fn dir_path(fd: u32, ptr: u32, len: u32) -> WasiResult<(Entry, Path)> {
    let dir = fds::dir(fd)?;
    Ok((dir, Path::from_app(ptr, len)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn path_open(
    dirfd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u32,
    fd_out: u32,
) -> i32 {
    strict((|| {
        let follow = follow(dirflags)?;
        known_bits(oflags as u64, 0xf);
        known_bits(rights_base | rights_inheriting, rights::ALL);
        known_bits(fdflags as u64, 0x1f);
        let path = Path::from_app(path, path_len)?;
        let dir = fds::get(dirfd)?;
        match dir.kind() {
            Kind::Dir => {}
            Kind::File => return Err(ENOTDIR),
            _ => return Err(crate::errno::EBADF),
        }
        let (oflags, fdflags) = (oflags as u16, fdflags as u16);
        // The sync flags are not supported, and a directory cannot be
        // created or truncated.
        if fdflags & (fdflags::SYNC | fdflags::DSYNC | fdflags::RSYNC) != 0 {
            return Err(ENOTSUP);
        }
        if oflags & oflags::DIRECTORY != 0 && oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
            return Err(EINVAL);
        }
        // Access as wasmtime-wasi derives it: write for FD_WRITE, creating
        // or truncating; read for FD_READ, or whenever not writing.
        let want_write = rights_base & rights::FD_WRITE != 0;
        let write = want_write || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
        let read = rights_base & rights::FD_READ != 0 || !want_write;
        let mut flags = match (read, write) {
            (true, true) => O_RDWR,
            (false, true) => O_WRONLY,
            _ => O_RDONLY,
        };
        if oflags & oflags::CREAT != 0 {
            flags |= O_CREAT;
            if oflags & oflags::EXCL != 0 {
                flags |= O_EXCL;
            }
        }
        if oflags & oflags::TRUNC != 0 {
            flags |= O_TRUNC;
        }
        // The adapter's append and nonblocking modes live on the host fd.
        if fdflags & fdflags::APPEND != 0 {
            flags |= O_APPEND;
        }
        if fdflags & fdflags::NONBLOCK != 0 {
            flags |= O_NONBLOCK;
        }
        if !follow {
            flags |= O_NOFOLLOW;
        }
        let host = Owned(resolve::open_beneath(dir.host, &path, flags, 0o666)?);
        let mut st = Statx::new();
        check(unsafe { sys::SYS_statx(host.0, c"".as_ptr().cast(), 0x1000, STATX_BASIC_STATS, st.0.as_mut_ptr()) })?;
        let filetype = st.filetype();
        let is_dir = filetype == crate::abi::filetype::DIRECTORY;
        if !is_dir && oflags & oflags::DIRECTORY != 0 {
            return Err(ENOTDIR);
        }
        let entry =
            Entry { host: host.0, filetype, rights_base: rights::ALL, rights_inheriting: rights::ALL, preopen: None };
        let fd = fds::insert(entry)?;
        core::mem::forget(host);
        app::write_u32(aligned(fd_out, 4)?, fd)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_create_directory(fd: u32, path: u32, len: u32) -> i32 {
    strict((|| {
        let (dir, path) = dir_path(fd, path, len)?;
        let (parent, name) = resolve::parent(dir.host, &path.strip_dir_suffix())?;
        check(unsafe { sys::SYS_mkdirat(parent.fd, name.c(), 0o777) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_remove_directory(fd: u32, path: u32, len: u32) -> i32 {
    strict((|| {
        let (dir, path) = dir_path(fd, path, len)?;
        let (parent, name) = resolve::parent(dir.host, &path)?;
        check(unsafe { sys::SYS_unlinkat(parent.fd, name.c(), AT_REMOVEDIR) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_unlink_file(fd: u32, path: u32, len: u32) -> i32 {
    strict((|| {
        let (dir, path) = dir_path(fd, path, len)?;
        let (parent, name) = resolve::parent(dir.host, &path)?;
        check(unsafe { sys::SYS_unlinkat(parent.fd, name.c(), 0) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_filestat_get(fd: u32, flags: u32, path: u32, len: u32, out: u32) -> i32 {
    strict((|| {
        let follow = follow(flags)?;
        let (dir, path) = dir_path(fd, path, len)?;
        let stat = match path.single_normal() {
            // One plain name, not followed: lstat it where it is.
            Some(name) if !follow => {
                let name = Path::from_bytes(name);
                let mut st = Statx::new();
                let mask = STATX_BASIC_STATS | STATX_BTIME;
                check(unsafe { sys::SYS_statx(dir.host, name.c(), AT_SYMLINK_NOFOLLOW, mask, st.0.as_mut_ptr()) })?;
                st.to_filestat()?
            }
            _ => {
                let nofollow = if follow { 0 } else { O_NOFOLLOW };
                let f = Owned(resolve::open_beneath(dir.host, &path, O_PATH | nofollow, 0)?);
                host_filestat(f.0)?
            }
        };
        app::write(aligned(out, 8)?, &stat)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_filestat_set_times(
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> i32 {
    strict((|| {
        let follow = follow(flags)?;
        let ts = timespecs(atim, mtim, fst_flags)?;
        let (dir, path) = dir_path(fd, path, len)?;
        if follow {
            // Open for writing, else for reading, then set the times on
            // the file (cap-std's way).
            let f = match resolve::open_beneath(dir.host, &path, O_WRONLY, 0) {
                Err(EACCES | EISDIR) => resolve::open_beneath(dir.host, &path, O_RDONLY, 0)?,
                r => r?,
            };
            let f = Owned(f);
            check(unsafe { sys::SYS_utimensat(f.0, core::ptr::null(), ts.as_ptr(), 0) }).map(drop)
        } else {
            let (parent, name) = resolve::parent(dir.host, &path)?;
            check(unsafe { sys::SYS_utimensat(parent.fd, name.c(), ts.as_ptr(), AT_SYMLINK_NOFOLLOW) }).map(drop)
        }
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_link(
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> i32 {
    strict((|| {
        let follow = follow(old_flags)?;
        let old_dir = fds::dir(old_fd)?;
        let new_dir = fds::dir(new_fd)?;
        let old_path = Path::from_app(old_path, old_len)?;
        let new_path = Path::from_app(new_path, new_len)?;
        if follow {
            return Err(EINVAL);
        }
        let (op, on) = resolve::parent(old_dir.host, &old_path)?;
        let (np, nn) = resolve::parent(new_dir.host, &new_path)?;
        check(unsafe { sys::SYS_linkat(op.fd, on.c(), np.fd, nn.c(), 0) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_rename(
    old_fd: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> i32 {
    strict((|| {
        let old_dir = fds::dir(old_fd)?;
        let new_dir = fds::dir(new_fd)?;
        let old_path = Path::from_app(old_path, old_len)?;
        let new_path = Path::from_app(new_path, new_len)?;
        // A trailing slash on either side means both must be directories.
        let requires_dir = old_path.has_trailing_slash() || new_path.has_trailing_slash();
        let (op, on) = resolve::parent(old_dir.host, &old_path.strip_dir_suffix())?;
        let (np, nn) = resolve::parent(new_dir.host, &new_path.strip_dir_suffix())?;
        let on = if requires_dir {
            let mut b = [0u8; resolve::PATH_MAX];
            let n = on.bytes().len();
            b[..n].copy_from_slice(on.bytes());
            b[n] = b'/';
            Path::from_bytes(&b[..n + 1])
        } else {
            on
        };
        check(unsafe { sys::SYS_renameat2(op.fd, on.c(), np.fd, nn.c(), 0) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_symlink(old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32) -> i32 {
    strict((|| {
        let dir = fds::dir(fd)?;
        let target = Path::from_app(old_path, old_len)?;
        let new_path = Path::from_app(new_path, new_len)?;
        // An absolute target would point outside: cap-std refuses it.
        if target.bytes().starts_with(b"/") {
            return Err(EPERM);
        }
        let (parent, name) = resolve::parent(dir.host, &new_path)?;
        check(unsafe { sys::SYS_symlinkat(target.c(), parent.fd, name.c()) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn path_readlink(fd: u32, path: u32, len: u32, buf: u32, buf_len: u32, used: u32) -> i32 {
    strict((|| {
        let (dir, path) = dir_path(fd, path, len)?;
        let (parent, name) = resolve::parent(dir.host, &path)?;
        let mut target = [0u8; resolve::PATH_MAX];
        let n = check(unsafe { sys::SYS_readlinkat(parent.fd, name.c(), target.as_mut_ptr(), target.len() as u32) })?
            as usize;
        let target = &target[..n];
        if core::str::from_utf8(target).is_err() {
            return Err(EILSEQ);
        }
        // Cut to the buffer: wasmtime-wasi reports no truncation.
        let n = n.min(buf_len as usize);
        app::write(buf, &target[..n])?;
        app::write_u32(aligned(used, 4)?, n as u32)
    })())
}
