//! Signal dispositions in the WALI layout, kept virtual where they would
//! touch the engine: the guest never replaces the handlers wasmtime needs,
//! never blocks them, and never sees the engine's alternate stack.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::{AsContextMut, Caller, Engine, StoreContextMut, UpdateDeadline};

/// Kernel signal count plus one (signals are 1..=64).
pub const NSIG: usize = 65;
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

/// The process's dispositions, indexed by signal number.
pub type SignalActions = [GuestAction; NSIG];

/// Signal state of one guest thread.
#[derive(Debug)]
pub struct ThreadSignals {
    /// The guest's alternate stack `{sp, flags, size}`, never installed.
    altstack: (u32, i32, u32),
    /// The store's epoch callback is running (it cannot be re-entered).
    in_epoch_callback: bool,
}

impl Default for ThreadSignals {
    fn default() -> Self {
        ThreadSignals { altstack: (0, libc::SS_DISABLE, 0), in_epoch_callback: false }
    }
}

/// The store's epoch callback: a signal bumped the epoch, so running code
/// stopped at an epoch check; deliver what arrived on this thread.
pub fn on_epoch(mut store: StoreContextMut<'_, Guest>) -> wasmtime::Result<UpdateDeadline> {
    store.data_mut().signals.in_epoch_callback = true;
    let delivered = deliver_pending(&mut store);
    store.data_mut().signals.in_epoch_callback = false;
    delivered?;
    Ok(UpdateDeadline::Continue(1))
}

thread_local! {
    /// Signals that arrived on this thread for guest handlers and wait for
    /// delivery (bit n-1 for signal n). A const-initialised atomic without
    /// destructor: safe to touch from a signal handler.
    static PENDING: AtomicU64 = const { AtomicU64::new(0) };
}

/// The engine whose epoch a signal bumps, so that running Wasm code stops
/// at its next epoch check and the store's callback delivers the signal.
static EPOCH: OnceLock<Engine> = OnceLock::new();

/// Lets signals interrupt long computation on `engine` (built with epoch
/// interruption).
pub fn watch(engine: &Engine) {
    let _ = EPOCH.set(engine.clone());
}

extern "C" fn mark_pending(signo: libc::c_int) {
    PENDING.with(|p| p.fetch_or(1 << (signo - 1), Ordering::SeqCst));
    // An atomic increment: async-signal-safe.
    if let Some(engine) = EPOCH.get() {
        engine.increment_epoch();
    }
}

/// A forked child starts with no pending signals.
pub fn forget_pending() {
    PENDING.with(|p| p.store(0, Ordering::SeqCst));
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
    let old = {
        let mut actions = caller.data().process.lock_actions();
        let old = actions[signum as usize];
        if let Some(new) = new {
            actions[signum as usize] = new;
        }
        old
    };
    if oldact != 0 {
        tri!(call.mem.write(oldact, &old.encode()));
    }
    Ok(0)
}

/// Installs the kernel disposition standing in for a guest one.
fn install(signum: i32, act: &GuestAction) -> Result<(), Errno> {
    // SA_RESTORER and SA_ONSTACK name host machinery the guest has no say
    // in. SA_RESTART is the host's to honour: a host call interrupted for
    // a guest handler returns EINTR, the handler runs, and then the call is
    // restarted or not (see `deliver_pending`).
    let passed = libc::SA_NOCLDSTOP | libc::SA_NOCLDWAIT;
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

/// Calls that return EINTR after a handler even with `SA_RESTART`
/// (signal(7)); futex waits are among them for musl, which retries.
const NEVER_RESTARTED: &[&str] = &[
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "nanosleep",
    "clock_nanosleep",
    "pause",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "futex",
    "io_getevents",
    "semop",
    "semtimedop",
    "msgrcv",
    "msgsnd",
];

/// Whether a call interrupted by handlers that all asked for `SA_RESTART`
/// is carried out again.
pub fn restartable(name: &str) -> bool {
    !NEVER_RESTARTED.contains(&name)
}

/// Runs the guest handlers of signals that arrived on this thread, at a
/// safe point: after a host call returned, or at an epoch check during
/// computation. A handler is `table0[handler](signo)`, run with the
/// signal (unless `SA_NODEFER`) and the action's mask blocked, as the
/// kernel would run it; `SA_RESETHAND` resets the disposition first.
/// Returns whether any handler ran and all that ran asked for `SA_RESTART`.
#[inline(always)]
pub fn deliver_pending(store: impl AsContextMut<Data = Guest>) -> wasmtime::Result<Option<bool>> {
    if PENDING.with(|p| p.load(Ordering::Relaxed)) == 0 {
        return Ok(None);
    }
    deliver(store)
}

#[cold]
#[inline(never)]
fn deliver(mut store: impl AsContextMut<Data = Guest>) -> wasmtime::Result<Option<bool>> {
    let mut store = store.as_context_mut();
    let Some(table) = store.data().table else {
        return Ok(None);
    };
    let mut restart = None;
    loop {
        let pending = PENDING.with(|p| p.load(Ordering::SeqCst));
        if pending == 0 {
            return Ok(restart);
        }
        let bit = pending.trailing_zeros();
        PENDING.with(|p| p.fetch_and(!(1 << bit), Ordering::SeqCst));
        let signo = bit as usize + 1;
        let action = {
            let mut actions = store.data().process.lock_actions();
            let action = actions[signo];
            if action.flags & libc::SA_RESETHAND as u64 != 0 && !matches!(action.handler, GUEST_SIG_DFL | GUEST_SIG_IGN)
            {
                actions[signo] = GuestAction::default();
                let _ = install(signo as i32, &GuestAction::default());
            }
            action
        };
        if matches!(action.handler, GUEST_SIG_DFL | GUEST_SIG_IGN) {
            continue;
        }
        let func = table.get(&mut store, action.handler as u64).and_then(|r| r.as_func().flatten().copied());
        let Some(handler) = func.and_then(|f| f.typed::<i32, ()>(&store).ok()) else {
            continue;
        };
        let mut block = action.mask;
        if action.flags & libc::SA_NODEFER as u64 == 0 {
            block |= 1 << bit;
        }
        let old = thread_mask(libc::SIG_BLOCK, block & !engine_mask());
        // The store's epoch callback is not reentrant: a handler runs to
        // its end (or its next host call) before other signals are seen.
        store.set_epoch_deadline(HANDLER_EPOCHS);
        let result = handler.call(&mut store, signo as i32);
        let nested = store.data().signals.in_epoch_callback;
        store.set_epoch_deadline(if nested { HANDLER_EPOCHS } else { 1 });
        thread_mask(libc::SIG_SETMASK, old);
        result?;
        let asked = action.flags & libc::SA_RESTART as u64 != 0;
        restart = Some(restart.unwrap_or(true) && asked);
    }
}

/// Epoch deadline while a handler runs: never reached.
const HANDLER_EPOCHS: u64 = 1 << 62;

/// Changes this thread's signal mask; returns the old one.
fn thread_mask(how: i32, set: u64) -> u64 {
    let mut old = 0u64;
    // SAFETY: 8-byte kernel sigsets on both sides.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how, &set as *const u64, &mut old as *mut u64, SIGSET_SIZE) };
    old
}
