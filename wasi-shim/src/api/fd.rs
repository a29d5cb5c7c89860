//! fd_* functions, with wasmtime-wasi's preview1 semantics: descriptors
//! are standard streams, directories or files, and each operation is
//! allowed or EBADF/ESPIPE by kind (rights are reported, never enforced).

use super::clock::{aligned, strict};
use crate::abi::{STATX_BASIC_STATS, STATX_BTIME, Statx, fdflags, filestat, fstflags, rights};
use crate::app;
use crate::errno::{EBADF, EINVAL, ENAMETOOLONG, ENOTDIR, ENOTSUP, WasiResult, check};
use crate::fds::{self, Entry, Kind};
use crate::resolve::{self, O_DIRECTORY, Owned, Path};
use crate::{config, sys};

const O_ACCMODE: u32 = 3;
const O_WRONLY: u32 = 1;
const O_RDWR: u32 = 2;
const O_APPEND: u32 = 0o2000;
const O_NONBLOCK: u32 = 0o4000;
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const AT_EMPTY_PATH: i32 = 0x1000;
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

/// Flag bits outside `known` trap, as wasmtime-wasi's flag conversions do.
pub fn known_bits(v: u64, known: u64) {
    if v & !known != 0 {
        core::arch::wasm32::unreachable()
    }
}

