//! The one path every WALI syscall takes: decode, ask the gate, carry out,
//! let the gate see the result.

use crate::decode::decode;
use crate::errno::{Errno, from_libc};
use crate::gate::Verdict;
use crate::guest::{Guest, Stop};
use crate::table::{Imp, Syscall};
use wasmtime::Caller;

pub fn dispatch(
    caller: &mut Caller<'_, Guest>,
    sys: &'static Syscall,
    raw: [i64; 6],
) -> Result<i64, Stop> {
    let mem = caller.data().memory.view();
    let mut scratch = std::mem::take(&mut caller.data_mut().scratch);
    let result = (|| {
        let call = match decode(sys, raw, mem, &mut scratch) {
            Ok(call) => call,
            Err(e) => return Ok(e.ret()),
        };
        let gate = caller.data().gate;
        let verdict = gate.decide(&call);
        let ret = match verdict {
            Verdict::Allow => match sys.imp {
                Imp::Kernel => {
                    let a = call.args;
                    // SAFETY: every pointer argument was translated into
                    // guest memory or a host copy by `decode`.
                    let ret = from_libc(unsafe {
                        libc::syscall(sys.nr, a[0], a[1], a[2], a[3], a[4], a[5])
                    });
                    if ret >= 0 {
                        call.copy_back();
                    }
                    ret
                }
                Imp::Emulated(f) => f(caller, &call)?,
                Imp::Nosys(_) => Errno::ENOSYS.ret(),
            },
            Verdict::Deny(errno) => -(errno as i64),
            Verdict::Kill => {
                gate.record(&call, verdict, 0);
                return Err(Stop::Killed(sys.name.to_string()));
            }
        };
        gate.record(&call, verdict, ret);
        Ok(ret)
    })();
    caller.data_mut().scratch = scratch;
    result
}
