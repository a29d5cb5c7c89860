//! Calls whose third argument is a pointer or an integer depending on the
//! command: fcntl, ioctl, prctl and futex.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use wasmtime::Caller;

/// What an argument slot holds for one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// An integer, passed unchanged.
    Int,
    /// A pointer to this many bytes (read and/or written in place).
    Ptr(u64),
    /// Refused: the command would reach outside the guest.
    Refuse(Errno),
}

fn pass(call: &Call<'_>, nr: i64, slot_index: usize, slot: Slot) -> Result<i64, Stop> {
    let mut a = call.args;
    match slot {
        Slot::Int => a[slot_index] = call.raw[slot_index] as u64,
        Slot::Ptr(n) => a[slot_index] = tri!(call.mem.ptr(call.addr(slot_index), n)) as u64,
        Slot::Refuse(e) => return Ok(e.ret()),
    }
    Ok(sys(nr, a))
}

const F_SETOWN_EX: i32 = 15;
const F_GETOWN_EX: i32 = 16;

/// `struct flock` is 32 bytes on x86_64 and in WALI.
const FLOCK_SIZE: u64 = 32;

fn fcntl_slot(cmd: i32) -> Slot {
    match cmd {
        libc::F_GETLK | libc::F_SETLK | libc::F_SETLKW => Slot::Ptr(FLOCK_SIZE),
        libc::F_OFD_GETLK | libc::F_OFD_SETLK | libc::F_OFD_SETLKW => Slot::Ptr(FLOCK_SIZE),
        // struct f_owner_ex {int type; pid_t pid;}
        F_SETOWN_EX | F_GETOWN_EX => Slot::Ptr(8),
        // F_{GET,SET}_{FILE_,}RW_HINT take a u64 pointer.
        1035..=1038 => Slot::Ptr(8),
        _ => Slot::Int,
    }
}

pub fn fcntl(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    pass(call, libc::SYS_fcntl, 2, fcntl_slot(call.raw[1] as i32))
}

/// Legacy terminal and socket ioctls that predate the size encoding.
const LEGACY_IOCTLS: &[(u32, Slot)] = &[
    (0x5401, Slot::Ptr(36)),              // TCGETS
    (0x5402, Slot::Ptr(36)),              // TCSETS
    (0x5403, Slot::Ptr(36)),              // TCSETSW
    (0x5404, Slot::Ptr(36)),              // TCSETSF
    (0x5405, Slot::Ptr(18)),              // TCGETA
    (0x5406, Slot::Ptr(18)),              // TCSETA
    (0x5407, Slot::Ptr(18)),              // TCSETAW
    (0x5408, Slot::Ptr(18)),              // TCSETAF
    (0x5409, Slot::Int),                  // TCSBRK
    (0x540A, Slot::Int),                  // TCXONC
    (0x540B, Slot::Int),                  // TCFLSH
    (0x540C, Slot::Int),                  // TIOCEXCL
    (0x540D, Slot::Int),                  // TIOCNXCL
    (0x540E, Slot::Int),                  // TIOCSCTTY
    (0x540F, Slot::Ptr(4)),               // TIOCGPGRP
    (0x5410, Slot::Ptr(4)),               // TIOCSPGRP
    (0x5411, Slot::Ptr(4)),               // TIOCOUTQ
    (0x5412, Slot::Refuse(Errno::EPERM)), // TIOCSTI: injects input into the terminal
    (0x5413, Slot::Ptr(8)),               // TIOCGWINSZ
    (0x5414, Slot::Ptr(8)),               // TIOCSWINSZ
    (0x5415, Slot::Ptr(4)),               // TIOCMGET
    (0x5416, Slot::Ptr(4)),               // TIOCMBIS
    (0x5417, Slot::Ptr(4)),               // TIOCMBIC
    (0x5418, Slot::Ptr(4)),               // TIOCMSET
    (0x541B, Slot::Ptr(4)),               // FIONREAD
    (0x541C, Slot::Refuse(Errno::EPERM)), // TIOCLINUX: console selection and input
    (0x5420, Slot::Ptr(4)),               // TIOCPKT
    (0x5421, Slot::Ptr(4)),               // FIONBIO
    (0x5422, Slot::Int),                  // TIOCNOTTY
    (0x5423, Slot::Ptr(4)),               // TIOCSETD
    (0x5424, Slot::Ptr(4)),               // TIOCGETD
    (0x5425, Slot::Int),                  // TCSBRKP
    (0x5429, Slot::Ptr(4)),               // TIOCGSID
    (0x5450, Slot::Int),                  // FIONCLEX
    (0x5451, Slot::Int),                  // FIOCLEX
    (0x5452, Slot::Ptr(4)),               // FIOASYNC
    (0x5460, Slot::Ptr(4)),               // FIOQSIZE
    (0x8910, Slot::Ptr(40)),              // SIOCGIFNAME
    (0x8913, Slot::Ptr(40)),              // SIOCGIFFLAGS
    (0x8915, Slot::Ptr(40)),              // SIOCGIFADDR
    (0x8921, Slot::Ptr(40)),              // SIOCGIFMTU
    (0x8927, Slot::Ptr(40)),              // SIOCGIFHWADDR
    (0x8933, Slot::Ptr(40)),              // SIOCGIFINDEX
    (0x8906, Slot::Ptr(16)),              // SIOCGSTAMP
];

