//! Resource limits on a guest. Each is enforced where the resource is
//! spent, and exceeding one ends the guest with [`crate::EXIT_KILLED`]
//! after the gate records which limit it was ([`crate::Gate::limit`]):
//!
//! - `memory_bytes`: the linear memory's maximum. Growth through
//!   mmap/mremap past it ends the guest; a `memory.grow` instruction
//!   gets -1 there, as Wasm defines at a memory's maximum.
//! - `wall_time_ms`, `cpu_time_ms`: a watchdog thread per process (CPU time
//!   is the process's own; wall time is counted from the first start, across
//!   fork and execve).
//! - `open_files`: the guest's descriptor range (see fdspace); a call
//!   failing with `EMFILE` ends the guest.
//! - `threads`: live threads of the process, the main one included.
//! - `processes`: live processes of the guest's tree, counted in a shared
//!   page that fork keeps and execve passes on. The same page lists their
//!   pids: the only processes the guest may signal (see emu::kill), and
//!   the ones killed with the process that exceeds the limit, since the
//!   whole tree is the guest.
//! - `file_size_bytes`: `RLIMIT_FSIZE`, capped (see emu::rlimit), with
//!   `SIGXFSZ` ignored so the write fails with `EFBIG`, which ends the guest.

use crate::gate::Gate;
use crate::guest::Stop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub wall_time_ms: Option<u64>,
    pub cpu_time_ms: Option<u64>,
    pub open_files: Option<u64>,
    pub threads: Option<u64>,
    pub processes: Option<u64>,
    pub file_size_bytes: Option<u64>,
}

/// The limits in force and what enforcing them needs, set once per process.
struct Active {
    limits: Limits,
    gate: &'static dyn Gate,
    /// Wall-clock deadline, as Unix-epoch milliseconds (survives execve).
    deadline_ms: Option<u64>,
    tree: &'static Tree,
    /// The descriptor of the tree's memfd, which execve passes on.
    tree_fd: RawFd,
}

static ACTIVE: OnceLock<Active> = OnceLock::new();

/// Most live processes in one guest's tree.
pub const MAX_PROCESSES: usize = 4096;

/// The guest's live processes, in a memfd page every process of the tree
/// maps shared (fork keeps the mapping, execve passes the descriptor): the
/// `processes` limit counts them, and signals may only reach them.
#[repr(C)]
struct Tree {
    live: AtomicU64,
    /// The first process, which reports how the guest ended.
    root: AtomicI32,
    /// Set once the `processes` limit is ending the whole tree.
    ending: AtomicU32,
    pids: [AtomicI32; MAX_PROCESSES],
}

/// What a guest's execve passes on so the new process keeps counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    pub deadline_ms: Option<u64>,
    pub processes_fd: Option<RawFd>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// Sets up enforcement for this process; `carried` comes from the handover
/// of an execve (else the limits start counting now). Call before the
/// descriptor range is sealed: the tree's memfd is a host file.
pub fn activate(limits: Limits, gate: &'static dyn Gate, carried: Carried) -> anyhow::Result<()> {
    let deadline_ms = carried.deadline_ms.or(limits.wall_time_ms.map(|ms| now_ms() + ms));
    let (tree, tree_fd) = match carried.processes_fd {
        Some(fd) => map_tree(crate::fdspace::adopt(fd)?, false)?,
        None => {
            // SAFETY: the name is a valid C string.
            let fd = unsafe { libc::memfd_create(c"waligate-tree".as_ptr(), libc::MFD_CLOEXEC) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error().into());
            }
            // SAFETY: a descriptor just created and owned by nobody else.
            map_tree(crate::fdspace::to_host(unsafe { OwnedFd::from_raw_fd(fd) })?, true)?
        }
    };
    if let Some(bytes) = limits.file_size_bytes {
        crate::emu::rlimit::cap(libc::RLIMIT_FSIZE, bytes)?;
        // SAFETY: ignoring SIGXFSZ makes an oversized write fail with EFBIG.
        unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    }
    let active = Active { limits, gate, deadline_ms, tree, tree_fd };
    if ACTIVE.set(active).is_err() {
        anyhow::bail!("limits already set");
    }
    Ok(())
}

