//! poll_oneoff and proc_raise, with wasmtime-wasi's preview1 semantics:
//! every subscription is checked before waiting (the first bad one fails
//! the whole call), the call waits until at least one is ready, then
//! reports every ready one in subscription order.

use super::clock::{aligned, clock, invalid_argument, now, strict};
use super::ret;
use crate::abi::{Stat, filetype};
use crate::app;
use crate::errno::{EBADF, EINTR, EINVAL, ENOMEM, ENOTSUP, WasiResult, check};
use crate::{fds, sys};
use core::cell::UnsafeCell;

const SUBSCRIPTION: u32 = 48;
const EVENT: u32 = 32;
/// Subscriptions one call can hold (the shim has no allocator).
const MAX: usize = 4096;

const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;
const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;
const FD_READWRITE_HANGUP: u16 = 1;
const POLLIN: i16 = 1;
const POLLOUT: i16 = 4;

#[derive(Clone, Copy)]
enum Wait {
    /// Ready once CLOCK_MONOTONIC reaches this.
    Until(u64),
    /// Ready when `pollfd[i]` has events.
    Fd(usize),
}

#[derive(Clone, Copy)]
struct Sub {
    userdata: u64,
    tag: u8,
    wait: Wait,
    /// The host fd of an fd subscription that is a standard stream.
    stdio: bool,
    host: i32,
}

struct Scratch {
    subs: [Sub; MAX],
    /// `struct pollfd {i32 fd; i16 events; i16 revents}`.
    pollfds: [[u8; 8]; MAX],
}

struct Shared(UnsafeCell<Scratch>);

// SAFETY: the shim runs on one thread and poll_oneoff does not nest.
unsafe impl Sync for Shared {}

/// All zeros, so the scratch space is zero-initialised memory rather than
/// 160 KiB of data the module carries and copies in at every start.
const NONE: Sub = Sub { userdata: 0, tag: 0, wait: Wait::Until(0), stdio: false, host: 0 };
static SCRATCH: Shared = Shared(UnsafeCell::new(Scratch { subs: [NONE; MAX], pollfds: [[0; 8]; MAX] }));

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default())
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or_default())
}

/// A clock subscription's deadline on CLOCK_MONOTONIC. Relative and
/// realtime timeouts are measured from `mono`; an absolute monotonic one
/// is on the clock `clock_time_get` reports.
fn deadline(b: &[u8], mono: u64) -> WasiResult<u64> {
    let (id, timeout) = (u32_at(b, 16), u64_at(b, 24));
    let flags = u16::from_le_bytes([b[40], b[41]]);
    if flags & !SUBSCRIPTION_CLOCK_ABSTIME != 0 {
        return Err(EINVAL);
    }
    let absolute = flags & SUBSCRIPTION_CLOCK_ABSTIME != 0;
    // Only realtime and monotonic can be waited on (CPU clocks: EINVAL).
    let linux = clock(id).map_err(|_| EINVAL)?;
    Ok(match (linux, absolute) {
        (_, false) => mono.saturating_add(timeout),
        (0, true) => mono.saturating_add(timeout.saturating_sub(now(0)?)),
        (_, true) => timeout,
    })
}

/// An fd subscription: which host fd to poll, and whether it is a
/// standard stream. wasmtime-wasi polls stdin for reading, stdout and
/// stderr for writing, and files either way; anything else is EBADF.
fn fd_sub(b: &[u8], tag: u8) -> WasiResult<(i32, bool)> {
    let e = fds::get(u32_at(b, 16))?;
    // Host fds 0-2 are the standard streams the shim was started with.
    let stdio = (0..=2).contains(&e.host) && e.preopen.is_none();
    let ok = match (stdio, tag) {
        (true, FD_READ) => e.host == 0,
        (true, _) => e.host != 0,
        (false, _) => e.filetype != filetype::DIRECTORY,
    };
    if ok { Ok((e.host, stdio)) } else { Err(EBADF) }
}

/// `fd_readwrite.flags` for a ready read subscription: a file read at or
/// past its end reports a hangup (wasmtime-wasi compares size and offset).
fn read_flags(s: &Sub) -> WasiResult<u16> {
    if s.stdio || s.tag != FD_READ {
        return Ok(0);
    }
    let mut st = Stat::new();
    check(unsafe { sys::SYS_fstat(s.host, st.0.as_mut_ptr()) })?;
    // Unseekable files read from offset 0, as wasmtime-wasi's do.
    let pos = check(unsafe { sys::SYS_lseek(s.host, 0, 1) }).unwrap_or(0) as u64;
    Ok(if st.size() <= pos { FD_READWRITE_HANGUP } else { 0 })
}

