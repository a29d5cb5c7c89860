//! A guest process: the state its threads share, how instances and threads
//! are started, and the one way the whole process ends.
//!
//! Each guest thread is a host thread running its own instance of the
//! module over the one shared linear memory (ABI section 4). The process
//! ends when any thread calls `exit_group`, traps or is killed, or when its
//! last thread calls `exit`; whichever thread gets there first reports the
//! outcome and exits the host process, which ends every other thread.

use crate::emu::mm::MmapState;
use crate::emu::signal::{self, GuestAction, SignalActions};
use crate::envfile::EnvFile;
use crate::errno::Errno;
use crate::guest::{Guest, Stop};
use crate::rewrite::{INIT_DATA_EXPORT, START_EXPORT, TABLE_EXPORT};
use crate::run::Outcome;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use wasmtime::{AsContextMut, Instance, Linker, Module, Store};

/// Host stack of a guest thread: room for wasmtime's default 512 KiB Wasm
/// stack plus host calls.
const THREAD_STACK: usize = 4 << 20;

/// Reports how the process ended (the embedder prints and audits it).
pub type ExitHook = &'static (dyn Fn(&Outcome) + Sync);

pub struct Process {
    mm: Mutex<MmapState>,
    actions: Mutex<SignalActions>,
    /// The environment file handed to the guest's libc; removed when the
    /// process ends or replaces its image.
    envfile: Mutex<Option<EnvFile>>,
    /// Guest threads alive, the main one included.
    threads: AtomicUsize,
    /// Set by the thread that ends the process.
    ending: AtomicBool,
    /// What a new thread instantiates; set once the imports are defined.
    spawner: OnceLock<Arc<Spawner>>,
    on_exit: Option<ExitHook>,
    /// What a `.wasm` execve hands the new waligate besides argv and env.
    pub handover: Option<ExecHandover>,
}

/// The embedder's state for the waligate a guest's execve of a `.wasm`
/// starts (its policy and audit trail): opaque bytes (no NUL) passed in
/// the `WALIGATE_HANDOVER` environment variable, and the descriptors (such
/// as the audit log) it must inherit.
pub struct ExecHandover {
    pub state: Vec<u8>,
    pub fds: Vec<std::os::fd::RawFd>,
}

/// The linked module a thread instantiates.
pub struct Spawner {
    pub linker: Linker<Guest>,
    pub module: Module,
}

/// Locks a mutex whose data stays consistent even if a holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Process {
    pub fn new(envfile: Option<EnvFile>, on_exit: Option<ExitHook>, handover: Option<ExecHandover>) -> Arc<Self> {
        Arc::new(Process {
            mm: Mutex::default(),
            actions: Mutex::new([GuestAction::default(); signal::NSIG]),
            envfile: Mutex::new(envfile),
            threads: AtomicUsize::new(1),
            ending: AtomicBool::new(false),
            spawner: OnceLock::new(),
            on_exit,
            handover,
        })
    }

    pub fn lock_mm(&self) -> MutexGuard<'_, MmapState> {
        lock(&self.mm)
    }

    pub fn lock_actions(&self) -> MutexGuard<'_, SignalActions> {
        lock(&self.actions)
    }

    pub fn lock_envfile(&self) -> MutexGuard<'_, Option<EnvFile>> {
        lock(&self.envfile)
    }

    /// Enables `__wasm_thread_spawn` for this process.
    pub fn set_spawner(&self, spawner: Spawner) {
        let _ = self.spawner.set(Arc::new(spawner));
    }

    /// Claims the end of the process for the calling thread and removes
    /// the env file; a thread that loses the claim (another one is ending
    /// the process) waits here for the exit.
    pub fn claim_end(&self) {
        if self.ending.swap(true, Ordering::SeqCst) {
            park_forever();
        }
        crate::limits::process_gone(true);
        drop(self.lock_envfile().take());
    }

    /// Ends the whole process with `outcome`, from any thread.
    pub fn end(&self, outcome: Outcome) -> ! {
        self.claim_end();
        if let Some(report) = self.on_exit {
            report(&outcome);
        }
        std::process::exit(outcome.status())
    }

    /// Accounts for a thread that ended with `exit(status)`: true if it was
    /// the last one, so the process ends with that status. As in the
    /// kernel, the count drops before the clear-tid word is cleared, so a
    /// thread woken by that word is never taken for the last one too early.
    pub fn thread_exited(&self, thread: &Guest) -> bool {
        let last = self.threads.fetch_sub(1, Ordering::SeqCst) == 1;
        clear_child_tid(thread);
        last
    }

    /// fork(2) of the whole host. Every host lock guest threads take is
    /// held across the fork, so the child, which has only the calling
    /// thread, never inherits one held by a thread that no longer exists.
    /// The engine compiles nothing after start-up and runs no threads of
    /// its own while guest code runs (compiler threads are idle and hold no
    /// locks), so its state in the child is consistent too.
    pub fn fork(&self) -> Result<libc::pid_t, Errno> {
        let mm = self.lock_mm();
        let actions = self.lock_actions();
        let mut envfile = self.lock_envfile();
        // SAFETY: see above; the child continues only in this thread.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            self.threads.store(1, Ordering::SeqCst);
            signal::forget_pending();
            // The parent owns the environment file and removes it.
            std::mem::forget(envfile.take());
        }
        drop((mm, actions, envfile));
        if pid < 0 { Err(Errno::last()) } else { Ok(pid) }
    }
}

pub fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// A store for one guest thread: signals that arrive during long
/// computation reach the guest through epoch interruption (the signal
/// handler bumps the engine's epoch; see [`signal::watch`]).
pub fn new_store(module: &Module, guest: Guest) -> Store<Guest> {
    let mut store = Store::new(module.engine(), guest);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(signal::on_epoch);
    store
}

