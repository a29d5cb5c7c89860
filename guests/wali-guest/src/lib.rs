//! Support for WALI guests written in `no_std` Rust: the `wali` imports
//! (generated from the spec table), `_start` with argv and environment,
//! printing, an allocator over `SYS_mmap`, and errno names for output.

#![no_std]
#![allow(non_snake_case, clippy::missing_safety_doc)]

extern crate alloc;

pub use alloc::{borrow::ToOwned, format, string::String, vec, vec::Vec};
use core::fmt;

/// The raw `wali` imports: `sys::SYS_read(fd, buf, len)` and so on.
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/imports.rs"));

    #[link(wasm_import_module = "wali")]
    unsafe extern "C" {
        pub fn __init() -> i32;
        pub fn __deinit() -> i32;
        pub fn __proc_exit(status: i32);
        pub fn __cl_get_argc() -> i32;
        pub fn __cl_get_argv_len(i: i32) -> i32;
        pub fn __cl_copy_argv(buf: i32, i: i32) -> i32;
        pub fn __get_init_envfile(buf: i32, size: i32) -> i32;
        pub fn __wasm_thread_spawn(f: i32, arg: i32) -> i32;
    }
}

/// A Wasm pointer as the i32 the imports take.
pub fn ptr<T: ?Sized>(p: *const T) -> i32 {
    p as *const u8 as usize as i32
}

/// Defines `_start` around `fn main() -> i32`, following the WALI startup
/// order: `__init`, main, `__deinit` on success, `__proc_exit(status)`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn _start() {
            unsafe { $crate::sys::__init() };
            let status: i32 = $main();
            if status == 0 {
                unsafe { $crate::sys::__deinit() };
            }
            $crate::exit(status)
        }
    };
}

pub fn exit(status: i32) -> ! {
    unsafe { sys::__proc_exit(status) };
    core::arch::wasm32::unreachable()
}

/// The guest's argv, argv[0] first.
pub fn args() -> Vec<String> {
    let argc = unsafe { sys::__cl_get_argc() };
    (0..argc)
        .map(|i| {
            let len = unsafe { sys::__cl_get_argv_len(i) } as usize;
            let mut buf = vec![0u8; len + 1];
            unsafe { sys::__cl_copy_argv(ptr(buf.as_mut_ptr()), i) };
            buf.pop();
            String::from_utf8(buf).unwrap_or_default()
        })
        .collect()
}

/// The `KEY=VALUE` lines of the environment file the host hands over.
pub fn env() -> Vec<String> {
    let mut path = [0u8; 512];
    if unsafe { sys::__get_init_envfile(ptr(path.as_mut_ptr()), path.len() as i32) } != 1 {
        return Vec::new();
    }
    let fd = unsafe { sys::SYS_open(ptr(path.as_ptr()), 0, 0) };
    if fd < 0 {
        return Vec::new();
    }
    let text = read_all(fd as i32);
    unsafe { sys::SYS_close(fd as i32) };
    String::from_utf8(text).unwrap_or_default().lines().map(ToOwned::to_owned).collect()
}

/// Reads `fd` to its end.
pub fn read_all(fd: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = unsafe { sys::SYS_read(fd, ptr(buf.as_mut_ptr()), buf.len() as i32) };
        if n <= 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
}

/// Writes all of `bytes` to `fd`.
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = unsafe { sys::SYS_write(fd, ptr(bytes.as_ptr()), bytes.len() as i32) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

pub struct Fd(pub i32);

impl fmt::Write for Fd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_all(self.0, s.as_bytes());
        Ok(())
    }
}

#[macro_export]
macro_rules! print {
    ($($t:tt)*) => { $crate::write_all(1, $crate::format!($($t)*).as_bytes()) };
}

#[macro_export]
macro_rules! println {
    ($($t:tt)*) => { $crate::write_all(1, $crate::format!("{}\n", $crate::format!($($t)*)).as_bytes()) };
}

/// A NUL-terminated copy of `s` for path arguments.
pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// A syscall result as tests print it: the value, or `-ENAME`.
pub fn show(ret: i64) -> String {
    if (-4095..0).contains(&ret) { format!("-{}", errno_name(-ret as i32)) } else { format!("{ret}") }
}

pub fn errno_name(e: i32) -> &'static str {
    const NAMES: &[(i32, &str)] = &[
        (1, "EPERM"),
        (2, "ENOENT"),
        (3, "ESRCH"),
        (4, "EINTR"),
        (5, "EIO"),
        (9, "EBADF"),
        (10, "ECHILD"),
        (11, "EAGAIN"),
        (12, "ENOMEM"),
        (13, "EACCES"),
        (14, "EFAULT"),
        (17, "EEXIST"),
        (18, "EXDEV"),
        (20, "ENOTDIR"),
        (21, "EISDIR"),
        (22, "EINVAL"),
        (24, "EMFILE"),
        (25, "ENOTTY"),
        (28, "ENOSPC"),
        (29, "ESPIPE"),
        (32, "EPIPE"),
        (30, "EROFS"),
        (34, "ERANGE"),
        (36, "ENAMETOOLONG"),
        (38, "ENOSYS"),
        (39, "ENOTEMPTY"),
        (40, "ELOOP"),
        (88, "ENOTSOCK"),
        (95, "EOPNOTSUPP"),
        (97, "EAFNOSUPPORT"),
        (98, "EADDRINUSE"),
        (104, "ECONNRESET"),
        (107, "ENOTCONN"),
        (110, "ETIMEDOUT"),
        (111, "ECONNREFUSED"),
        (115, "EINPROGRESS"),
        (7, "E2BIG"),
        (19, "ENODEV"),
        (27, "EFBIG"),
    ];
    NAMES.iter().find(|(n, _)| *n == e).map_or("E?", |(_, s)| s)
}

mod alloc_impl {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::Cell;

    /// A bump allocator over 1 MiB `SYS_mmap` chunks; test guests are
    /// short-lived, so freed memory is not reused.
    struct Bump {
        next: Cell<usize>,
        end: Cell<usize>,
    }

    // SAFETY: guests using this crate are single-threaded.
    unsafe impl Sync for Bump {}

    const CHUNK: usize = 1 << 20;

    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let start = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
            if start + layout.size() <= self.end.get() && self.end.get() != 0 {
                self.next.set(start + layout.size());
                return start as *mut u8;
            }
            let len = (layout.size() + layout.align()).max(CHUNK);
            // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
            let p = unsafe { super::sys::SYS_mmap(0, len as i32, 3, 0x22, -1, 0) };
            if p < 0 {
                return core::ptr::null_mut();
            }
            let base = p as usize;
            let start = (base + layout.align() - 1) & !(layout.align() - 1);
            self.next.set(start + layout.size());
            self.end.set(base + len);
            start as *mut u8
        }

        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    #[global_allocator]
    static ALLOC: Bump = Bump { next: Cell::new(0), end: Cell::new(0) };

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        super::write_all(2, super::format!("guest panicked: {info}\n").as_bytes());
        super::exit(101)
    }
}
