//! Per-thread host state: the store data every host function sees. What the
//! threads of one guest process share lives in [`Process`].

use crate::emu::signal::ThreadSignals;
use crate::gate::Gate;
use crate::memory::LinearMemory;
use crate::process::Process;
use std::ffi::CString;
use std::sync::Arc;
use wasmtime::Table;

pub struct Guest {
    /// The memory of the module that imports `wali` (the program, or the
    /// WASI shim).
    pub memory: LinearMemory,
    /// A WASI application's memory, reached by the shim's `wali_app` calls.
    pub app_memory: Option<LinearMemory>,
    /// argv as the guest sees it; argv[0] is the module path as given.
    pub argv: Arc<[CString]>,
    pub process: Arc<Process>,
    pub signals: ThreadSignals,
    /// The word `set_tid_address` named: cleared and woken when this thread
    /// ends, as the kernel does for `CLONE_CHILD_CLEARTID`.
    pub clear_tid: u32,
    /// Table 0 of the instance that imports `wali`, for function pointers
    /// (signal handlers, thread entries).
    pub table: Option<Table>,
    pub gate: &'static dyn Gate,
    /// Reused buffer for arguments copied out of guest memory.
    pub scratch: Vec<u8>,
}

impl Guest {
    pub fn new(memory: LinearMemory, argv: Arc<[CString]>, process: Arc<Process>, gate: &'static dyn Gate) -> Self {
        Guest {
            memory,
            app_memory: None,
            argv,
            process,
            signals: ThreadSignals::default(),
            clear_tid: 0,
            table: None,
            gate,
            scratch: Vec::with_capacity(2 * crate::decode::PATH_MAX + 4096),
        }
    }

    /// State for a new thread of the same process.
    pub fn thread(&self) -> Self {
        let mut g = Guest::new(self.memory.clone(), self.argv.clone(), self.process.clone(), self.gate);
        g.app_memory = self.app_memory.clone();
        g
    }
}

/// Why guest execution stopped early; carried out of Wasm as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// The guest process exited (exit_group, __proc_exit, or exit of its
    /// last thread).
    #[error("guest exited with status {0}")]
    Exit(i32),
    /// The calling thread ended (`SYS_exit`); the process ends with it only
    /// if it was the last one.
    #[error("guest thread exited with status {0}")]
    ThreadExit(i32),
    /// The gate ended the guest.
    #[error("guest killed by policy: {0}")]
    Killed(String),
}
