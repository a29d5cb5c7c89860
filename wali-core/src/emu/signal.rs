//! Signal dispositions in the WALI layout, kept virtual where they would
//! touch the engine: the guest never replaces the handlers wasmtime needs,
//! never blocks them, and never sees the engine's alternate stack.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Caller;

/// Kernel signal count plus one (signals are 1..=64).
const NSIG: usize = 65;
/// WALI's `SIG_IGN` (not 1, which can be a table index).
pub const GUEST_SIG_IGN: u32 = -2i32 as u32;
pub const GUEST_SIG_DFL: u32 = 0;
/// Size of the kernel sigset the WALI ABI uses.
const SIGSET_SIZE: u64 = 8;
const MINSIGSTKSZ: u32 = 2048;
const SS_AUTODISARM: i32 = 1 << 31;

/// Signals wasmtime's trap handling owns.
pub const ENGINE_SIGNALS: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

fn engine_mask() -> u64 {
    ENGINE_SIGNALS.iter().fold(0, |m, &s| m | 1 << (s - 1))
}

/// A disposition in the guest's terms (handler is a table index).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestAction {
    pub handler: u32,
    pub flags: u64,
    pub restorer: u32,
    pub mask: u64,
}

impl GuestAction {
    const SIZE: usize = 24;

    fn decode(b: &[u8; Self::SIZE]) -> Self {
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        GuestAction { handler: u32_at(0), flags: u64_at(4), restorer: u32_at(12), mask: u64_at(16) }
    }

    fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..4].copy_from_slice(&self.handler.to_le_bytes());
        b[4..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..16].copy_from_slice(&self.restorer.to_le_bytes());
        b[16..24].copy_from_slice(&self.mask.to_le_bytes());
        b
    }
}

#[derive(Debug)]
pub struct SignalState {
    pub actions: [GuestAction; NSIG],
    /// Signals whose handler is running (bit n-1 for signal n).
    pub running: u64,
    /// The guest's alternate stack `{sp, flags, size}`, never installed.
    altstack: (u32, i32, u32),
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState { actions: [GuestAction::default(); NSIG], running: 0, altstack: (0, libc::SS_DISABLE, 0) }
    }
}

/// Signals that arrived for guest handlers and wait for delivery.
pub static PENDING: AtomicU64 = AtomicU64::new(0);

extern "C" fn mark_pending(signo: libc::c_int) {
    PENDING.fetch_or(1 << (signo - 1), Ordering::SeqCst);
}

/// The kernel disposition that stands in for a guest one.
fn kernel_handler(handler: u32) -> usize {
    match handler {
        GUEST_SIG_DFL => libc::SIG_DFL,
        GUEST_SIG_IGN => libc::SIG_IGN,
        _ => mark_pending as extern "C" fn(libc::c_int) as usize,
    }
}

pub fn rt_sigaction(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let (signum, act, oldact) = (call.raw[0] as i32, call.addr(1), call.addr(2));
    if call.raw[3] as u64 != SIGSET_SIZE || !(1..NSIG as i32).contains(&signum) {
        return Ok(Errno::EINVAL.ret());
    }
    let new = if act != 0 {
        let mut b = [0; GuestAction::SIZE];
        tri!(call.mem.read_into(act, &mut b));
        if signum == libc::SIGKILL || signum == libc::SIGSTOP {
            return Ok(Errno::EINVAL.ret());
        }
        Some(GuestAction::decode(&b))
    } else {
        None
    };
    if oldact != 0 {
        tri!(call.mem.range(oldact, GuestAction::SIZE as u64));
    }
    if let Some(new) = new
        && !ENGINE_SIGNALS.contains(&signum)
        && let Err(e) = install(signum, &new)
    {
        return Ok(e.ret());
    }
    let state = &mut caller.data_mut().signals;
    let old = state.actions[signum as usize];
    if let Some(new) = new {
        state.actions[signum as usize] = new;
    }
    if oldact != 0 {
        tri!(call.mem.write(oldact, &old.encode()));
    }
    Ok(0)
}

