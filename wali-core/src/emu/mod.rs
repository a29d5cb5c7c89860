//! Syscalls the host carries out itself: layout conversions (iovec, msghdr,
//! sigaction), guest-memory management (mmap family), and calls whose
//! pointer arguments depend on another argument (fcntl, ioctl, futex).

pub mod ctl;
pub mod iov;
pub mod kill;
pub mod mm;
pub mod process;
pub mod rlimit;
pub mod signal;

use crate::decode::Call;
use crate::guest::{Guest, Stop};
use wasmtime::Caller;

/// An emulated syscall: gets the decoded call, returns the raw result.
pub type Emu = fn(&mut Caller<'_, Guest>, &Call<'_>) -> Result<i64, Stop>;

/// Runs a raw syscall whose pointer arguments are already host pointers.
#[inline(always)]
pub(crate) fn sys(nr: i64, a: [u64; 6]) -> i64 {
    // SAFETY: callers pass only translated pointers (inside guest memory or
    // host buffers that outlive the call) and scalars.
    unsafe { crate::sys::syscall6(nr, a) }
}

/// Turns an argument-decoding error into the syscall's result.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(errno) => return Ok(errno.ret()),
        }
    };
}
pub(crate) use tri;