/// Maps the tree in memfd `fd` (in the host's descriptor range); a new
/// tree starts with this one process.
fn map_tree(fd: OwnedFd, new: bool) -> anyhow::Result<(&'static Tree, RawFd)> {
    let size = std::mem::size_of::<Tree>();
    // SAFETY: sizes our own memfd.
    if new && unsafe { libc::ftruncate(fd.as_raw_fd(), size as i64) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // Mapping past the end of a shorter file would fault on first use.
    let len = std::fs::File::from(fd.try_clone()?).metadata()?.len();
    if len < size as u64 {
        anyhow::bail!("the process-tree page handed over is {len} bytes, not {size}");
    }
    // SAFETY: maps the memfd shared; the mapping lives as long as the
    // process and is only accessed atomically.
    let page = unsafe {
        libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0)
    };
    if page == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: page-aligned, sized for a Tree of atomics, valid for the
    // process's lifetime (never unmapped).
    let tree = unsafe { &*(page as *const Tree) };
    if new {
        tree.live.store(1, Ordering::SeqCst);
        tree.root.store(getpid(), Ordering::SeqCst);
        tree.register(getpid());
    }
    // Kept open (close-on-exec) for a `.wasm` execve to pass on.
    let raw = fd.as_raw_fd();
    std::mem::forget(fd);
    Ok((tree, raw))
}

