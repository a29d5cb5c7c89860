#[allow(dead_code)]
pub mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn path_open(
            fd: u32,
            dirflags: u32,
            path: *const u8,
            len: usize,
            oflags: u32,
            base: u64,
            inh: u64,
            fdflags: u32,
            out: *mut u32,
        ) -> u16;
        pub fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, used: *mut usize) -> u16;
        pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
        pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
        pub fn fd_fdstat_set_rights(fd: u32, base: u64, inh: u64) -> u16;
        pub fn fd_filestat_get(fd: u32, out: *mut u8) -> u16;
        pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> u16;
        pub fn fd_filestat_set_size(fd: u32, size: u64) -> u16;
        pub fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: usize, out: *mut u8) -> u16;
        pub fn path_filestat_set_times(
            fd: u32,
            flags: u32,
            path: *const u8,
            len: usize,
            atim: u64,
            mtim: u64,
            fst: u32,
        ) -> u16;
        pub fn fd_advise(fd: u32, off: u64, len: u64, advice: u32) -> u16;
        pub fn fd_allocate(fd: u32, off: u64, len: u64) -> u16;
        pub fn fd_datasync(fd: u32) -> u16;
        pub fn fd_sync(fd: u32) -> u16;
        pub fn fd_renumber(from: u32, to: u32) -> u16;
        pub fn fd_close(fd: u32) -> u16;
        pub fn fd_seek(fd: u32, off: i64, whence: u32, out: *mut u64) -> u16;
        pub fn fd_tell(fd: u32, out: *mut u64) -> u16;
        pub fn fd_read(fd: u32, iovs: *const [usize; 2], n: usize, out: *mut usize) -> u16;
        pub fn fd_write(fd: u32, iovs: *const [usize; 2], n: usize, out: *mut usize) -> u16;
        pub fn fd_pread(fd: u32, iovs: *const [usize; 2], n: usize, off: u64, out: *mut usize) -> u16;
        pub fn fd_pwrite(fd: u32, iovs: *const [usize; 2], n: usize, off: u64, out: *mut usize) -> u16;
        pub fn fd_prestat_get(fd: u32, out: *mut u32) -> u16;
        pub fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: usize) -> u16;
        pub fn path_create_directory(fd: u32, path: *const u8, len: usize) -> u16;
        pub fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> u16;
        pub fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> u16;
        pub fn path_symlink(old: *const u8, olen: usize, fd: u32, new: *const u8, nlen: usize) -> u16;
        pub fn path_readlink(fd: u32, path: *const u8, len: usize, buf: *mut u8, blen: usize, used: *mut usize) -> u16;
        pub fn path_link(
            ofd: u32,
            flags: u32,
            old: *const u8,
            olen: usize,
            nfd: u32,
            new: *const u8,
            nlen: usize,
        ) -> u16;
        pub fn path_rename(ofd: u32, old: *const u8, olen: usize, nfd: u32, new: *const u8, nlen: usize) -> u16;
    }
}

/// The preopened directory (`--dir HOST::/`).
#[allow(dead_code)]
pub const DIR: u32 = 3;

pub const ERRNO: [&str; 77] = [
    "SUCCESS",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE",
];

#[allow(dead_code)]
pub fn errname(e: u16) -> &'static str {
    ERRNO.get(e as usize).copied().unwrap_or("E?")
}

/// `ok` or the WASI errno name of an io::Error (std's raw_os_error is the
/// WASI errno on wasip1).
#[allow(dead_code)]
pub fn show<T>(r: std::io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.raw_os_error().map_or_else(|| format!("{:?}", e.kind()), |n| errname(n as u16).into()),
    }
}

#[allow(dead_code)]
pub fn check(what: &str, r: std::io::Result<impl std::fmt::Debug>) {
    match r {
        Ok(v) => println!("{what} = {v:?}"),
        Err(_) => println!("{what} = {}", show(r.map(drop))),
    }
}

/// A raw WASI result.
#[allow(dead_code)]
pub fn raw_ret(what: &str, e: u16) {
    println!("{what} = {}", errname(e));
}

#[allow(dead_code)]
pub fn open_raw(dir: u32, path: &str, dirflags: u32, oflags: u32, base: u64, fdflags: u32) -> Result<u32, u16> {
    let mut fd = 0;
    match unsafe { raw::path_open(dir, dirflags, path.as_ptr(), path.len(), oflags, base, base, fdflags, &mut fd) } {
        0 => Ok(fd),
        e => Err(e),
    }
}

#[allow(dead_code)]
pub fn show_raw<T: std::fmt::Debug>(r: Result<T, u16>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => errname(e).into(),
    }
}

/// (filetype, flags, rights base, rights inheriting) of `fd`.
#[allow(dead_code)]
pub fn fdstat(fd: u32) -> Result<(u8, u16, u64, u64), u16> {
    let mut b = [0u8; 24];
    match unsafe { raw::fd_fdstat_get(fd, b.as_mut_ptr()) } {
        0 => Ok((
            b[0],
            u16::from_le_bytes([b[2], b[3]]),
            u64::from_le_bytes(b[8..16].try_into().unwrap()),
            u64::from_le_bytes(b[16..24].try_into().unwrap()),
        )),
        e => Err(e),
    }
}

/// A WASI filestat: (filetype, nlink, size, atim, mtim).
#[allow(dead_code)]
pub fn filestat_of(b: &[u8; 64]) -> (u8, u64, u64, u64, u64) {
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    (b[16], u(24), u(32), u(40), u(48))
}

#[allow(dead_code)]
pub fn path_stat(dir: u32, follow: bool, path: &str) -> Result<(u8, u64, u64, u64, u64), u16> {
    let mut b = [0u8; 64];
    match unsafe { raw::path_filestat_get(dir, follow as u32, path.as_ptr(), path.len(), b.as_mut_ptr()) } {
        0 => Ok(filestat_of(&b)),
        e => Err(e),
    }
}

#[allow(dead_code)]
pub fn fd_stat(fd: u32) -> Result<(u8, u64, u64, u64, u64), u16> {
    let mut b = [0u8; 64];
    match unsafe { raw::fd_filestat_get(fd, b.as_mut_ptr()) } {
        0 => Ok(filestat_of(&b)),
        e => Err(e),
    }
}

#[allow(dead_code)]
pub fn p(path: &str) -> (*const u8, usize) {
    (path.as_ptr(), path.len())
}
