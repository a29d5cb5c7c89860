//! Resolving application paths beneath a directory descriptor. The kernel
//! does the confinement: `openat2` with `RESOLVE_BENEATH` refuses `..`,
//! absolute paths and symlinks that leave the directory, and
//! `RESOLVE_NO_MAGICLINKS` refuses /proc magic links. Operations on a last
//! component (mkdir, unlink, rename...) first open its parent this way and
//! then act on one plain name, as wasmtime-wasi (cap-std) does.

use crate::app;
use crate::errno::{EILSEQ, EINVAL, ENAMETOOLONG, ENOENT, EPERM, WasiResult, check};
use crate::sys;

pub const PATH_MAX: usize = 4096;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_BENEATH: u64 = 0x08;
pub const O_PATH: i32 = 0o10000000;
pub const O_DIRECTORY: i32 = 0o200000;
pub const O_NOFOLLOW: i32 = 0o400000;
pub const O_CLOEXEC: i32 = 0o2000000;
const EXDEV: i64 = 18;
const EAGAIN: i64 = 11;

/// A NUL-terminated copy of an application path.
pub struct Path {
    buf: [u8; PATH_MAX],
    len: usize,
}

impl Path {
    /// Copies `len` bytes at application address `ptr`. WASI paths are
    /// strings: invalid UTF-8 is EILSEQ; an embedded NUL cannot reach the
    /// kernel (EINVAL, as rustix reports it).
    pub fn from_app(ptr: u32, len: u32) -> WasiResult<Path> {
        let len = len as usize;
        if len >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut p = Path { buf: [0; PATH_MAX], len };
        app::read(ptr, &mut p.buf[..len])?;
        if core::str::from_utf8(&p.buf[..len]).is_err() {
            return Err(EILSEQ);
        }
        if p.buf[..len].contains(&0) {
            return Err(EINVAL);
        }
        Ok(p)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn c(&self) -> *const u8 {
        self.buf.as_ptr()
    }

    pub fn from_bytes(b: &[u8]) -> Path {
        let len = b.len().min(PATH_MAX - 1);
        let mut p = Path { buf: [0; PATH_MAX], len };
        p.buf[..len].copy_from_slice(&b[..len]);
        p
    }

    pub fn has_trailing_slash(&self) -> bool {
        self.bytes().ends_with(b"/")
    }

    /// Without trailing slashes, unless that leaves `/` itself (cap-std's
    /// `strip_dir_suffix`: `foo/` must not become `foo/.`).
    pub fn strip_dir_suffix(&self) -> Path {
        let mut b = self.bytes();
        while b.len() > 1 && b.ends_with(b"/") {
            b = &b[..b.len() - 1];
        }
        Path::from_bytes(b)
    }

    /// The single normal component this path consists of, if it is one
    /// (Rust's `Path::components`: empty and interior `.` components are
    /// dropped, a leading `.` is kept).
    pub fn single_normal(&self) -> Option<&[u8]> {
        let b = self.bytes();
        if b.starts_with(b"/") || b == b"." || b.starts_with(b"./") {
            return None;
        }
        let mut parts = b.split(|&c| c == b'/').filter(|p| !p.is_empty() && *p != b".");
        match (parts.next(), parts.next()) {
            (Some(p), None) if p != b".." => Some(p),
            _ => None,
        }
    }
}

/// A host descriptor the shim opened for one operation; closed on drop.
pub struct Owned(pub i32);

impl Drop for Owned {
    fn drop(&mut self) {
        unsafe { sys::SYS_close(self.0) };
    }
}

/// `openat2(dir, path, flags, mode)` confined beneath `dir`. A path that
/// tries to leave is EPERM, as cap-std reports its "escape attempt".
pub fn open_beneath(dir: i32, path: &Path, flags: i32, mode: u32) -> WasiResult<i32> {
    // openat2 refuses a mode without O_CREAT.
    let mode = if flags & 0o100 != 0 { mode } else { 0 };
    let mut how = [0u8; 24];
    how[0..8].copy_from_slice(&((flags | O_CLOEXEC) as u32 as u64).to_le_bytes());
    how[8..16].copy_from_slice(&(mode as u64).to_le_bytes());
    how[16..24].copy_from_slice(&(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).to_le_bytes());
    let mut r = 0;
    // The kernel asks for a retry when a rename raced the lookup.
    for _ in 0..4 {
        r = unsafe { sys::SYS_openat2(dir, path.c(), how.as_ptr(), 24) };
        if r != -EAGAIN {
            break;
        }
    }
    if r == -EXDEV {
        return Err(EPERM);
    }
    check(r).map(|fd| fd as i32)
}

/// The directory a last component lives in: `dir` itself or one opened
/// beneath it (closed on drop).
pub struct Parent {
    pub fd: i32,
    _owned: Option<Owned>,
}

/// Splits `path` into its parent directory, opened beneath `dir`, and its
/// last component, exactly as cap-std's `open_parent`: a path ending in
/// `/`, `/.` or `..` names the directory itself (last component `.`), so
/// `..` can never step above `dir`.
pub fn parent(dir: i32, path: &Path) -> WasiResult<(Parent, Path)> {
    let b = path.bytes();
    if b.is_empty() {
        return Err(ENOENT);
    }
    let whole = b.ends_with(b"/") || b.ends_with(b"/.") || b == b".." || b.ends_with(b"/..");
    let (head, last): (&[u8], &[u8]) = if whole {
        (b, b".")
    } else {
        match b.iter().rposition(|&c| c == b'/') {
            Some(i) => {
                let head = &b[..i];
                // `/x` has the root as its parent, which is outside.
                (if head.iter().all(|&c| c == b'/') { &b"/"[..] } else { head }, &b[i + 1..])
            }
            None => (&b""[..], b),
        }
    };
    let parent = if head.is_empty() || head == b"." {
        Parent { fd: dir, _owned: None }
    } else {
        let fd = open_beneath(dir, &Path::from_bytes(head), O_PATH | O_DIRECTORY, 0)?;
        Parent { fd, _owned: Some(Owned(fd)) }
    };
    Ok((parent, Path::from_bytes(last)))
}
