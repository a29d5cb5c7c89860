//! The shim's imports: WALI syscalls on its own memory (`wali`), the same
//! on the application's memory (`wali_app`), the bridge and configuration.

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    pub fn SYS_openat2(dirfd: i32, path: *const u8, how: *const u8, size: u32) -> i64;
    pub fn SYS_openat(dirfd: i32, path: *const u8, flags: i32, mode: u32) -> i64;
    pub fn SYS_close(fd: i32) -> i64;
    pub fn SYS_fstat(fd: i32, st: *mut u8) -> i64;
    pub fn SYS_statx(dirfd: i32, path: *const u8, flags: i32, mask: u32, buf: *mut u8) -> i64;
    pub fn SYS_lseek(fd: i32, off: i64, whence: i32) -> i64;
    pub fn SYS_fcntl(fd: i32, cmd: i32, arg: i64) -> i64;
    pub fn SYS_fsync(fd: i32) -> i64;
    pub fn SYS_fdatasync(fd: i32) -> i64;
    pub fn SYS_ftruncate(fd: i32, len: i64) -> i64;
    pub fn SYS_fadvise(fd: i32, off: i64, len: i64, advice: i32) -> i64;
    pub fn SYS_utimensat(dirfd: i32, path: *const u8, times: *const u8, flags: i32) -> i64;
    pub fn SYS_getdents64(fd: i32, buf: *mut u8, len: u32) -> i64;
    pub fn SYS_mkdirat(dirfd: i32, path: *const u8, mode: u32) -> i64;
    pub fn SYS_unlinkat(dirfd: i32, path: *const u8, flags: i32) -> i64;
    pub fn SYS_renameat2(olddir: i32, old: *const u8, newdir: i32, new: *const u8, flags: u32) -> i64;
    pub fn SYS_linkat(olddir: i32, old: *const u8, newdir: i32, new: *const u8, flags: i32) -> i64;
    pub fn SYS_symlinkat(target: *const u8, dirfd: i32, path: *const u8) -> i64;
    pub fn SYS_readlinkat(dirfd: i32, path: *const u8, buf: *mut u8, len: u32) -> i64;
    pub fn SYS_clock_gettime(clock: i32, ts: *mut u8) -> i64;
    pub fn SYS_clock_getres(clock: i32, ts: *mut u8) -> i64;
    pub fn SYS_sched_yield() -> i64;
    pub fn SYS_exit_group(status: i32) -> i64;
    pub fn SYS_ppoll(fds: *mut u8, nfds: i64, ts: *const u8, mask: *const u8, size: u32) -> i64;
    pub fn SYS_accept4(fd: i32, addr: *mut u8, len: *mut u32, flags: i32) -> i64;
    pub fn SYS_shutdown(fd: i32, how: i32) -> i64;
}

#[link(wasm_import_module = "wali_app")]
unsafe extern "C" {
    /// readv/writev with the application's own iovec array (WASI's iovec is
    /// WALI's: `{u32 buf, u32 len}`).
    #[link_name = "SYS_readv"]
    pub fn app_readv(fd: i32, iovs: u32, n: i32) -> i64;
    #[link_name = "SYS_writev"]
    pub fn app_writev(fd: i32, iovs: u32, n: i32) -> i64;
    #[link_name = "SYS_preadv"]
    pub fn app_preadv(fd: i32, iovs: u32, n: i32, off: i64) -> i64;
    #[link_name = "SYS_pwritev"]
    pub fn app_pwritev(fd: i32, iovs: u32, n: i32, off: i64) -> i64;
    #[link_name = "SYS_getrandom"]
    pub fn app_getrandom(buf: u32, len: u32, flags: u32) -> i64;
}

#[link(wasm_import_module = "waligate_bridge")]
unsafe extern "C" {
    /// Application -> shim; 0, or 21 (EFAULT) if a range is outside.
    pub fn copy_in(dst: *mut u8, src: u32, len: u32) -> i32;
    /// Shim -> application.
    pub fn copy_out(dst: u32, src: *const u8, len: u32) -> i32;
}

#[link(wasm_import_module = "waligate")]
unsafe extern "C" {
    pub fn config_len() -> i32;
    pub fn config_copy(dst: *mut u8) -> i32;
}
