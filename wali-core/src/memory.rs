//! Guest linear memory as the host sees it: bounds-checked translation of
//! Wasm addresses to host pointers, and the one place where guest bytes are
//! copied in or out.

use crate::errno::{Errno, SysResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::SharedMemory;

/// Wasm page size in bytes.
pub const WASM_PAGE: u64 = 65536;

/// The memory a guest runs on. The module rewrite makes it an imported
/// shared memory, so the host owns it, it never moves, and thread
/// instances can share it.
#[derive(Clone)]
pub struct LinearMemory {
    memory: SharedMemory,
    /// Set once a file is mapped into the memory: from then on a page may
    /// lie past the end of a truncated file, and a plain host copy from it
    /// would raise SIGBUS, so copies go through the kernel instead.
    file_mapped: Arc<AtomicBool>,
    /// Whether address 0 is C's NULL (see [`MemView::ptr`]).
    zero_is_null: bool,
}

impl LinearMemory {
    /// A memory whose address 0 is NULL, as C code compiled for WALI (and
    /// the WASI shim) uses it.
    pub fn new(memory: SharedMemory) -> Self {
        LinearMemory { memory, file_mapped: Arc::default(), zero_is_null: true }
    }

    /// A WASI application's memory: WASI has no NULL pointers (address 0
    /// is as valid as any other, as wasmtime-wasi treats it), and the shim
    /// passes none into it.
    pub fn without_null(memory: SharedMemory) -> Self {
        LinearMemory { zero_is_null: false, ..LinearMemory::new(memory) }
    }

    /// A snapshot of the memory's base and length. The base never moves;
    /// the length only grows.
    pub fn view(&self) -> MemView {
        let data = self.memory.data();
        MemView {
            base: data.as_ptr() as *mut u8,
            len: data.len() as u64,
            fragile: self.file_mapped.load(Ordering::Relaxed),
            zero_is_null: self.zero_is_null,
        }
    }

    /// Grows by `pages` Wasm pages and returns the old size in bytes.
    pub fn grow(&self, pages: u64) -> Option<u64> {
        Some(self.memory.grow(pages).ok()? * WASM_PAGE)
    }

    /// Notes that a file is mapped into this memory.
    pub fn mark_file_mapped(&self) {
        self.file_mapped.store(true, Ordering::Relaxed);
    }
}

/// Base and length of linear memory, valid for the duration of one host call.
#[derive(Clone, Copy, Debug)]
pub struct MemView {
    base: *mut u8,
    len: u64,
    /// Files are mapped in: copy through the kernel (see [`LinearMemory`]).
    fragile: bool,
    zero_is_null: bool,
}

impl MemView {
    /// No memory at all: every non-NULL range is `EFAULT`.
    pub const NONE: MemView = MemView { base: std::ptr::null_mut(), len: 0, fragile: false, zero_is_null: true };

    /// Current size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Host address of guest range `[addr, addr + len)`, which must lie
    /// entirely inside linear memory. Address 0 is NULL, unless this is a
    /// WASI application's memory ([`LinearMemory::without_null`]).
    pub fn ptr(&self, addr: u32, len: u64) -> SysResult<*mut u8> {
        if addr == 0 && self.zero_is_null {
            return Ok(std::ptr::null_mut());
        }
        self.range(addr, len)
    }

    /// Like [`MemView::ptr`], but NULL is an error too.
    pub fn range(&self, addr: u32, len: u64) -> SysResult<*mut u8> {
        if addr == 0 && len > 0 && self.zero_is_null {
            return Err(Errno::EFAULT);
        }
        match (addr as u64).checked_add(len) {
            Some(end) if end <= self.len => Ok(unsafe { self.base.add(addr as usize) }),
            _ => Err(Errno::EFAULT),
        }
    }

    /// Host address of guest address `addr` inside memory, for mappings.
    pub fn host_addr(&self, addr: u64) -> *mut u8 {
        debug_assert!(addr <= self.len);
        unsafe { self.base.add(addr as usize) }
    }

    /// Copies guest bytes into `out`.
    pub fn read_into(&self, addr: u32, out: &mut [u8]) -> SysResult<()> {
        let p = self.range(addr, out.len() as u64)?;
        if self.fragile {
            return kernel_copy(out.as_mut_ptr(), p, out.len(), libc::SYS_process_vm_readv);
        }
        // SAFETY: bounds checked above; guest memory may change concurrently
        // (shared memory), which a byte copy tolerates.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    pub fn write(&self, addr: u32, bytes: &[u8]) -> SysResult<()> {
        let p = self.range(addr, bytes.len() as u64)?;
        if self.fragile {
            return kernel_copy(bytes.as_ptr() as *mut u8, p, bytes.len(), libc::SYS_process_vm_writev);
        }
        // SAFETY: as in `read_into`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        Ok(())
    }

    /// Copies `len` bytes at `src` here to `dst` in another memory `to`.
    pub fn copy_to(&self, src: u32, to: &MemView, dst: u32, len: u32) -> SysResult<()> {
        let (from, out) = (self.range(src, len as u64)?, to.range(dst, len as u64)?);
        if self.fragile || to.fragile {
            // Through a buffer, so each side takes its kernel-checked path.
            let mut buf = vec![0; len as usize];
            self.read_into(src, &mut buf)?;
            return to.write(dst, &buf);
        }
        // SAFETY: both ranges were checked and lie in two different
        // memories; guest memory may change concurrently, which a byte copy
        // tolerates (as in `read_into`).
        unsafe { std::ptr::copy_nonoverlapping(from, out, len as usize) };
        Ok(())
    }

    pub fn read_u32(&self, addr: u32) -> SysResult<u32> {
        let mut b = [0; 4];
        self.read_into(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    pub fn read_u64(&self, addr: u32) -> SysResult<u64> {
        let mut b = [0; 8];
        self.read_into(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    pub fn write_u32(&self, addr: u32, v: u32) -> SysResult<()> {
        self.write(addr, &v.to_le_bytes())
    }

    pub fn write_u64(&self, addr: u32, v: u64) -> SysResult<()> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Appends the NUL-terminated string at `addr` (with its NUL) to `out`.
    /// A string longer than `max` (without NUL) is `ENAMETOOLONG`; one that
    /// runs off the end of memory is `EFAULT`.
    pub fn read_cstr(&self, addr: u32, max: usize, out: &mut Vec<u8>) -> SysResult<()> {
        if addr == 0 || addr as u64 >= self.len {
            return Err(Errno::EFAULT);
        }
        let avail = (self.len - addr as u64) as usize;
        let limit = avail.min(max + 1);
        if self.fragile {
            // Through the kernel, a page at a time (a fault is EFAULT).
            let mut page = [0u8; 4096];
            let mut done = 0;
            while done < limit {
                let n = (limit - done).min(page.len() - (addr as usize + done) % page.len());
                self.read_into(addr + done as u32, &mut page[..n])?;
                if let Some(end) = page[..n].iter().position(|&b| b == 0) {
                    out.extend_from_slice(&page[..=end]);
                    return Ok(());
                }
                out.extend_from_slice(&page[..n]);
                done += n;
            }
            return Err(if limit == avail && avail <= max { Errno::EFAULT } else { Errno::ENAMETOOLONG });
        }
        let p = unsafe { self.base.add(addr as usize) };
        for i in 0..limit {
            // SAFETY: i < avail keeps the read inside memory.
            let b = unsafe { p.add(i).read_volatile() };
            out.push(b);
            if b == 0 {
                return Ok(());
            }
        }
        Err(if limit == avail && avail <= max { Errno::EFAULT } else { Errno::ENAMETOOLONG })
    }
}

/// Copies `len` bytes between `local` (host) and `remote` (guest memory) of
/// this very process with process_vm_readv/writev: a page that cannot be
/// read or written (past the end of a truncated file) is EFAULT, not SIGBUS.
fn kernel_copy(local: *mut u8, remote: *mut u8, len: usize, nr: libc::c_long) -> SysResult<()> {
    if len == 0 {
        return Ok(());
    }
    let l = libc::iovec { iov_base: local.cast(), iov_len: len };
    let r = libc::iovec { iov_base: remote.cast(), iov_len: len };
    // SAFETY: both ranges are inside memory this process owns; the kernel
    // checks every page.
    let (pid, one, flags) = (unsafe { libc::getpid() } as libc::c_long, 1 as libc::c_ulong, 0 as libc::c_ulong);
    let n = unsafe { libc::syscall(nr, pid, &l as *const libc::iovec, one, &r as *const libc::iovec, one, flags) };
    if n == len as i64 { Ok(()) } else { Err(Errno::EFAULT) }
}
