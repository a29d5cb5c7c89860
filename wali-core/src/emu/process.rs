//! Process-level calls that end the guest or touch the thread's identity.

use super::{sys, tri};
use crate::decode::Call;
use crate::guest::{Guest, Stop};
use wasmtime::Caller;

/// `exit` ends the calling thread; with one thread, that is the process.
pub fn exit(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    Err(Stop::Exit(call.raw[0] as i32 & 0xff))
}

pub fn exit_group(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    Err(Stop::Exit(call.raw[0] as i32 & 0xff))
}

/// The kernel keeps the translated address and clears it at thread exit.
pub fn set_tid_address(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let p = tri!(call.mem.ptr(call.addr(0), 4));
    Ok(sys(libc::SYS_set_tid_address, [p as u64, 0, 0, 0, 0, 0]))
}