/// The argument of ioctl `req`: the legacy table, else the `_IOC` encoding
/// (direction bits 30-31, size bits 16-29). An unknown request without a
/// size is `ENOTTY`, as the kernel answers for unsupported requests.
fn ioctl_slot(req: u32) -> Slot {
    if let Some(&(_, slot)) = LEGACY_IOCTLS.iter().find(|(r, _)| *r == req) {
        return slot;
    }
    let (dir, size) = (req >> 30, (req >> 16) & 0x3fff);
    match (dir, size) {
        (0, _) => Slot::Refuse(Errno::ENOTTY),
        (_, size) => Slot::Ptr(size as u64),
    }
}

pub fn ioctl(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    pass(call, libc::SYS_ioctl, 2, ioctl_slot(call.raw[1] as u32))
}

fn prctl_slot(option: i32) -> Slot {
    match option {
        libc::PR_SET_NAME | libc::PR_GET_NAME => Slot::Ptr(16),
        libc::PR_GET_PDEATHSIG | libc::PR_GET_CHILD_SUBREAPER => Slot::Ptr(4),
        libc::PR_SET_PDEATHSIG
        | libc::PR_GET_DUMPABLE
        | libc::PR_SET_DUMPABLE
        | libc::PR_GET_KEEPCAPS
        | libc::PR_SET_KEEPCAPS
        | libc::PR_CAPBSET_READ
        | libc::PR_GET_SECUREBITS
        | libc::PR_SET_TIMERSLACK
        | libc::PR_GET_TIMERSLACK
        | libc::PR_SET_CHILD_SUBREAPER
        | libc::PR_SET_NO_NEW_PRIVS
        | libc::PR_GET_NO_NEW_PRIVS => Slot::Int,
        // Everything else either holds pointers into host structures
        // (PR_SET_MM, PR_SET_SECCOMP) or reconfigures the engine's process.
        _ => Slot::Refuse(Errno::EINVAL),
    }
}

pub fn prctl(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    pass(call, libc::SYS_prctl, 1, prctl_slot(call.raw[0] as i32))
}

/// futex: `uaddr` is always a pointer; the fourth slot is a timeout pointer
/// for the waiting commands and an integer (`val2`) for requeue/wake-op;
/// `uaddr2` is a pointer only for the commands that use it.
pub fn futex(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let cmd = call.raw[1] as i32 & libc::FUTEX_CMD_MASK;
    let (timeout, uaddr2) = match cmd {
        libc::FUTEX_WAIT | libc::FUTEX_WAIT_BITSET | libc::FUTEX_LOCK_PI | 13 => (Slot::Ptr(16), false),
        libc::FUTEX_WAIT_REQUEUE_PI => (Slot::Ptr(16), true),
        libc::FUTEX_REQUEUE | libc::FUTEX_CMP_REQUEUE | libc::FUTEX_WAKE_OP | libc::FUTEX_CMP_REQUEUE_PI => {
            (Slot::Int, true)
        }
        _ => (Slot::Int, false),
    };
    let mut a = call.args;
    a[0] = tri!(call.mem.range(call.addr(0), 4)) as u64;
    a[3] = match timeout {
        Slot::Ptr(n) => tri!(call.mem.ptr(call.addr(3), n)) as u64,
        _ => call.raw[3] as u32 as u64,
    };
    a[4] = if uaddr2 { tri!(call.mem.range(call.addr(4), 4)) as u64 } else { call.raw[4] as u32 as u64 };
    Ok(sys(libc::SYS_futex, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_slots_follow_encoding() {
        assert_eq!(ioctl_slot(0x5413), Slot::Ptr(8));
        assert_eq!(ioctl_slot(0x5412), Slot::Refuse(Errno::EPERM));
        // TIOCGPTN = _IOR('T', 0x30, unsigned int)
        assert_eq!(ioctl_slot(0x80045430), Slot::Ptr(4));
        assert_eq!(ioctl_slot(0x1234), Slot::Refuse(Errno::ENOTTY));
    }
}
