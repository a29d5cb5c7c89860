//! Conversions of structs that hold pointers: iovec arrays, msghdr, and
//! pselect6's sigmask pair. Wasm pointers and lengths are 32-bit.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::{Errno, SysResult};
use crate::guest::{Guest, Stop};
use crate::memory::MemView;
use wasmtime::Caller;

/// Largest socket address (`sizeof(struct sockaddr_storage)`).
const SOCKADDR_MAX: u32 = 128;
/// Kernel limit on iovec entries.
const UIO_MAXIOV: i64 = 1024;

/// Translates the guest iovec array `{u32 base, u32 len}[count]`; a count
/// out of range is `bad_count` (EINVAL for readv, EMSGSIZE for msghdr).
#[doc(hidden)] // public for the fuzz targets
pub fn iovecs(mem: &MemView, addr: u32, count: i64, bad_count: Errno) -> SysResult<Vec<libc::iovec>> {
    if !(0..=UIO_MAXIOV).contains(&count) {
        return Err(bad_count);
    }
    let mut raw = vec![0u8; count as usize * 8];
    mem.read_into(addr, &mut raw)?;
    raw.chunks_exact(8)
        .map(|e| {
            let base = u32::from_le_bytes(e[0..4].try_into().unwrap());
            let len = u32::from_le_bytes(e[4..8].try_into().unwrap());
            Ok(libc::iovec { iov_base: mem.ptr(base, len as u64)?.cast(), iov_len: len as usize })
        })
        .collect()
}

fn vectored(call: &Call<'_>, nr: i64) -> Result<i64, Stop> {
    let a = &call.args;
    let iov = match iovecs(&call.mem, call.addr(1), call.raw[2] as i32 as i64, Errno::EINVAL) {
        Ok(iov) => iov,
        Err(e) => {
            // The kernel checks the descriptor, its mode and the offset
            // before the vector; an empty vector lets it report those first.
            let ret = sys(nr, [a[0], 0, 0, a[3], 0, 0]);
            return Ok(if ret < 0 { ret } else { e.ret() });
        }
    };
    Ok(sys(nr, [a[0], iov.as_ptr() as u64, iov.len() as u64, a[3], 0, 0]))
}

pub fn readv(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    vectored(call, libc::SYS_readv)
}

pub fn writev(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    vectored(call, libc::SYS_writev)
}

pub fn preadv(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    vectored(call, libc::SYS_preadv)
}

pub fn pwritev(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    vectored(call, libc::SYS_pwritev)
}

/// Offsets in the 36-byte Wasm `struct msghdr`.
pub(crate) mod msg {
    pub const NAME: u32 = 0;
    pub const NAMELEN: u32 = 4;
    pub const IOV: u32 = 8;
    pub const IOVLEN: u32 = 12;
    pub const CONTROL: u32 = 20;
    pub const CONTROLLEN: u32 = 24;
    pub const FLAGS: u32 = 32;
    pub const SIZE: u64 = 36;
}

/// A guest msghdr converted for the kernel; owns the iovecs it points to.
struct Msg {
    hdr: libc::msghdr,
    _iov: Vec<libc::iovec>,
}

/// Converts the guest msghdr at `addr`. `sent_name` is the destination
/// address decode copied out for the gate (sendmsg), which the kernel then
/// gets; `None` maps the name buffer in place (recvmsg's output).
fn msghdr(mem: &MemView, addr: u32, sent_name: Option<Option<&[u8]>>) -> SysResult<Msg> {
    mem.range(addr, msg::SIZE)?;
    let word = |o: u32| mem.read_u32(addr + o);
    // The kernel caps the name length at the largest socket address.
    let (name, namelen) = (word(msg::NAME)?, word(msg::NAMELEN)?.min(SOCKADDR_MAX));
    let iov = iovecs(mem, word(msg::IOV)?, word(msg::IOVLEN)? as i32 as i64, Errno(libc::EMSGSIZE))?;
    let (control, controllen) = (word(msg::CONTROL)?, word(msg::CONTROLLEN)?);
    let (name_ptr, namelen) = match sent_name {
        Some(Some(bytes)) => (bytes.as_ptr() as *mut u8, bytes.len() as u32),
        Some(None) => (std::ptr::null_mut(), 0),
        None => (mem.ptr(name, namelen as u64)?, namelen),
    };
    // SAFETY: msghdr is plain data; zero is a valid value for every field.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_name = name_ptr.cast();
    hdr.msg_namelen = namelen;
    hdr.msg_iov = iov.as_ptr() as *mut libc::iovec;
    hdr.msg_iovlen = iov.len();
    hdr.msg_control = mem.ptr(control, controllen as u64)?.cast();
    hdr.msg_controllen = controllen as usize;
    hdr.msg_flags = word(msg::FLAGS)? as i32;
    Ok(Msg { hdr, _iov: iov })
}

