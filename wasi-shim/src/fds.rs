//! The application's descriptor table: WASI fd -> host (WALI) fd, with the
//! rights WASI attaches to it and, for preopens, the guest-visible name.

use crate::errno::{EBADF, EMFILE, ENOTCAPABLE, WasiResult};
use core::cell::UnsafeCell;

pub const MAX_FDS: usize = 1024;

#[derive(Clone, Copy)]
pub struct Entry {
    pub host: i32,
    pub filetype: u8,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    /// For a preopened directory: its name's range in the configuration.
    pub preopen: Option<(u32, u32)>,
}

struct Table(UnsafeCell<[Option<Entry>; MAX_FDS]>);

// SAFETY: the shim runs on one thread.
unsafe impl Sync for Table {}

static TABLE: Table = Table(UnsafeCell::new([None; MAX_FDS]));

fn table() -> &'static mut [Option<Entry>; MAX_FDS] {
    // SAFETY: single-threaded, and no reference outlives one WASI call.
    unsafe { &mut *TABLE.0.get() }
}

pub fn get(fd: u32) -> WasiResult<Entry> {
    table().get(fd as usize).copied().flatten().ok_or(EBADF)
}

/// The entry for `fd` if it holds all of `rights`.
pub fn with_rights(fd: u32, rights: u64) -> WasiResult<Entry> {
    let e = get(fd)?;
    if e.rights_base & rights != rights {
        return Err(ENOTCAPABLE);
    }
    Ok(e)
}

pub fn set(fd: u32, e: Entry) {
    if let Some(slot) = table().get_mut(fd as usize) {
        *slot = Some(e);
    }
}

/// Puts `e` at the lowest free descriptor.
pub fn insert(e: Entry) -> WasiResult<u32> {
    let slot = table().iter().position(Option::is_none).ok_or(EMFILE)?;
    table()[slot] = Some(e);
    Ok(slot as u32)
}

pub fn remove(fd: u32) -> WasiResult<Entry> {
    table().get_mut(fd as usize).and_then(Option::take).ok_or(EBADF)
}

pub fn update(fd: u32, f: impl FnOnce(&mut Entry)) -> WasiResult {
    let e = table().get_mut(fd as usize).and_then(Option::as_mut).ok_or(EBADF)?;
    f(e);
    Ok(())
}
