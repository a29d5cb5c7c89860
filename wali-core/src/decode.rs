//! Decoding a guest syscall: scalars are widened, pointers are bounds-checked
//! and translated, and what a decision may depend on (paths, socket
//! addresses, small input structs) is copied out of guest memory exactly
//! once. The kernel receives that copy, so another guest thread cannot
//! change an argument between the check and the use.

use crate::errno::{Errno, SysResult};
use crate::memory::MemView;
use crate::table::{Arg, Syscall};
use std::ffi::CStr;

/// Longest path the kernel accepts, without its NUL.
pub const PATH_MAX: usize = 4095;
/// Largest socket address the kernel accepts.
const SOCKADDR_MAX: u64 = 128;
/// Largest input copied by [`Arg::CopyIn`].
const COPY_MAX: u64 = 65536;

/// A decoded call, ready for the gate and the kernel.
pub struct Call<'a> {
    pub sys: &'static Syscall,
    /// Arguments as the guest passed them (i32 sign-extended).
    pub raw: [i64; 6],
    /// Arguments as the kernel gets them: host pointers for pointers.
    pub args: [u64; 6],
    pub mem: MemView,
    scratch: &'a [u8],
    /// (offset, len) in `scratch` of each copied argument; len 0 = none.
    copied: [(u32, u32); 6],
}

impl<'a> Call<'a> {
    /// The bytes copied in for argument `i`, if it was copied.
    pub fn copied(&self, i: usize) -> Option<&[u8]> {
        let (off, len) = self.copied[i];
        (len > 0).then(|| &self.scratch[off as usize..(off + len) as usize])
    }

    /// The path argument `i` as copied in.
    pub fn path(&self, i: usize) -> Option<&CStr> {
        self.copied(i).and_then(|b| CStr::from_bytes_with_nul(b).ok())
    }

    /// Copies the kernel's updates of `Len` arguments back to the guest.
    pub fn copy_back(&self) {
        for (i, kind) in self.sys.args.iter().enumerate() {
            if let (Arg::Len, Some(bytes)) = (kind, self.copied(i)) {
                // The address was checked when it was copied in.
                let _ = self.mem.write(self.addr(i), bytes);
            }
        }
    }

