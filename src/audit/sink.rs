//! The audit file, written off the guest's path: events are appended to a
//! buffer in memory and a writer thread writes them out in batches, so an
//! audited call costs a memory copy instead of a `write(2)`.
//!
//! What is buffered still reaches the file whenever waligate ends the run
//! itself: every `exit()` (guest exit or `exit_group` from any thread,
//! policy kill, trap, host error) flushes through an `atexit` handler, and
//! [`Sink::flush`] is there for callers that must be sure before a step
//! like `execve`. Pending events are written before a fork, and the
//! child starts its own writer thread. Only a death waligate
//! does not see (SIGKILL, a fatal signal) can lose the events of the last
//! [`BATCH_DELAY`].

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// How long the writer waits after the first pending event before writing:
/// batches events without a wake-up per event, and bounds what a kill can lose.
pub const BATCH_DELAY: Duration = Duration::from_millis(2);
/// Pending bytes that make the writer write at once.
const BATCH_BYTES: usize = 64 << 10;
/// Pending bytes at which the guest thread writes them itself: the writer
/// has fallen behind (a slow disk) and memory must stay bounded.
const MAX_PENDING: usize = 4 << 20;

pub struct Sink {
    pending: Mutex<Pending>,
    /// Tells the writer that events are pending.
    wake: Condvar,
    /// The file and a spare buffer; held while writing, so batches reach
    /// the file in the order they were taken.
    out: Mutex<Out>,
}

struct Pending {
    bytes: Vec<u8>,
    writer: Writer,
}

struct Out {
    file: File,
    batch: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// None yet in this process (started with the first event).
    None,
    Running,
    /// It could not be started: every append writes at once.
    Unavailable,
}

/// The sink of this process, for the exit and fork handlers.
static SINK: OnceLock<&'static Sink> = OnceLock::new();
/// Events between taking their sequence number and being appended, and
/// whether the trail is ending: the end waits for the first and stops new
/// ones, so no thread's event goes missing from the middle of the trail
/// when another thread ends the process.
static IN_FLIGHT: AtomicU32 = AtomicU32::new(0);
static ENDING: AtomicBool = AtomicBool::new(false);
/// How long the end waits for events being rendered (microseconds of work,
/// unless their thread is descheduled).
const END_WAIT: Duration = Duration::from_millis(50);

/// Starts an event; `false` once the trail is ending (the event is dropped:
/// it happened after the end began). Pair a `true` with [`event_done`].
pub fn event_begins() -> bool {
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    if ENDING.load(Ordering::SeqCst) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        return false;
    }
    true
}

/// The event started by [`event_begins`] is appended.
pub fn event_done() {
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
}

