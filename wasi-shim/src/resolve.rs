//! Resolving application paths beneath a directory descriptor. The kernel
//! does the confinement: `openat2` with `RESOLVE_BENEATH` refuses `..`,
//! absolute paths and symlinks that leave the directory, and
//! `RESOLVE_NO_MAGICLINKS` refuses /proc magic links.

use crate::app;
use crate::errno::{EINVAL, ENAMETOOLONG, ENOTCAPABLE, WasiResult, check, from_linux};
use crate::sys;

pub const PATH_MAX: usize = 4096;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_BENEATH: u64 = 0x08;
pub const O_PATH: i32 = 0o10000000;
pub const O_DIRECTORY: i32 = 0o200000;
pub const O_NOFOLLOW: i32 = 0o400000;
pub const O_CLOEXEC: i32 = 0o2000000;
const EXDEV: i64 = 18;

/// A NUL-terminated copy of an application path.
pub struct Path {
    buf: [u8; PATH_MAX],
    len: usize,
}

impl Path {
    /// Copies `len` bytes at application address `ptr`.
    pub fn from_app(ptr: u32, len: u32) -> WasiResult<Path> {
        let len = len as usize;
        if len >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut p = Path { buf: [0; PATH_MAX], len };
        app::read(ptr, &mut p.buf[..len])?;
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

    fn from_bytes(b: &[u8]) -> Path {
        let mut p = Path { buf: [0; PATH_MAX], len: b.len() };
        p.buf[..b.len()].copy_from_slice(b);
        p
    }
}

/// A host descriptor the shim opened for one operation; closed on drop.
pub struct Owned(pub i32);

impl Drop for Owned {
    fn drop(&mut self) {
        unsafe { sys::SYS_close(self.0) };
    }
}

/// `openat2(dir, path, flags, mode)` confined beneath `dir`.
pub fn open_beneath(dir: i32, path: &Path, flags: i32, mode: u32) -> WasiResult<i32> {
    let mut how = [0u8; 24];
    how[0..8].copy_from_slice(&((flags | O_CLOEXEC) as u32 as u64).to_le_bytes());
    how[8..16].copy_from_slice(&(mode as u64).to_le_bytes());
    how[16..24].copy_from_slice(&(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).to_le_bytes());
    let r = unsafe { sys::SYS_openat2(dir, path.c(), how.as_ptr(), 24) };
    if r == -EXDEV {
        // The path tried to leave the directory it is relative to.
        return Err(ENOTCAPABLE);
    }
    check(r).map(|fd| fd as i32)
}

/// Splits `path` into its parent directory, opened beneath `dir`, and its
/// last component. A last component of `.` or `..` resolves the whole path
/// instead, so `..` can never step above `dir`.
pub fn parent(dir: i32, path: &Path) -> WasiResult<(Owned, Path)> {
    let bytes = path.bytes();
    if bytes.is_empty() {
        return Err(from_linux(2));
    }
    let trimmed = match bytes.iter().rposition(|&b| b != b'/') {
        Some(end) => &bytes[..=end],
        None => return Err(ENOTCAPABLE),
    };
    let (head, last) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => (&bytes[..i.max(1)], &trimmed[i + 1..]),
        None => (&b"."[..], trimmed),
    };
    let (head, last): (&[u8], &[u8]) = if last == b"." || last == b".." { (trimmed, b".") } else { (head, last) };
    let parent = open_beneath(dir, &Path::from_bytes(head), O_PATH | O_DIRECTORY, 0)?;
    // A trailing slash keeps its meaning: the entry must be a directory.
    let mut name = Path::from_bytes(last);
    if trimmed.len() < bytes.len() && name.len + 1 < PATH_MAX {
        name.buf[name.len] = b'/';
        name.len += 1;
    }
    Ok((Owned(parent), name))
}
