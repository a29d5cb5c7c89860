//! The one path every WALI syscall takes: decode, ask the gate, carry out,
//! let the gate see the result.

use crate::decode::{Call, args_in_place, decode};
use crate::errno::Errno;
use crate::gate::{Layer, Verdict};
use crate::guest::{Guest, Stop};
use crate::memory::MemView;
use crate::table::{Arg, Imp, Syscall};
use std::time::Instant;
use wasmtime::Caller;

/// Whose memory a syscall's pointers point into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// The calling module's own memory (a WALI program, or the WASI shim).
    Own,
    /// The WASI application's memory, for the shim's zero-copy data calls.
    App,
}

/// Calls that open a descriptor by path, vetted by what they opened.
#[inline]
fn opens_by_path(nr: i64) -> bool {
    matches!(nr, libc::SYS_open | libc::SYS_openat | libc::SYS_openat2 | libc::SYS_creat)
}

#[inline(always)]
fn view(guest: &Guest, space: Space) -> MemView {
    match (space, &guest.app_memory) {
        (Space::App, Some(app)) => app.view(),
        _ => guest.memory.view(),
    }
}

/// The direct path, for a call the gate allows unconditionally and
/// without recording ([`crate::Gate::unconditional`]) whose arguments are
/// all in place ([`Syscall::in_place`]): what [`dispatch`] does for it,
/// without the scratch buffer or the gate, and with a kernel call made in
/// this frame (see [`crate::sys`]).
#[inline(always)]
pub fn direct(caller: &mut Caller<'_, Guest>, space: Space, sys: &'static Syscall, raw: [i64; 6]) -> Result<i64, Stop> {
    crate::limits::check_tree()?;
    // A kernel call of scalars only (getpid, close...) looks at no memory.
    let scalars =
        matches!(sys.imp, Imp::Kernel) && sys.args.iter().all(|a| matches!(a, Arg::Int | Arg::UInt | Arg::Fd));
    let mem = if scalars { MemView::NONE } else { view(caller.data(), space) };
    let args = match args_in_place(sys, raw, &mem) {
        Ok(args) => args,
        Err(e) => return Ok(e.ret()),
    };
    match sys.imp {
        // SAFETY: every pointer argument was bounds-checked and translated
        // into guest memory.
        Imp::Kernel => crate::limits::check_result(unsafe { crate::sys::syscall6(sys.nr, args) }),
        Imp::Emulated(f) => f(caller, &Call::in_place(sys, raw, args, mem)).and_then(crate::limits::check_result),
        Imp::Nosys(_) => Ok(Errno::ENOSYS.ret()),
    }
}

pub fn dispatch(
    caller: &mut Caller<'_, Guest>,
    space: Space,
    sys: &'static Syscall,
    raw: [i64; 6],
) -> Result<i64, Stop> {
    let mem = view(caller.data(), space);
    crate::limits::check_tree()?;
    let mut scratch = std::mem::take(&mut caller.data_mut().scratch);
    let result = (|| {
        let call = match decode(sys, raw, mem, &mut scratch) {
            Ok(call) => call,
            Err(e) => return Ok(e.ret()),
        };
        let gate = caller.data().gate;
        let ruling = gate.decide(&call);
        // Only a call the gate records as an event is timed (the gate may
        // watch other outcomes only for its bookkeeping).
        let start = (ruling.record && ruling.attribute).then(Instant::now);
        let outcome = match ruling.verdict {
            Verdict::Allow if !opens_by_path(sys.nr) && crate::fdspace::names_host_file(&call) => {
                Ok(Errno(libc::EACCES).ret())
            }
            Verdict::Allow => match sys.imp {
                Imp::Kernel => {
                    // SAFETY: every pointer argument was translated into
                    // guest memory or a host copy by `decode`.
                    let ret = unsafe { crate::sys::syscall6(sys.nr, call.args) };
                    if ret >= 0 {
                        call.copy_back();
                        if opens_by_path(sys.nr)
                            && let Err(e) = crate::fdspace::vet_opened(ret as i32)
                        {
                            return Ok(e.ret());
                        }
                    }
                    Ok(ret)
                }
                Imp::Emulated(f) => f(caller, &call),
                Imp::Nosys(_) => Ok(Errno::ENOSYS.ret()),
            },
            Verdict::Deny(errno) => Ok(-(errno as i64)),
            Verdict::Kill => Err(Stop::Killed(sys.name.to_string())),
        }
        .and_then(crate::limits::check_result);
        if ruling.record {
            // A call that ends the guest is recorded too, before it unwinds.
            let ret = *outcome.as_ref().unwrap_or(&0);
            let dur = start.map_or(0, |t| t.elapsed().as_nanos() as u64);
            let layer = match caller.data().app_memory {
                Some(_) => Layer::Wasi(if ruling.attribute { crate::wasi::current_call(caller) } else { None }),
                None => Layer::Wali,
            };
            gate.record(&call, ruling, ret, dur, layer);
        }
        outcome
    })();
    caller.data_mut().scratch = scratch;
    result
}