    /// The call of arguments decoded by [`args_in_place`] (built where it
    /// is used: a `Call` is large enough that moving it costs a `memcpy`).
    #[inline(always)]
    pub fn in_place(sys: &'static Syscall, raw: [i64; 6], args: [u64; 6], mem: MemView) -> Call<'static> {
        Call { sys, raw, args, mem, scratch: &[], copied: [(0, 0); 6] }
    }

    /// Guest address argument `i`.
    pub fn addr(&self, i: usize) -> u32 {
        self.raw[i] as u32
    }
}

/// Decodes `raw` for `sys`, copying into `scratch` (cleared first).
pub fn decode<'a>(sys: &'static Syscall, raw: [i64; 6], mem: MemView, scratch: &'a mut Vec<u8>) -> SysResult<Call<'a>> {
    scratch.clear();
    let mut args = [0u64; 6];
    let mut copied = [(0u32, 0u32); 6];
    let uint = |i: usize| raw[i] as u32 as u64;
    for (i, &kind) in sys.args.iter().enumerate() {
        let addr = raw[i] as u32;
        args[i] = match kind {
            Arg::Int
            | Arg::UInt
            | Arg::Fd
            | Arg::Out(_)
            | Arg::InOut(_)
            | Arg::BufIn(_)
            | Arg::BufOut(_)
            | Arg::Addr
            | Arg::Raw => in_place(kind, i, &raw, &mem)?,
            Arg::Msghdr => {
                use crate::emu::iov::msg;
                mem.range(addr, msg::SIZE)?;
                let name = mem.read_u32(addr + msg::NAME)?;
                // The kernel caps the length at the largest socket address.
                let len = mem.read_u32(addr + msg::NAMELEN)?.min(SOCKADDR_MAX as u32);
                copy_in(&mem, name, len as u64, scratch, &mut copied[i])?;
                uint(i)
            }
            Arg::Path => {
                if addr != 0 {
                    let off = scratch.len();
                    mem.read_cstr(addr, PATH_MAX, scratch)?;
                    copied[i] = (off as u32, (scratch.len() - off) as u32);
                }
                0
            }
            Arg::In(n) => copy_in(&mem, addr, n as u64, scratch, &mut copied[i])?,
            Arg::CopyIn(len) => {
                let n = uint(len as usize);
                if n > COPY_MAX {
                    return Err(Errno::E2BIG);
                }
                copy_in(&mem, addr, n, scratch, &mut copied[i])?
            }
            Arg::AddrIn(len) => {
                let n = raw[len as usize] as i32;
                if !(0..=SOCKADDR_MAX as i32).contains(&n) {
                    return Err(Errno::EINVAL);
                }
                copy_in(&mem, addr, n as u64, scratch, &mut copied[i])?
            }
            // Sized from the copied length once every argument is read.
            Arg::LenOut(_) | Arg::AddrOut(_) => 0,
            Arg::Len => copy_in(&mem, addr, 4, scratch, &mut copied[i])?,
            Arg::Array(count, size) => {
                // A negative count, or one no 32-bit memory could hold, is
                // the kernel's EINVAL (its limits on nfds and maxevents).
                let n = u64::try_from(raw[count as usize]).map_err(|_| Errno::EINVAL)?;
                let bytes = n.checked_mul(size as u64).filter(|&b| b <= 1 << 32).ok_or(Errno::EINVAL)?;
                mem.ptr(addr, bytes)? as u64
            }
            Arg::FdSet => {
                let nfds = (raw[0] as i32).max(0) as u64;
                mem.ptr(addr, nfds.div_ceil(64) * 8)? as u64
            }
        };
    }
    for (i, kind) in sys.args.iter().enumerate() {
        let (len_arg, cap) = match *kind {
            Arg::LenOut(l) => (l as usize, u64::MAX),
            Arg::AddrOut(l) => (l as usize, SOCKADDR_MAX),
            _ => continue,
        };
        let addr = raw[i] as u32;
        let len = match copied[len_arg] {
            (off, 4) if addr != 0 => {
                let off = off as usize;
                i32::from_le_bytes(scratch[off..off + 4].try_into().unwrap())
            }
            _ => 0,
        };
        // The kernel's length is an int: a negative one is EINVAL there.
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        args[i] = mem.ptr(addr, (len as u64).min(cap))? as u64;
    }
    // Copies are complete, so `scratch` no longer moves: point at it.
    for (i, &(off, len)) in copied.iter().enumerate() {
        if len > 0 {
            args[i] = scratch[off as usize..].as_ptr() as u64;
        }
    }
    Ok(Call { sys, raw, args, mem, scratch, copied })
}

/// [`decode`] for a call whose every argument is in place (see
/// [`Syscall::in_place`]): nothing to copy, so no scratch buffer. Gives the
/// kernel's arguments; [`Call::in_place`] makes the call of them.
#[inline(always)]
pub fn args_in_place(sys: &'static Syscall, raw: [i64; 6], mem: &MemView) -> SysResult<[u64; 6]> {
    let mut args = [0u64; 6];
    for (i, &kind) in sys.args.iter().enumerate() {
        args[i] = in_place(kind, i, &raw, mem)?;
    }
    Ok(args)
}

/// Argument `i` of an in-place kind: scalars widened, buffers
/// bounds-checked and translated.
#[inline(always)]
fn in_place(kind: Arg, i: usize, raw: &[i64; 6], mem: &MemView) -> SysResult<u64> {
    let uint = |i: usize| raw[i] as u32 as u64;
    Ok(match kind {
        Arg::Int => raw[i] as u64,
        // The kernel reads an fd as a 32-bit int; the host's lie above the
        // guest's range (see fdspace).
        Arg::Fd if !crate::fdspace::guest_may_use(raw[i] as i32) => return Err(Errno::EBADF),
        Arg::Fd => raw[i] as u64,
        Arg::UInt | Arg::Addr | Arg::Raw => uint(i),
        Arg::Out(n) | Arg::InOut(n) => mem.ptr(raw[i] as u32, n as u64)? as u64,
        Arg::BufIn(len) | Arg::BufOut(len) => mem.ptr(raw[i] as u32, uint(len as usize))? as u64,
        // Not an in-place kind: the caller checked `in_place()`.
        _ => return Err(Errno::EINVAL),
    })
}

fn copy_in(mem: &MemView, addr: u32, n: u64, scratch: &mut Vec<u8>, slot: &mut (u32, u32)) -> SysResult<u64> {
    if addr == 0 || n == 0 {
        return Ok(mem.ptr(addr, n)? as u64);
    }
    let off = scratch.len();
    scratch.resize(off + n as usize, 0);
    mem.read_into(addr, &mut scratch[off..])?;
    *slot = (off as u32, n as u32);
    Ok(0)
}
