//! Guest linear memory as the host sees it: bounds-checked translation of
//! Wasm addresses to host pointers, and the one place where guest bytes are
//! copied in or out.

use crate::errno::{Errno, SysResult};
use wasmtime::SharedMemory;

/// Wasm page size in bytes.
pub const WASM_PAGE: u64 = 65536;

/// The memory a guest runs on. The module rewrite makes it an imported
/// shared memory, so the host owns it, it never moves, and thread
/// instances can share it.
#[derive(Clone)]
pub struct LinearMemory(pub SharedMemory);

impl LinearMemory {
    /// A snapshot of the memory's base and length. The base never moves;
    /// the length only grows.
    pub fn view(&self) -> MemView {
        let data = self.0.data();
        MemView { base: data.as_ptr() as *mut u8, len: data.len() as u64 }
    }

    /// Grows by `pages` Wasm pages and returns the old size in bytes.
    pub fn grow(&self, pages: u64) -> Option<u64> {
        Some(self.0.grow(pages).ok()? * WASM_PAGE)
    }
}

/// Base and length of linear memory, valid for the duration of one host call.
#[derive(Clone, Copy, Debug)]
pub struct MemView {
    base: *mut u8,
    len: u64,
}

impl MemView {
    /// Current size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Host address of guest range `[addr, addr + len)`, which must lie
    /// entirely inside linear memory. Address 0 is NULL.
    pub fn ptr(&self, addr: u32, len: u64) -> SysResult<*mut u8> {
        if addr == 0 {
            return Ok(std::ptr::null_mut());
        }
        self.range(addr, len)
    }

    /// Like [`MemView::ptr`], but NULL is an error too.
    pub fn range(&self, addr: u32, len: u64) -> SysResult<*mut u8> {
        if addr == 0 && len > 0 {
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
        // SAFETY: bounds checked above; guest memory may change concurrently
        // (shared memory), which a byte copy tolerates.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    pub fn write(&self, addr: u32, bytes: &[u8]) -> SysResult<()> {
        let p = self.range(addr, bytes.len() as u64)?;
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
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
