//! Clocks, randomness, scheduling and process exit.

use super::ret;
use crate::app;
use crate::errno::{EINVAL, WasiResult, check};
use crate::sys;

/// WASI clock id to Linux clock id.
fn clock(id: u32) -> WasiResult<i32> {
    match id {
        0 => Ok(0), // realtime
        1 => Ok(1), // monotonic
        2 => Ok(2), // process cputime
        3 => Ok(3), // thread cputime
        _ => Err(EINVAL),
    }
}

fn nanos(ts: &[u8; 16]) -> u64 {
    let s = u64::from_le_bytes(ts[0..8].try_into().unwrap_or_default());
    let ns = u64::from_le_bytes(ts[8..16].try_into().unwrap_or_default());
    s.wrapping_mul(1_000_000_000).wrapping_add(ns)
}

#[unsafe(no_mangle)]
pub extern "C" fn clock_time_get(id: u32, _precision: u64, out: u32) -> i32 {
    ret((|| {
        let mut ts = [0u8; 16];
        check(unsafe { sys::SYS_clock_gettime(clock(id)?, ts.as_mut_ptr()) })?;
        app::write_u64(out, nanos(&ts))
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn clock_res_get(id: u32, out: u32) -> i32 {
    ret((|| {
        let mut ts = [0u8; 16];
        check(unsafe { sys::SYS_clock_getres(clock(id)?, ts.as_mut_ptr()) })?;
        app::write_u64(out, nanos(&ts))
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn random_get(buf: u32, len: u32) -> i32 {
    ret((|| {
        let mut done = 0;
        while done < len {
            done += check(unsafe { sys::app_getrandom(buf + done, len - done, 0) })? as u32;
        }
        Ok(())
    })())
}

#[unsafe(no_mangle)]
pub extern "C" fn sched_yield() -> i32 {
    ret(check(unsafe { sys::SYS_sched_yield() }).map(drop))
}

#[unsafe(no_mangle)]
pub extern "C" fn proc_exit(code: u32) -> ! {
    unsafe { sys::SYS_exit_group(code as i32) };
    core::arch::wasm32::unreachable()
}
