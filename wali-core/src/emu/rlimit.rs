//! The guest's resource limits on its own process. `RLIMIT_NOFILE` is its
//! descriptor range (see fdspace), and limits the embedder sets (file
//! size) are caps: the guest sees them as its hard limit and may lower
//! them, never raise them (even as root). Other processes' limits are the
//! kernel's business.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Caller;

const RESOURCES: usize = 16;
static CAPS: [AtomicU64; RESOURCES] = [const { AtomicU64::new(u64::MAX) }; RESOURCES];

/// Caps `resource` (a `RLIMIT_*`) at `value` and sets it in the kernel.
pub fn cap(resource: u32, value: u64) -> std::io::Result<()> {
    if let Some(c) = CAPS.get(resource as usize) {
        c.store(value, Ordering::Relaxed);
    }
    let rl = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: reads the local struct.
    if unsafe { libc::setrlimit(resource as _, &rl) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn cap_of(resource: u32) -> u64 {
    if resource == libc::RLIMIT_NOFILE {
        return match crate::fdspace::limit() {
            i32::MAX => u64::MAX,
            end => end as u64,
        };
    }
    CAPS.get(resource as usize).map_or(u64::MAX, |c| c.load(Ordering::Relaxed))
}

/// prlimit64 on this process: `new` is the copied `{soft, hard}`, `old`
/// the guest address to report the limits at (0 for none).
fn own(call: &Call<'_>, resource: u32, new: Option<&[u8]>, old: u32) -> i64 {
    let cap = cap_of(resource);
    if let Some(new) = new {
        let word = |o: usize| u64::from_le_bytes(new[o..o + 8].try_into().unwrap_or_default());
        let (soft, hard) = (word(0), word(8));
        if soft > hard {
            return Errno::EINVAL.ret();
        }
        if hard > cap {
            return Errno::EPERM.ret();
        }
    }
    let mut current = [0u64; 2];
    let new_ptr = new.map_or(0, |n| n.as_ptr() as u64);
    let ret = sys(libc::SYS_prlimit64, [0, resource as u64, new_ptr, current.as_mut_ptr() as u64, 0, 0]);
    if ret == 0 && old != 0 {
        let bytes = [current[0].min(cap).to_le_bytes(), current[1].min(cap).to_le_bytes()].concat();
        if let Err(e) = call.mem.write(old, &bytes) {
            return e.ret();
        }
    }
    ret
}

pub fn prlimit64(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let pid = call.raw[0] as i32;
    // SAFETY: getpid has no preconditions.
    if pid != 0 && pid != unsafe { libc::getpid() } {
        return Ok(sys(libc::SYS_prlimit64, call.args));
    }
    if call.raw[3] != 0 {
        tri!(call.mem.range(call.addr(3), 16));
    }
    Ok(own(call, call.raw[1] as u32, call.copied(2), call.addr(3)))
}

pub fn getrlimit(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    if call.raw[1] == 0 {
        return Ok(Errno::EFAULT.ret());
    }
    Ok(own(call, call.raw[0] as u32, None, call.addr(1)))
}

pub fn setrlimit(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let Some(new) = call.copied(1) else { return Ok(Errno::EFAULT.ret()) };
    Ok(own(call, call.raw[0] as u32, Some(new), 0))
}