pub fn sendmsg(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let mut m = tri!(msghdr(&call.mem, call.addr(1), Some(call.copied(1))));
    // The control data is copied, so no other thread can change it after
    // the descriptors it passes are checked.
    let mut control = vec![0u8; m.hdr.msg_controllen.min(CONTROL_MAX + 1)];
    if control.len() > CONTROL_MAX {
        return Ok(Errno(libc::ENOBUFS).ret());
    }
    if !control.is_empty() {
        // SAFETY: msghdr() checked that the guest's control buffer lies in memory.
        unsafe { std::ptr::copy_nonoverlapping(m.hdr.msg_control.cast::<u8>(), control.as_mut_ptr(), control.len()) };
        tri!(check_passed_fds(&control));
        m.hdr.msg_control = control.as_mut_ptr().cast();
    }
    let a = &call.args;
    Ok(sys(libc::SYS_sendmsg, [a[0], &m.hdr as *const _ as u64, a[2], 0, 0, 0]))
}

/// Largest control buffer sendmsg takes (the kernel's default optmem_max).
const CONTROL_MAX: usize = 20480;

/// Refuses `SCM_RIGHTS` messages that would pass a host descriptor. The
/// control buffer uses the kernel's x86_64 `cmsghdr` layout, walked as the
/// kernel walks it.
fn check_passed_fds(control: &[u8]) -> SysResult<()> {
    const HDR: usize = 16;
    let mut at = 0;
    while control.len() - at >= HDR {
        let len = u64::from_le_bytes(control[at..at + 8].try_into().unwrap_or_default()) as usize;
        if len < HDR || len > control.len() - at {
            return Err(Errno::EINVAL);
        }
        let word = |o: usize| i32::from_le_bytes(control[at + o..at + o + 4].try_into().unwrap_or_default());
        if word(8) == libc::SOL_SOCKET && word(12) == libc::SCM_RIGHTS {
            let passed = (HDR..len).step_by(4).take_while(|o| o + 4 <= len);
            if passed.map(word).any(|fd| !crate::fdspace::guest_may_use(fd)) {
                return Err(Errno::EBADF);
            }
        }
        at += len.next_multiple_of(8).min(control.len() - at);
    }
    Ok(())
}

pub fn recvmsg(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let addr = call.addr(1);
    let mut m = tri!(msghdr(&call.mem, addr, None));
    let a = &call.args;
    let ret = sys(libc::SYS_recvmsg, [a[0], &mut m.hdr as *mut _ as u64, a[2], 0, 0, 0]);
    if ret >= 0 {
        // The kernel reports the lengths it used and the flags in the header.
        tri!(call.mem.write_u32(addr + msg::NAMELEN, m.hdr.msg_namelen));
        tri!(call.mem.write_u32(addr + msg::CONTROLLEN, m.hdr.msg_controllen as u32));
        tri!(call.mem.write_u32(addr + msg::FLAGS, m.hdr.msg_flags as u32));
    }
    Ok(ret)
}

/// pselect6's sixth argument is `{u32 sigset ptr in an 8-byte slot, u64 size}`.
pub fn pselect6(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let sm = call.addr(5);
    let mut kernel = [0u64; 2];
    if sm != 0 {
        let set = tri!(call.mem.read_u32(sm));
        let size = tri!(call.mem.read_u64(sm + 8));
        kernel = [tri!(call.mem.ptr(set, size.min(8))) as u64, size];
    }
    let a = &call.args;
    let smp = if sm != 0 { kernel.as_ptr() as u64 } else { 0 };
    Ok(sys(libc::SYS_pselect6, [a[0], a[1], a[2], a[3], a[4], smp]))
}
