//! The configuration the host hands over (arguments, environment,
//! preopened directories), and opening the preopens through WALI.

use crate::abi::{filetype, rights};
use crate::errno::{ENOMEM, WasiResult, check};
use crate::fds::{self, Entry};
use crate::sys;
use core::cell::UnsafeCell;

struct Config(UnsafeCell<&'static [u8]>);

// SAFETY: written once by `init` before the application runs.
unsafe impl Sync for Config {}

static CONFIG: Config = Config(UnsafeCell::new(&[]));

fn bytes() -> &'static [u8] {
    // SAFETY: see `Config`.
    unsafe { *CONFIG.0.get() }
}

/// Reads the configuration into fresh memory the shim grows for it.
fn load() -> WasiResult<&'static [u8]> {
    let len = unsafe { sys::config_len() } as usize;
    let pages = len.div_ceil(65536).max(1);
    let old = core::arch::wasm32::memory_grow(0, pages);
    if old == usize::MAX {
        return Err(ENOMEM);
    }
    let ptr = (old * 65536) as *mut u8;
    unsafe { sys::config_copy(ptr) };
    // SAFETY: the pages were just grown for this buffer and are never freed.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// The NUL-separated fields of the configuration, with their offsets.
fn fields() -> impl Iterator<Item = (u32, &'static [u8])> {
    let b = bytes();
    let mut off = 0usize;
    core::iter::from_fn(move || {
        if off >= b.len() {
            return None;
        }
        let end = off + b[off..].iter().position(|&c| c == 0)?;
        let item = (off as u32, &b[off..end]);
        off = end + 1;
        Some(item)
    })
}

fn count(field: &[u8]) -> usize {
    field.iter().fold(0, |n, d| n * 10 + (d - b'0') as usize)
}

/// The three sections: (args, env, preopen pairs) as field lists.
pub struct Sections {
    pub args: (usize, usize),
    pub env: (usize, usize),
    pub preopens: (usize, usize),
}

fn sections() -> Sections {
    let mut f = fields();
    let argc = f.next().map_or(0, |(_, c)| count(c));
    let env_at = 1 + argc;
    let envc = fields().nth(env_at).map_or(0, |(_, c)| count(c));
    let pre_at = env_at + 1 + envc;
    let prec = fields().nth(pre_at).map_or(0, |(_, c)| count(c));
    Sections { args: (1, argc), env: (env_at + 1, envc), preopens: (pre_at + 1, prec * 2) }
}

/// The fields of a section (start index, count).
pub fn section(which: fn(&Sections) -> (usize, usize)) -> impl Iterator<Item = (u32, &'static [u8])> {
    let (start, n) = which(&sections());
    fields().skip(start).take(n)
}

/// Bytes of the configuration at `(offset, len)`.
pub fn slice(off: u32, len: u32) -> &'static [u8] {
    &bytes()[off as usize..(off + len) as usize]
}

#[link(wasm_import_module = "wali")]
unsafe extern "C" {
    fn SYS_ioctl(fd: i32, request: i32, arg: *mut u8) -> i64;
}

/// TCGETS succeeds only on a terminal.
fn isatty(fd: i32) -> bool {
    let mut termios = [0u8; 64];
    unsafe { SYS_ioctl(fd, 0x5401, termios.as_mut_ptr()) == 0 }
}

const O_RDONLY_DIRECTORY_CLOEXEC: i32 = 0o200000 | 0o2000000;

pub fn init() -> WasiResult {
    let loaded = load()?;
    // SAFETY: before the application runs, nothing else reads CONFIG.
    unsafe { *CONFIG.0.get() = loaded };
    // Standard streams as wasmtime-wasi presents them: stdin may only be
    // read and stdout/stderr only written, and a stream is a character
    // device exactly when it is a terminal.
    for fd in 0..3 {
        let right = if fd == 0 { rights::FD_READ } else { rights::FD_WRITE };
        fds::set(
            fd,
            Entry {
                host: fd as i32,
                filetype: if isatty(fd as i32) { filetype::CHARACTER_DEVICE } else { filetype::UNKNOWN },
                rights_base: right,
                rights_inheriting: right,
                preopen: None,
            },
        );
    }
    let mut pairs = section(|s| s.preopens);
    while let (Some((name_off, name)), Some((_, host))) = (pairs.next(), pairs.next()) {
        let mut path = [0u8; 4096];
        let n = host.len().min(path.len() - 1);
        path[..n].copy_from_slice(&host[..n]);
        let fd = check(unsafe { sys::SYS_openat(-100, path.as_ptr(), O_RDONLY_DIRECTORY_CLOEXEC, 0) })? as i32;
        fds::insert(Entry {
            host: fd,
            filetype: filetype::DIRECTORY,
            rights_base: rights::DIRECTORY,
            rights_inheriting: rights::ALL,
            preopen: Some((name_off, name.len() as u32)),
        })?;
    }
    Ok(())
}