/// The first non-empty buffer of an iovec array (its address, for a
/// one-element array), or None: wasmtime-wasi moves only that buffer.
fn first_iov(iovs: u32, n: u32) -> WasiResult<Option<u32>> {
    // Wrapped as wasmtime-wasi bounds-checks the array.
    if iovs as u64 + 8 * n as u64 > u32::MAX as u64 {
        return Err(crate::errno::EFAULT);
    }
    aligned(iovs, 4)?;
    for i in 0..n {
        let at = iovs.checked_add(8 * i).ok_or(crate::errno::EFAULT)?;
        if app::read_u32(at + 4)? != 0 {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_write(fd: u32, iovs: u32, n: u32, nwritten: u32) -> i32 {
    strict((|| {
        let iov = first_iov(iovs, n)?;
        let e = fds::get(fd)?;
        if !matches!(e.kind(), Kind::File | Kind::Stdout | Kind::Stderr) {
            return Err(EBADF);
        }
        // Even an empty write reaches the file (a read-only one is EBADF).
        let (iov, n) = iov.map_or((iovs, 0), |iov| (iov, 1));
        let w = check(unsafe { sys::app_writev(e.host, iov, n) })?;
        app::write_u32(aligned(nwritten, 4)?, w as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_read(fd: u32, iovs: u32, n: u32, nread: u32) -> i32 {
    strict((|| {
        let iov = first_iov(iovs, n)?;
        let e = fds::get(fd)?;
        if !matches!(e.kind(), Kind::File | Kind::Stdin) {
            return Err(EBADF);
        }
        let (iov, n) = iov.map_or((iovs, 0), |iov| (iov, 1));
        let r = check(unsafe { sys::app_readv(e.host, iov, n) })?;
        app::write_u32(aligned(nread, 4)?, r as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_pwrite(fd: u32, iovs: u32, n: u32, offset: u64, nwritten: u32) -> i32 {
    strict((|| {
        let iov = first_iov(iovs, n)?;
        let e = fds::get(fd)?;
        match e.kind() {
            Kind::File => {}
            Kind::Stdout | Kind::Stderr => return Err(crate::errno::ESPIPE),
            _ => return Err(EBADF),
        }
        let (iov, n) = iov.map_or((iovs, 0), |iov| (iov, 1));
        let w = check(unsafe { sys::app_pwritev(e.host, iov, n, offset as i64) })?;
        app::write_u32(aligned(nwritten, 4)?, w as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_pread(fd: u32, iovs: u32, n: u32, offset: u64, nread: u32) -> i32 {
    strict((|| {
        let iov = first_iov(iovs, n)?;
        let e = fds::get(fd)?;
        match e.kind() {
            Kind::File => {}
            Kind::Stdin => return Err(crate::errno::ESPIPE),
            _ => return Err(EBADF),
        }
        let (iov, n) = iov.map_or((iovs, 0), |iov| (iov, 1));
        let r = check(unsafe { sys::app_preadv(e.host, iov, n, offset as i64) })?;
        app::write_u32(aligned(nread, 4)?, r as u32)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_close(fd: u32) -> i32 {
    super::ret((|| {
        let e = fds::remove(fd)?;
        // Like wasmtime-wasi, a failing close still closes.
        let _ = fds::close_host(&e);
        Ok(())
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_renumber(from: u32, to: u32) -> i32 {
    super::ret(fds::renumber(from, to))
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_seek(fd: u32, offset: i64, whence: u32, newoffset: u32) -> i32 {
    strict((|| {
        // WASI whence: 0 set, 1 cur, 2 end (Linux's order too); another
        // value traps, as wasmtime-wasi's enum conversion does.
        if whence > 2 {
            core::arch::wasm32::unreachable()
        }
        let e = fds::seekable(fd)?;
        let pos = check(unsafe { sys::SYS_lseek(e.host, offset, whence as i32) })?;
        app::write_u64(aligned(newoffset, 8)?, pos as u64)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_tell(fd: u32, offset: u32) -> i32 {
    strict((|| {
        let e = fds::seekable(fd)?;
        let pos = check(unsafe { sys::SYS_lseek(e.host, 0, 1) })?;
        app::write_u64(aligned(offset, 8)?, pos as u64)
    })())
}

/// The rights wasmtime-wasi reports for a preopened directory.
const PREOPEN_BASE: u64 = rights::PATH_CREATE_DIRECTORY
    | rights::PATH_CREATE_FILE
    | rights::PATH_LINK_SOURCE
    | rights::PATH_LINK_TARGET
    | rights::PATH_OPEN
    | rights::FD_READDIR
    | rights::PATH_READLINK
    | rights::PATH_RENAME_SOURCE
    | rights::PATH_RENAME_TARGET
    | rights::PATH_SYMLINK
    | rights::PATH_REMOVE_DIRECTORY
    | rights::PATH_UNLINK_FILE
    | rights::PATH_FILESTAT_GET
    | rights::PATH_FILESTAT_SET_TIMES
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_TIMES;
const PREOPEN_INHERITING: u64 = PREOPEN_BASE | rights::FILE;

/// (filetype, flags, base rights, inheriting rights) as wasmtime-wasi's
/// fd_fdstat_get computes them.
fn fdstat(e: &Entry) -> WasiResult<(u8, u16, u64, u64)> {
    match e.kind() {
        Kind::Stdin => return Ok((e.filetype, 0, rights::FD_READ, rights::FD_READ)),
        Kind::Stdout | Kind::Stderr => return Ok((e.filetype, 0, rights::FD_WRITE, rights::FD_WRITE)),
        Kind::Dir if e.preopen.is_some() => return Ok((e.filetype, 0, PREOPEN_BASE, PREOPEN_INHERITING)),
        _ => {}
    }
    let fl = check(unsafe { sys::SYS_fcntl(e.host, F_GETFL, 0) })? as u32;
    let (read, write) = match fl & O_ACCMODE {
        O_WRONLY => (false, true),
        O_RDWR => (true, true),
        _ => (true, false),
    };
    let mut base = rights::ALL;
    let mut flags = 0;
    if e.kind() == Kind::Dir {
        // A directory's write mode is "mutate", never FD_WRITE.
        base &= !(rights::FD_SEEK | rights::FD_FILESTAT_SET_SIZE | rights::PATH_FILESTAT_SET_SIZE | rights::FD_WRITE);
    } else {
        if !write {
            base &= !rights::FD_WRITE;
        }
        if fl & O_APPEND != 0 {
            flags |= fdflags::APPEND;
        }
        if fl & O_NONBLOCK != 0 {
            flags |= fdflags::NONBLOCK;
        }
    }
    if !read {
        base &= !(rights::FD_READ | rights::FD_READDIR);
    }
    // The file's type now (wasmtime-wasi asks the file each time).
    let mut st = Statx::new();
    check(unsafe { sys::SYS_statx(e.host, c"".as_ptr().cast(), AT_EMPTY_PATH, STATX_BASIC_STATS, st.0.as_mut_ptr()) })?;
    Ok((st.filetype(), flags, base, base))
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_fdstat_get(fd: u32, out: u32) -> i32 {
    strict((|| {
        let (ft, flags, base, inheriting) = fdstat(&fds::get(fd)?)?;
        let mut b = [0u8; 24];
        b[0] = ft;
        b[2..4].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&base.to_le_bytes());
        b[16..24].copy_from_slice(&inheriting.to_le_bytes());
        app::write(aligned(out, 8)?, &b)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_fdstat_set_flags(fd: u32, flags: u32) -> i32 {
    super::ret((|| {
        known_bits(flags as u64, 0x1f);
        let e = fds::file(fd)?;
        // Only APPEND and NONBLOCK can change.
        if flags as u16 & (fdflags::DSYNC | fdflags::SYNC | fdflags::RSYNC) != 0 {
            return Err(EINVAL);
        }
        let mut fl = check(unsafe { sys::SYS_fcntl(e.host, F_GETFL, 0) })? as u32 & !(O_APPEND | O_NONBLOCK);
        if flags as u16 & fdflags::APPEND != 0 {
            fl |= O_APPEND;
        }
        if flags as u16 & fdflags::NONBLOCK != 0 {
            fl |= O_NONBLOCK;
        }
        check(unsafe { sys::SYS_fcntl(e.host, F_SETFL, fl as i64) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32 {
    super::ret((|| {
        known_bits(base | inheriting, rights::ALL);
        let e = fds::get(fd)?;
        if e.is_stdio() {
            return Err(EBADF);
        }
        Err(ENOTSUP)
    })())
}

/// The WASI filestat of an open host fd.
pub fn host_filestat(host: i32) -> WasiResult<[u8; 64]> {
    let mut st = Statx::new();
    let mask = STATX_BASIC_STATS | STATX_BTIME;
    check(unsafe { sys::SYS_statx(host, c"".as_ptr().cast(), AT_EMPTY_PATH, mask, st.0.as_mut_ptr()) })?;
    st.to_filestat()
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_filestat_get(fd: u32, out: u32) -> i32 {
    strict((|| {
        let e = fds::get(fd)?;
        let b = if e.is_stdio() { filestat(0, 0, e.filetype, 0, 0, [0; 3]) } else { host_filestat(e.host)? };
        app::write(aligned(out, 8)?, &b)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_filestat_set_size(fd: u32, size: u64) -> i32 {
    super::ret((|| {
        let e = fds::file(fd)?;
        // std's set_len refuses sizes beyond i64 itself.
        let size = i64::try_from(size).map_err(|_| EINVAL)?;
        check(unsafe { sys::SYS_ftruncate(e.host, size) }).map(drop)
    })())
}

/// The `timespec[2]` utimensat takes for WASI times and fst_flags.
pub fn timespecs(atim: u64, mtim: u64, flags: u32) -> WasiResult<[u8; 32]> {
    known_bits(flags as u64, 0xf);
    let flags = flags as u16;
    let one = |t: u64, set: u16, now: u16| -> WasiResult<(i64, i64)> {
        match (flags & set != 0, flags & now != 0) {
            (true, true) => Err(EINVAL),
            (true, false) => Ok(((t / 1_000_000_000) as i64, (t % 1_000_000_000) as i64)),
            (false, true) => Ok((0, UTIME_NOW)),
            (false, false) => Ok((0, UTIME_OMIT)),
        }
    };
    let (a, m) = (one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?, one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?);
    let mut b = [0u8; 32];
    for (i, (s, ns)) in [a, m].into_iter().enumerate() {
        b[16 * i..16 * i + 8].copy_from_slice(&s.to_le_bytes());
        b[16 * i + 8..16 * i + 16].copy_from_slice(&ns.to_le_bytes());
    }
    Ok(b)
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> i32 {
    super::ret((|| {
        let ts = timespecs(atim, mtim, flags)?;
        let e = fds::get(fd)?;
        if e.is_stdio() {
            return Err(EBADF);
        }
        check(unsafe { sys::SYS_utimensat(e.host, core::ptr::null(), ts.as_ptr(), 0) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> i32 {
    super::ret((|| {
        // WASI: normal, sequential, random, willneed, dontneed, noreuse;
        // Linux swaps sequential and random.
        let advice = match advice {
            0 => 0,
            1 => 2,
            2 => 1,
            3..=5 => advice as i32,
            _ => core::arch::wasm32::unreachable(),
        };
        let e = fds::file(fd)?;
        check(unsafe { sys::SYS_fadvise(e.host, offset as i64, len as i64, advice) }).map(drop)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_allocate(fd: u32, _offset: u64, _len: u64) -> i32 {
    // wasmtime-wasi supports no allocation, on files only.
    super::ret(fds::file(fd).and(Err(ENOTSUP)))
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_datasync(fd: u32) -> i32 {
    super::ret(fds::file(fd).and_then(|e| check(unsafe { sys::SYS_fdatasync(e.host) }).map(drop)))
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_sync(fd: u32) -> i32 {
    super::ret(fds::file(fd).and_then(|e| check(unsafe { sys::SYS_fsync(e.host) }).map(drop)))
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_prestat_get(fd: u32, out: u32) -> i32 {
    strict((|| {
        let (_, len) = fds::get(fd)?.preopen.ok_or(EBADF)?;
        let mut b = [0u8; 8];
        b[0] = 0; // directory
        b[4..8].copy_from_slice(&len.to_le_bytes());
        app::write(aligned(out, 4)?, &b)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_prestat_dir_name(fd: u32, path: u32, len: u32) -> i32 {
    strict((|| {
        // Not a preopen: ENOTDIR, as wasmtime-wasi (and its predecessor).
        let (off, n) = fds::get(fd)?.preopen.ok_or(ENOTDIR)?;
        if len < n {
            return Err(ENAMETOOLONG);
        }
        app::write(path, config::slice(off, n))
    })())
}

/// Linux `dirent64` names, read in full from a fresh descriptor of the
/// directory so every call starts at the beginning (cookies are indexes).
struct Entries {
    dir: Owned,
    buf: [u8; 4096],
    len: usize,
    at: usize,
}

impl Entries {
    fn open(host: i32) -> WasiResult<Entries> {
        let fd = resolve::open_beneath(host, &Path::from_bytes(b"."), O_DIRECTORY, 0)?;
        Ok(Entries { dir: Owned(fd), buf: [0; 4096], len: 0, at: 0 })
    }

    /// The next entry other than `.` and `..`: (name range in buf, d_type).
    fn next(&mut self) -> WasiResult<Option<(usize, usize, u8)>> {
        loop {
            if self.at >= self.len {
                let n = check(unsafe { sys::SYS_getdents64(self.dir.0, self.buf.as_mut_ptr(), 4096) })? as usize;
                if n == 0 {
                    return Ok(None);
                }
                (self.len, self.at) = (n, 0);
            }
            let rec = &self.buf[self.at..self.len];
            let reclen = u16::from_le_bytes([rec[16], rec[17]]) as usize;
            let dtype = rec[18];
            let name = &rec[19..reclen];
            let namelen = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            let start = self.at + 19;
            self.at += reclen.max(19);
            if &name[..namelen] != b"." && &name[..namelen] != b".." {
                return Ok(Some((start, start + namelen, dtype)));
            }
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, used: u32) -> i32 {
    strict((|| {
        let e = fds::dir(fd)?;
        let mut entries = Entries::open(e.host)?;
        let mut st = Statx::new();
        check(unsafe {
            sys::SYS_statx(e.host, c"".as_ptr().cast(), AT_EMPTY_PATH, STATX_BASIC_STATS, st.0.as_mut_ptr())
        })?;
        let dir_ino = crate::abi::metadata_hash(st.dev(), st.ino());
        let (mut at, mut cap) = (buf, buf_len);
        // Writes one dirent and its name, cut off where the buffer ends;
        // false once it is full.
        let mut put = |next: u64, ino: u64, ft: u8, name: &[u8]| -> WasiResult<bool> {
            let mut d = [0u8; 24];
            d[0..8].copy_from_slice(&next.to_le_bytes());
            d[8..16].copy_from_slice(&ino.to_le_bytes());
            d[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            d[20] = ft;
            for part in [&d[..], name] {
                let n = cap.min(part.len() as u32);
                app::write(at, &part[..n as usize])?;
                (at, cap) = (at + n, cap - n);
                if cap == 0 {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let mut index = 0u64;
        let mut more = true;
        for (name, next) in [(&b"."[..], 1u64), (&b".."[..], 2)] {
            if more && index >= cookie {
                more = put(next, dir_ino, crate::abi::filetype::DIRECTORY, name)?;
            }
            index += 1;
        }
        while more {
            let Some((s, end, _dtype)) = entries.next()? else { break };
            if index >= cookie {
                // Type and identity from lstat of the entry, as wasmtime-wasi.
                let mut name = [0u8; 257];
                name[..end - s].copy_from_slice(&entries.buf[s..end]);
                let mut st = Statx::new();
                let r = unsafe {
                    sys::SYS_statx(entries.dir.0, name.as_ptr(), 0x100, STATX_BASIC_STATS, st.0.as_mut_ptr())
                };
                check(r)?;
                let ino = crate::abi::metadata_hash(st.dev(), st.ino());
                more = put(index + 1, ino, st.filetype(), &name[..end - s])?;
            }
            index += 1;
        }
        app::write_u32(aligned(used, 4)?, buf_len - cap)
    })())
}
