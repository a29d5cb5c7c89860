//! Clocks, randomness, scheduling and process exit, as wasmtime-wasi's
//! preview1 does them.

use super::ret;
use crate::app;
use crate::errno::{EBADF, EFAULT, EINVAL, WasiResult, check};
use crate::sys;

/// Like `ret`, but a bad application pointer traps: wasmtime-wasi (and
/// the witx rules) trap on out-of-bounds or misaligned pointers instead of
/// returning EFAULT. In the callers EFAULT can only mean such a pointer.
pub(super) fn strict(r: WasiResult) -> i32 {
    if r == Err(EFAULT) {
        core::arch::wasm32::unreachable()
    }
    ret(r)
}

/// An argument that is not a valid value of its enum or flags type:
/// wasmtime-wasi (wiggle) traps while decoding it, before the call runs.
pub(super) fn invalid_argument() -> ! {
    core::arch::wasm32::unreachable()
}

/// A pointer to a `T` of this alignment, or the trap `strict` makes.
pub(super) fn aligned(ptr: u32, align: u32) -> WasiResult<u32> {
    if ptr.is_multiple_of(align) { Ok(ptr) } else { Err(EFAULT) }
}

/// The Linux clock for a WASI clock id. Only realtime and monotonic exist
/// (wasmtime-wasi: the CPU-time clocks are EBADF; an unknown id is EINVAL
/// where read from memory, a trap as an argument).
pub(super) fn clock(id: u32) -> WasiResult<i32> {
    match id {
        0 => Ok(0), // CLOCK_REALTIME
        1 => Ok(1), // CLOCK_MONOTONIC
        2 | 3 => Err(EBADF),
        _ => Err(EINVAL),
    }
}

fn nanos(ts: &[u8; 16]) -> u64 {
    let s = u64::from_le_bytes(ts[0..8].try_into().unwrap_or_default());
    let ns = u64::from_le_bytes(ts[8..16].try_into().unwrap_or_default());
    s.wrapping_mul(1_000_000_000).wrapping_add(ns)
}

/// The Linux clock's time in nanoseconds.
pub(super) fn now(linux_clock: i32) -> WasiResult<u64> {
    let mut ts = [0u8; 16];
    check(unsafe { sys::SYS_clock_gettime(linux_clock, ts.as_mut_ptr()) })?;
    Ok(nanos(&ts))
}

#[unsafe(no_mangle)]
pub extern "C" fn clock_time_get(id: u32, _precision: u64, out: u32) -> i32 {
    if id > 3 {
        invalid_argument()
    }
    strict((|| {
        let t = now(clock(id)?)?;
        app::write_u64(aligned(out, 8)?, t)
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn clock_res_get(id: u32, out: u32) -> i32 {
    if id > 3 {
        invalid_argument()
    }
    strict((|| {
        let mut ts = [0u8; 16];
        check(unsafe { sys::SYS_clock_getres(clock(id)?, ts.as_mut_ptr()) })?;
        app::write_u64(aligned(out, 8)?, nanos(&ts))
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn random_get(buf: u32, len: u32) -> i32 {
    strict((|| {
        let mut done = 0;
        while done < len {
            done += check(unsafe { sys::app_getrandom(buf + done, len - done, 0) })? as u32;
        }
        Ok(())
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn sched_yield() -> i32 {
    // Only a hint: wasmtime-wasi does nothing and always succeeds.
    unsafe { sys::SYS_sched_yield() };
    ret(Ok(()))
}

#[unsafe(no_mangle)]
pub extern "C" fn proc_exit(code: u32) -> ! {
    // wasmtime-wasi traps on statuses outside [0, 126): higher ones are
    // the shell's for "not executable", "not found" and signals.
    if code < 126 {
        unsafe { sys::SYS_exit_group(code as i32) };
    }
    core::arch::wasm32::unreachable()
}