fn poll(subs: u32, events: u32, n: u32, nevents: u32) -> WasiResult {
    if n == 0 {
        // There is nothing to wake up for: wasmtime-wasi refuses.
        return Err(EINVAL);
    }
    if n as usize > MAX {
        return Err(ENOMEM);
    }
    aligned(subs, 8)?;
    // SAFETY: see `Shared`.
    let scratch = unsafe { &mut *SCRATCH.0.get() };
    let mono = now(1)?;
    let mut nfds = 0;
    for i in 0..n as usize {
        let mut b = [0u8; SUBSCRIPTION as usize];
        app::read(subs + i as u32 * SUBSCRIPTION, &mut b)?;
        let tag = b[8];
        let (wait, stdio, host) = match tag {
            CLOCK => (Wait::Until(deadline(&b, mono)?), false, -1),
            FD_READ | FD_WRITE => {
                let (host, stdio) = fd_sub(&b, tag)?;
                let events = if tag == FD_READ { POLLIN } else { POLLOUT };
                let p = &mut scratch.pollfds[nfds];
                p[0..4].copy_from_slice(&host.to_le_bytes());
                p[4..6].copy_from_slice(&events.to_le_bytes());
                p[6..8].copy_from_slice(&0i16.to_le_bytes());
                nfds += 1;
                (Wait::Fd(nfds - 1), stdio, host)
            }
            _ => return Err(EINVAL),
        };
        scratch.subs[i] = Sub { userdata: u64_at(&b, 0), tag, wait, stdio, host };
    }
    let subs = &scratch.subs[..n as usize];
    let fd_ready = |i: usize, pollfds: &[[u8; 8]; MAX]| pollfds[i][6..8] != [0, 0];
    // First, what is ready without waiting, as wasmtime-wasi's first look
    // sees it: streams that can be written, stdin that can be read. Its
    // file reads start in the background and its expired or zero clocks
    // yield once, so those never count here: a zero timeout beside other
    // subscriptions is a non-blocking check.
    let immediate = |s: &Sub, pollfds: &[[u8; 8]; MAX]| match s.wait {
        Wait::Fd(i) => (s.stdio || s.tag == FD_WRITE) && fd_ready(i, pollfds),
        Wait::Until(_) => false,
    };
    let ready_now = |s: &Sub, mono: u64, pollfds: &[[u8; 8]; MAX]| match s.wait {
        Wait::Until(t) => mono >= t,
        Wait::Fd(i) => fd_ready(i, pollfds),
    };
    let mut first_look = nfds > 0;
    let deadline = subs.iter().filter_map(|s| if let Wait::Until(t) = s.wait { Some(t) } else { None }).min();
    // Which test picked the events: `immediate` on the first look.
    let from_first_look = loop {
        let mono = now(1)?;
        let mut ts = [0u8; 16];
        let left = if first_look { Some(0) } else { deadline.map(|t| t.saturating_sub(mono)) };
        let timeout = left.map(|left| {
            ts[0..8].copy_from_slice(&((left / 1_000_000_000).min(i64::MAX as u64)).to_le_bytes());
            ts[8..16].copy_from_slice(&(left % 1_000_000_000).to_le_bytes());
            ts.as_ptr()
        });
        let r = unsafe {
            sys::SYS_ppoll(
                scratch.pollfds.as_mut_ptr().cast(),
                nfds as i64,
                timeout.unwrap_or(core::ptr::null()),
                core::ptr::null(),
                8,
            )
        };
        match check(r) {
            Err(EINTR) => continue,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        if first_look {
            first_look = false;
            if subs.iter().any(|s| immediate(s, &scratch.pollfds)) {
                break true;
            }
            continue;
        }
        let mono = now(1)?;
        if subs.iter().any(|s| ready_now(s, mono, &scratch.pollfds)) {
            break false;
        }
    };
    let mono = now(1)?;
    aligned(events, 8)?;
    let mut count = 0u32;
    let ready =
        |s: &&Sub| if from_first_look { immediate(s, &scratch.pollfds) } else { ready_now(s, mono, &scratch.pollfds) };
    for s in subs.iter().filter(ready) {
        let mut e = [0u8; EVENT as usize];
        e[0..8].copy_from_slice(&s.userdata.to_le_bytes());
        e[10] = s.tag;
        if s.tag != CLOCK {
            // wasmtime-wasi cannot tell how many bytes are ready: always 1.
            e[16..24].copy_from_slice(&1u64.to_le_bytes());
            e[24..26].copy_from_slice(&read_flags(s)?.to_le_bytes());
        }
        app::write(events + count * EVENT, &e)?;
        count += 1;
    }
    app::write_u32(aligned(nevents, 4)?, count)
}

#[unsafe(no_mangle)]
pub extern "C" fn poll_oneoff(subs: u32, events: u32, n: u32, nevents: u32) -> i32 {
    strict(poll(subs, events, n, nevents))
}

/// wasmtime-wasi raises no signals: any valid signal number is ENOTSUP.
#[unsafe(no_mangle)]
pub extern "C" fn proc_raise(sig: u32) -> i32 {
    if sig > 30 {
        invalid_argument()
    }
    ret(Err(ENOTSUP))
}
