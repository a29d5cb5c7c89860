//! Signals the guest sends to processes: they may reach only the guest's
//! own process tree (see limits), never the host's other processes, so
//! `kill(-1, ...)` or a pid or group outside the tree is `-EPERM` (whatever
//! the policy allows). A group is the guest's when its leader is, as with
//! the groups a guest shell makes for its jobs.

use super::sys;
use crate::decode::Call;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use crate::limits::in_tree;
use wasmtime::Caller;

/// Whether `kill(pid, ...)` targets only the guest's processes.
fn may_signal(pid: i32) -> bool {
    match pid {
        -1 | i32::MIN => false,
        // SAFETY: getpgrp has no preconditions.
        0 => in_tree(unsafe { libc::getpgrp() }),
        p if p < 0 => in_tree(-p),
        p => in_tree(p),
    }
}

fn gated(allowed: bool, nr: i64, a: [u64; 6]) -> Result<i64, Stop> {
    Ok(if allowed { sys(nr, a) } else { Errno::EPERM.ret() })
}

pub fn kill(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    gated(may_signal(call.raw[0] as i32), libc::SYS_kill, call.args)
}

/// tkill names a thread by TID alone: it goes to a thread of this process.
pub fn tkill(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    Ok(sys(libc::SYS_tgkill, [pid, call.args[0], call.args[1], 0, 0, 0]))
}

/// tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo and pidfd_open name the
/// process in their first argument.
pub fn to_process(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    gated(in_tree(call.raw[0] as i32), call.sys.nr, call.args)
}