/// Ends the trail: no event starts after this, and those under way are
/// appended first.
pub fn end_events() {
    ENDING.store(true, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + END_WAIT;
    while IN_FLIGHT.load(Ordering::SeqCst) != 0 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
}
/// This process's id, renewed in a fork child.
static PID: AtomicU32 = AtomicU32::new(0);

/// Locks a mutex whose data stays usable if a holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process id events carry (a fork child's own, not its parent's).
pub fn pid() -> u32 {
    match PID.load(Ordering::Relaxed) {
        0 => std::process::id(),
        pid => pid,
    }
}

impl Sink {
    /// The process's sink, writing to `file`. There is one per process: a
    /// second call gets the first sink back.
    pub fn open(file: File) -> &'static Sink {
        SINK.get_or_init(|| {
            PID.store(std::process::id(), Ordering::Relaxed);
            let sink = Box::leak(Box::new(Sink {
                pending: Mutex::new(Pending { bytes: Vec::with_capacity(BATCH_BYTES), writer: Writer::None }),
                wake: Condvar::new(),
                out: Mutex::new(Out { file, batch: Vec::with_capacity(BATCH_BYTES) }),
            }));
            // SAFETY: the handlers are plain functions that only use the
            // leaked sink; registering them has no other precondition.
            unsafe {
                libc::atexit(at_exit);
                libc::pthread_atfork(Some(before_fork), Some(after_fork_parent), Some(after_fork_child));
            }
            sink
        })
    }

    /// Queues whole lines for the writer.
    pub fn append(&'static self, lines: &[u8]) {
        let mut p = lock(&self.pending);
        let before = p.bytes.len();
        p.bytes.extend_from_slice(lines);
        let after = p.bytes.len();
        if p.writer == Writer::None {
            p.writer = if spawn_writer(self) { Writer::Running } else { Writer::Unavailable };
        }
        let writer = p.writer;
        drop(p);
        if writer != Writer::Running || after >= MAX_PENDING {
            self.flush();
        } else if before == 0 || (before < BATCH_BYTES && after >= BATCH_BYTES) {
            // One wake-up per batch: when it starts, and when it is full.
            self.wake.notify_one();
        }
    }

    /// The log's descriptor.
    pub fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&lock(&self.out).file)
    }

    /// Writes everything pending now.
    pub fn flush(&self) {
        let mut out = lock(&self.out);
        let out = &mut *out;
        std::mem::swap(&mut lock(&self.pending).bytes, &mut out.batch);
        if !out.batch.is_empty() {
            // An error (a full disk) loses this batch; the run goes on.
            let _ = out.file.write_all(&out.batch);
            out.batch.clear();
        }
    }

    fn writer(&'static self) {
        loop {
            let mut p = lock(&self.pending);
            while p.bytes.is_empty() {
                p = self.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
            let (p, _) = self
                .wake
                .wait_timeout_while(p, BATCH_DELAY, |p| p.bytes.len() < BATCH_BYTES)
                .unwrap_or_else(|e| e.into_inner());
            drop(p);
            self.flush();
        }
    }
}

/// Starts the writer thread with every signal blocked, so that signals for
/// the guest never land on it.
fn spawn_writer(sink: &'static Sink) -> bool {
    // SAFETY: sigset_t is plain data; the mask of this thread is restored.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let spawned = std::thread::Builder::new()
            .name("audit-writer".into())
            .stack_size(64 << 10)
            .spawn(move || sink.writer())
            .is_ok();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        spawned
    }
}

extern "C" fn at_exit() {
    if let Some(sink) = SINK.get() {
        sink.flush();
    }
}

thread_local! {
    /// The sink's locks, held by the forking thread across `fork`, so the
    /// child never inherits one held by a thread it does not have.
    static FORK_GUARDS: std::cell::RefCell<Option<(MutexGuard<'static, Out>, MutexGuard<'static, Pending>)>> =
        const { std::cell::RefCell::new(None) };
}

extern "C" fn before_fork() {
    if let Some(sink) = SINK.get() {
        // The order `flush` takes them in.
        let (mut out, mut pending) = (lock(&sink.out), lock(&sink.pending));
        // What happened before the fork goes first in the file.
        if !pending.bytes.is_empty() {
            let _ = out.file.write_all(&pending.bytes);
            pending.bytes.clear();
        }
        let guards = (out, pending);
        FORK_GUARDS.with(|g| *g.borrow_mut() = Some(guards));
    }
}

extern "C" fn after_fork_parent() {
    FORK_GUARDS.with(|g| drop(g.borrow_mut().take()));
}

extern "C" fn after_fork_child() {
    PID.store(std::process::id(), Ordering::Relaxed);
    // Threads rendering events stayed behind in the parent.
    IN_FLIGHT.store(0, Ordering::SeqCst);
    super::forget_tid();
    FORK_GUARDS.with(|g| {
        if let Some((_, mut pending)) = g.borrow_mut().take() {
            // The parent writes what was pending; the writer thread stayed
            // behind with it.
            pending.bytes.clear();
            pending.writer = Writer::None;
        }
    });
}
