//! The application's descriptor table: WASI fd -> host (WALI) fd, with the
//! rights WASI attaches to it and, for preopens, the guest-visible name.
//!
//! Numbering follows wasmtime-wasi: a new descriptor takes the highest
//! number freed so far, else one past the highest in use.

use crate::abi::filetype;
use crate::errno::{EBADF, EMFILE, ESPIPE, WasiResult};
use crate::sys;
use core::cell::UnsafeCell;

pub const MAX_FDS: usize = 1024;

#[derive(Clone, Copy)]
pub struct Entry {
    pub host: i32,
    pub filetype: u8,
    /// Rights are reported from the descriptor's kind and access mode
    /// (see fd_fdstat_get), as wasmtime-wasi does; these are not read.
    #[allow(dead_code)]
    pub rights_base: u64,
    #[allow(dead_code)]
    pub rights_inheriting: u64,
    /// For a preopened directory: its name's range in the configuration.
    pub preopen: Option<(u32, u32)>,
}

/// What a descriptor is, as wasmtime-wasi's preview1 adapter tells them
/// apart (operations are allowed or EBADF by kind, not by rights).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stdin,
    Stdout,
    Stderr,
    Dir,
    File,
}

impl Entry {
    /// Host fds 0-2 are only ever the standard streams: the shim never
    /// closes them, so nothing else can be given those numbers.
    pub fn kind(&self) -> Kind {
        match self.host {
            0 => Kind::Stdin,
            1 => Kind::Stdout,
            2 => Kind::Stderr,
            _ if self.filetype == filetype::DIRECTORY => Kind::Dir,
            _ => Kind::File,
        }
    }

    pub fn is_stdio(&self) -> bool {
        matches!(self.kind(), Kind::Stdin | Kind::Stdout | Kind::Stderr)
    }
}

/// A table slot. An empty one is all zeros (unlike `Option<Entry>`, whose
/// `None` lives in a niche), so the table is zero-initialised memory, not
/// data the module carries and copies in at every start.
#[derive(Clone, Copy)]
struct Slot {
    used: bool,
    entry: Entry,
}

const EMPTY: Slot =
    Slot { used: false, entry: Entry { host: 0, filetype: 0, rights_base: 0, rights_inheriting: 0, preopen: None } };

struct Table {
    slots: UnsafeCell<[Slot; MAX_FDS]>,
    freed: UnsafeCell<[bool; MAX_FDS]>,
}

// SAFETY: the shim runs on one thread.
unsafe impl Sync for Table {}

static TABLE: Table = Table { slots: UnsafeCell::new([EMPTY; MAX_FDS]), freed: UnsafeCell::new([false; MAX_FDS]) };

fn table() -> &'static mut [Slot; MAX_FDS] {
    // SAFETY: single-threaded, and no reference outlives one WASI call.
    unsafe { &mut *TABLE.slots.get() }
}

fn freed() -> &'static mut [bool; MAX_FDS] {
    // SAFETY: as `table`.
    unsafe { &mut *TABLE.freed.get() }
}

pub fn get(fd: u32) -> WasiResult<Entry> {
    table().get(fd as usize).filter(|s| s.used).map(|s| s.entry).ok_or(EBADF)
}

/// A regular (non-directory) file: EBADF for anything else.
pub fn file(fd: u32) -> WasiResult<Entry> {
    let e = get(fd)?;
    if e.kind() == Kind::File { Ok(e) } else { Err(EBADF) }
}

/// A directory: EBADF for anything else.
pub fn dir(fd: u32) -> WasiResult<Entry> {
    let e = get(fd)?;
    if e.kind() == Kind::Dir { Ok(e) } else { Err(EBADF) }
}

/// A file with a position: the standard streams are ESPIPE, directories
/// EBADF.
pub fn seekable(fd: u32) -> WasiResult<Entry> {
    let e = get(fd)?;
    match e.kind() {
        Kind::File => Ok(e),
        Kind::Dir => Err(EBADF),
        _ => Err(ESPIPE),
    }
}

pub fn set(fd: u32, e: Entry) {
    if let Some(slot) = table().get_mut(fd as usize) {
        *slot = Slot { used: true, entry: e };
        freed()[fd as usize] = false;
    }
}

/// Puts `e` at the next descriptor number (see the module comment).
pub fn insert(e: Entry) -> WasiResult<u32> {
    let slot = match freed().iter().rposition(|&f| f) {
        Some(i) => i,
        None => table().iter().rposition(|s| s.used).map_or(0, |i| i + 1),
    };
    if slot >= MAX_FDS {
        return Err(EMFILE);
    }
    set(slot as u32, e);
    Ok(slot as u32)
}

pub fn remove(fd: u32) -> WasiResult<Entry> {
    let slot = table().get_mut(fd as usize).filter(|s| s.used).ok_or(EBADF)?;
    let e = core::mem::replace(slot, EMPTY).entry;
    freed()[fd as usize] = true;
    Ok(e)
}

/// Closes the host side of a removed entry. The standard streams stay
/// open on the host (see `Entry::kind`).
pub fn close_host(e: &Entry) -> WasiResult {
    if e.is_stdio() {
        return Ok(());
    }
    crate::errno::check(unsafe { sys::SYS_close(e.host) }).map(drop)
}

/// Moves `from` onto `to`, closing what `to` held; both must be open.
pub fn renumber(from: u32, to: u32) -> WasiResult {
    get(from)?;
    get(to)?;
    if from == to {
        return Ok(());
    }
    let old = remove(to)?;
    let e = remove(from)?;
    set(to, e);
    close_host(&old)
}