impl Tree {
    fn register(&self, pid: i32) -> bool {
        self.pids.iter().any(|slot| slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst).is_ok())
    }

    /// Takes `pid` out of the tree, if it is still listed.
    fn unregister(&self, pid: i32) {
        if self.pids.iter().any(|s| s.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok()) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Unlists the processes that no longer exist (killed before they
    /// could unlist themselves).
    fn prune(&self) {
        for slot in &self.pids {
            let pid = slot.load(Ordering::SeqCst);
            // SAFETY: signal 0 only checks that the process exists.
            let gone = pid > 0 && unsafe { libc::kill(pid, 0) } != 0 && crate::errno::Errno::last().0 == libc::ESRCH;
            if gone && slot.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                self.live.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// SIGKILLs every process of the tree but this one and the root.
    fn kill_others(&self) {
        let (me, root) = (getpid(), self.root.load(Ordering::SeqCst));
        for slot in &self.pids {
            match slot.load(Ordering::SeqCst) {
                0 => {}
                pid if pid == me || pid == root => {}
                // SAFETY: signals a process of the guest's own tree.
                pid => unsafe {
                    libc::kill(pid, libc::SIGKILL);
                },
            }
        }
    }

    fn contains(&self, pid: i32) -> bool {
        pid > 0 && self.pids.iter().any(|s| s.load(Ordering::Relaxed) == pid)
    }
}

/// Whether `pid` is a live process of the guest's tree (with no tree set
/// up, as in unit tests, only this process is).
pub fn in_tree(pid: i32) -> bool {
    match ACTIVE.get() {
        Some(a) => pid == getpid() || a.tree.contains(pid),
        None => pid == getpid(),
    }
}

/// What an execve must pass on, and the descriptors it must inherit.
pub fn carried() -> (Carried, Vec<RawFd>) {
    let Some(a) = ACTIVE.get() else { return (Carried::default(), Vec::new()) };
    (Carried { deadline_ms: a.deadline_ms, processes_fd: Some(a.tree_fd) }, vec![a.tree_fd])
}

pub fn limits() -> Limits {
    ACTIVE.get().map(|a| a.limits).unwrap_or_default()
}

/// Records that `name` was exceeded and returns the stop that ends the guest.
pub fn exceeded(name: &str, detail: &str) -> Stop {
    if let Some(a) = ACTIVE.get() {
        a.gate.limit(name, detail);
    }
    stop(name, detail)
}

fn stop(name: &str, detail: &str) -> Stop {
    Stop::Killed(format!("{name} limit exceeded ({detail})"))
}

/// Checks a call's result for a limit the kernel enforced for us.
#[inline(always)]
pub fn check_result(ret: i64) -> Result<i64, Stop> {
    if ret == -(libc::EMFILE as i64) || ret == -(libc::EFBIG as i64) {
        return kernel_limit(ret);
    }
    Ok(ret)
}

#[cold]
fn kernel_limit(ret: i64) -> Result<i64, Stop> {
    if ret == -(libc::EMFILE as i64)
        && let Some(n) = limits().open_files
    {
        return Err(exceeded("open_files", &format!("{n} descriptors")));
    }
    if ret == -(libc::EFBIG as i64)
        && let Some(n) = limits().file_size_bytes
    {
        return Err(exceeded("file_size_bytes", &format!("{n} bytes")));
    }
    Ok(ret)
}

/// Before each syscall: whether the `processes` limit is ending the tree
/// (then the root reports it; any other process, one forked too late to
/// be killed, ends quietly).
#[inline(always)]
pub fn check_tree() -> Result<(), Stop> {
    match ACTIVE.get() {
        Some(a) if a.tree.ending.load(Ordering::Relaxed) != 0 => tree_ending(a),
        _ => Ok(()),
    }
}

#[cold]
fn tree_ending(a: &Active) -> Result<(), Stop> {
    if getpid() != a.tree.root.load(Ordering::SeqCst) {
        a.gate.flush();
        // SAFETY: ends this process of a guest that is ending.
        unsafe { libc::_exit(crate::EXIT_KILLED) };
    }
    let n = a.limits.processes.unwrap_or_default();
    // The process that exceeded the limit recorded it already.
    Err(stop("processes", &format!("{n} processes")))
}

/// Before a thread starts: `live` threads run now.
pub fn check_threads(live: usize) -> Result<(), Stop> {
    match limits().threads {
        Some(n) if live as u64 >= n => Err(exceeded("threads", &format!("{n} threads"))),
        _ => Ok(()),
    }
}

/// Before a fork: counts the new process, or refuses it (past the limit
/// the guest ends; with the tree full, fork fails with `EAGAIN`).
pub fn fork_starting() -> Result<(), Stop> {
    let Some(a) = ACTIVE.get() else { return Ok(()) };
    let mut live = a.tree.live.fetch_add(1, Ordering::SeqCst);
    if a.limits.processes.is_some_and(|n| live >= n) {
        // Processes killed outright never unregistered themselves.
        a.tree.prune();
        live = a.tree.live.load(Ordering::SeqCst) - 1;
    }
    if let Some(n) = a.limits.processes
        && live >= n
    {
        a.tree.live.fetch_sub(1, Ordering::SeqCst);
        // A fork bomb is one guest: all of it ends. The first process here
        // records the limit and kills the rest but the root, which reports
        // the end at its next syscall (see `check_tree`); any other waits
        // to be killed.
        if a.tree.ending.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return check_tree();
        }
        let stop = exceeded("processes", &format!("{n} processes"));
        a.tree.kill_others();
        if getpid() != a.tree.root.load(Ordering::SeqCst) {
            a.gate.flush();
            // SAFETY: ends this process; the root reports for the guest.
            unsafe { libc::_exit(crate::EXIT_KILLED) };
        }
        return Err(stop);
    }
    Ok(())
}

/// In a new child: joins the tree. False if it is full (the child must
/// then exit at once).
pub fn forked_child() -> bool {
    ACTIVE.get().is_none_or(|a| a.tree.register(getpid()))
}

/// A fork failed (`this_process` false: the count taken for it is given
/// back), or this process of the tree ends.
pub fn process_gone(this_process: bool) {
    if let Some(a) = ACTIVE.get() {
        if this_process {
            a.tree.unregister(getpid());
        } else {
            a.tree.live.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Whether an mmap-family ENOMEM came from the memory limit: growing
/// `current` bytes of memory by `wanted` would pass it.
pub fn check_memory(ret: i64, current: u64, wanted: u64) -> Result<i64, Stop> {
    match limits().memory_bytes {
        Some(n) if ret == -(libc::ENOMEM as i64) && current.saturating_add(wanted) > n => {
            Err(exceeded("memory_bytes", &format!("{n} bytes")))
        }
        _ => Ok(ret),
    }
}

/// Starts this process's watchdog for the time limits (again in a forked
/// child, which has no other threads).
pub fn watch(process: std::sync::Arc<crate::process::Process>) {
    let Some(a) = ACTIVE.get() else { return };
    if a.deadline_ms.is_none() && a.limits.cpu_time_ms.is_none() {
        return;
    }
    let spawned = std::thread::Builder::new().name("waligate-watchdog".into()).stack_size(64 << 10).spawn(move || {
        let cpu_limit = a.limits.cpu_time_ms.map(Duration::from_millis);
        loop {
            let now = now_ms();
            if let Some(deadline) = a.deadline_ms
                && now >= deadline
            {
                let ms = a.limits.wall_time_ms.unwrap_or_default();
                end(&process, exceeded("wall_time_ms", &format!("{ms} ms")));
            }
            if let Some(limit) = cpu_limit
                && cpu_time() >= limit
            {
                end(&process, exceeded("cpu_time_ms", &format!("{} ms", limit.as_millis())));
            }
            // CPU time is sampled; wall time is slept to exactly.
            let to_deadline = a.deadline_ms.map_or(u64::MAX, |d| d.saturating_sub(now));
            let nap = if cpu_limit.is_some() { to_deadline.min(10) } else { to_deadline };
            std::thread::sleep(Duration::from_millis(nap.max(1)));
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the time-limit watchdog: {e}");
    }
}

fn end(process: &crate::process::Process, stop: Stop) -> ! {
    let why = match stop {
        Stop::Killed(why) => why,
        other => other.to_string(),
    };
    process.end(crate::run::Outcome::Killed(why))
}

/// CPU time this process has used.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: writes the local timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