/// Instantiates `module` for a guest thread and runs its initialisers: data
/// segments in the first instance only (see [`crate::rewrite`]), then the
/// module's own start function.
pub fn instantiate(
    linker: &Linker<Guest>,
    mut store: impl AsContextMut<Data = Guest>,
    module: &Module,
    first: bool,
) -> wasmtime::Result<Instance> {
    let mut store = store.as_context_mut();
    let instance = linker.instantiate(&mut store, module)?;
    if let Some(init) = instance.get_func(&mut store, INIT_DATA_EXPORT) {
        init.typed::<i32, ()>(&store)?.call(&mut store, i32::from(first))?;
    }
    if let Some(start) = instance.get_func(&mut store, START_EXPORT) {
        start.typed::<(), ()>(&store)?.call(&mut store, ())?;
    }
    Ok(instance)
}

/// How a thread's run of guest code ended.
pub enum Ending {
    /// The thread called `exit(status)`.
    Thread(i32),
    /// The whole process ends.
    Process(Outcome),
}

/// Classifies the error that stopped guest code; anything but a stop or a
/// trap is a host failure and stays an error.
pub fn ending(e: wasmtime::Error) -> Result<Ending, wasmtime::Error> {
    if let Some(stop) = e.downcast_ref::<Stop>() {
        return Ok(match stop {
            Stop::Exit(status) => Ending::Process(Outcome::Exited(*status)),
            Stop::ThreadExit(status) => Ending::Thread(*status),
            Stop::Killed(why) => Ending::Process(Outcome::Killed(why.clone())),
        });
    }
    let Some(trap) = e.downcast_ref::<wasmtime::Trap>() else {
        return Err(e);
    };
    let mut message = trap.to_string();
    if let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() {
        message = format!("{message}\n{bt}");
    }
    Ok(Ending::Process(Outcome::Trapped(message)))
}

/// `__wasm_thread_spawn(fnidx, arg)`: starts a host thread running
/// `table0[fnidx](tid, arg)` in a new instance and returns its kernel TID,
/// or a negative errno. A thread past the `threads` limit ends the guest.
pub fn spawn_thread(caller: &mut wasmtime::Caller<'_, Guest>, fnidx: u32, arg: u32) -> Result<i32, Stop> {
    crate::limits::check_threads(caller.data().process.threads.load(Ordering::SeqCst))?;
    Ok(start_thread(caller, fnidx, arg))
}

fn start_thread(caller: &mut wasmtime::Caller<'_, Guest>, fnidx: u32, arg: u32) -> i32 {
    let Some(spawner) = caller.data().process.spawner.get().cloned() else {
        return Errno::EAGAIN.ret() as i32;
    };
    // The entry must be an `(i32, i32) -> ()` function of table 0.
    let table = caller.data().table;
    let entry = table.and_then(|t| t.get(&mut *caller, fnidx as u64)).and_then(|r| r.as_func().flatten().copied());
    if entry.is_none_or(|f| f.typed::<(i32, i32), ()>(&*caller).is_err()) {
        return Errno::EINVAL.ret() as i32;
    }
    let guest = caller.data().thread();
    let process = guest.process.clone();
    process.threads.fetch_add(1, Ordering::SeqCst);
    let (started_tx, started) = std::sync::mpsc::sync_channel(1);
    let body = move || {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut store = new_store(&spawner.module, guest);
        let entry = instantiate(&spawner.linker, &mut store, &spawner.module, false).and_then(|instance| {
            let table =
                instance.get_table(&mut store, TABLE_EXPORT).ok_or_else(|| wasmtime::format_err!("no table 0"))?;
            store.data_mut().table = Some(table);
            let func = table.get(&mut store, fnidx as u64).and_then(|r| r.as_func().flatten().copied());
            let func = func.ok_or_else(|| wasmtime::format_err!("table entry {fnidx} is not a function"))?;
            func.typed::<(i32, i32), ()>(&store)
        });
        let entry = match entry {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!("cannot start a guest thread: {e:#}");
                let _ = started_tx.send(Err(()));
                return;
            }
        };
        let _ = started_tx.send(Ok(tid));
        let result = entry.call(&mut store, (tid, arg as i32));
        let ending = match result {
            // Returning from the entry point ends the thread, as exit(0).
            Ok(()) => Ending::Thread(0),
            Err(e) => ending(e).unwrap_or_else(|e| Ending::Process(Outcome::Trapped(format!("host failure: {e:#}")))),
        };
        match ending {
            Ending::Thread(status) => {
                if process.thread_exited(store.data()) {
                    process.end(Outcome::Exited(status));
                }
            }
            Ending::Process(outcome) => process.end(outcome),
        }
    };
    let thread = std::thread::Builder::new().name("guest-thread".into()).stack_size(THREAD_STACK).spawn(body);
    let tid = match thread {
        Ok(_) => started.recv().ok().and_then(Result::ok),
        Err(_) => None,
    };
    match tid {
        Some(tid) => tid,
        None => {
            caller.data().process.threads.fetch_sub(1, Ordering::SeqCst);
            Errno::EAGAIN.ret() as i32
        }
    }
}

/// Clears the word `set_tid_address` named and wakes one waiter on it, as
/// the kernel does when a thread with a clear-tid address exits.
fn clear_child_tid(guest: &Guest) {
    let addr = guest.clear_tid;
    let mem = guest.memory.view();
    if addr == 0 || !addr.is_multiple_of(4) || mem.write_u32(addr, 0).is_err() {
        return;
    }
    if let Ok(p) = mem.range(addr, 4) {
        crate::emu::sys(libc::SYS_futex, [p as u64, libc::FUTEX_WAKE as u64, 1, 0, 0, 0]);
    }
}