/// Installs the kernel disposition standing in for a guest one.
fn install(signum: i32, act: &GuestAction) -> Result<(), Errno> {
    // SA_RESTORER and SA_ONSTACK name host machinery the guest has no say in.
    let passed = libc::SA_RESTART | libc::SA_NOCLDSTOP | libc::SA_NOCLDWAIT | libc::SA_NODEFER | libc::SA_RESETHAND;
    // SAFETY: a zeroed sigaction is valid; the mask's first word is the
    // kernel's 64-signal set.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = kernel_handler(act.handler);
        sa.sa_flags = act.flags as i32 & passed;
        (&raw mut sa.sa_mask).cast::<u64>().write(act.mask & !engine_mask());
        if libc::sigaction(signum, &sa, std::ptr::null_mut()) != 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// Reads the guest's optional sigset at `addr` with engine signals removed.
fn guest_sigset(call: &Call<'_>, addr: u32) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    Ok(Some(call.mem.read_u64(addr)? & !engine_mask()))
}

pub fn rt_sigprocmask(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let set = tri!(guest_sigset(call, call.addr(1)));
    let setp = set.as_ref().map_or(0, |s| s as *const u64 as u64);
    Ok(sys(libc::SYS_rt_sigprocmask, [call.raw[0] as u64, setp, call.args[2], call.args[3], 0, 0]))
}

pub fn rt_sigsuspend(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let Some(set) = tri!(guest_sigset(call, call.addr(0))) else {
        return Ok(Errno::EFAULT.ret());
    };
    Ok(sys(libc::SYS_rt_sigsuspend, [&set as *const u64 as u64, call.args[1], 0, 0, 0, 0]))
}

pub fn sigaltstack(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let (ss, old) = (call.addr(0), call.addr(1));
    let new = if ss != 0 {
        let mut b = [0u8; 12];
        tri!(call.mem.read_into(ss, &mut b));
        let word = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let (sp, flags, size) = (word(0), word(4) as i32, word(8));
        if flags & !(libc::SS_DISABLE | SS_AUTODISARM) != 0 {
            return Ok(Errno::EINVAL.ret());
        }
        if flags & libc::SS_DISABLE == 0 && size < MINSIGSTKSZ {
            return Ok(Errno::ENOMEM.ret());
        }
        Some((sp, flags, size))
    } else {
        None
    };
    let state = &mut caller.data_mut().signals;
    let (sp, flags, size) = state.altstack;
    if old != 0 {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&sp.to_le_bytes());
        b[4..8].copy_from_slice(&flags.to_le_bytes());
        b[8..12].copy_from_slice(&size.to_le_bytes());
        tri!(call.mem.write(old, &b));
    }
    if let Some(new) = new {
        state.altstack = new;
    }
    Ok(0)
}

/// Runs the guest handlers of signals that arrived, at a safe point (after
/// a host call returned). A handler is `table0[handler](signo)`; the signal
/// is blocked while it runs unless `SA_NODEFER`, and `SA_RESETHAND` resets
/// the disposition first, as the kernel would do.
pub fn deliver_pending(caller: &mut Caller<'_, Guest>) -> wasmtime::Result<()> {
    if PENDING.load(Ordering::Relaxed) == 0 {
        return Ok(());
    }
    let Some(table) = caller.get_export(crate::rewrite::TABLE_EXPORT).and_then(|e| e.into_table()) else {
        return Ok(());
    };
    loop {
        let pending = PENDING.load(Ordering::SeqCst) & !caller.data().signals.running;
        let Some(bit) = (0..64).find(|b| pending & (1 << b) != 0) else { return Ok(()) };
        PENDING.fetch_and(!(1 << bit), Ordering::SeqCst);
        let signo = bit as usize + 1;
        let action = caller.data().signals.actions[signo];
        if matches!(action.handler, GUEST_SIG_DFL | GUEST_SIG_IGN) {
            continue;
        }
        if action.flags & libc::SA_RESETHAND as u64 != 0 {
            caller.data_mut().signals.actions[signo] = GuestAction::default();
            let _ = install(signo as i32, &GuestAction::default());
        }
        let Some(func) = table.get(&mut *caller, action.handler as u64).and_then(|r| r.as_func().flatten().copied())
        else {
            continue;
        };
        let Ok(handler) = func.typed::<i32, ()>(&*caller) else { continue };
        let deferred = action.flags & libc::SA_NODEFER as u64 == 0;
        if deferred {
            caller.data_mut().signals.running |= 1 << bit;
        }
        let result = handler.call(&mut *caller, signo as i32);
        if deferred {
            caller.data_mut().signals.running &= !(1 << bit);
        }
        result?;
    }
}
