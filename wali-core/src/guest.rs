//! Per-guest host state: the store data every host function sees.

use crate::emu::mm::MmapState;
use crate::emu::signal::SignalState;
use crate::envfile::EnvFile;
use crate::gate::Gate;
use crate::memory::LinearMemory;
use std::ffi::CString;

pub struct Guest {
    /// The memory of the module that imports `wali` (the program, or the
    /// WASI shim).
    pub memory: LinearMemory,
    /// A WASI application's memory, reached by the shim's `wali_app` calls.
    pub app_memory: Option<LinearMemory>,
    /// argv as the guest sees it; argv[0] is the module path as given.
    pub argv: Vec<CString>,
    /// The environment file handed to the guest's libc, if any.
    pub envfile: Option<EnvFile>,
    pub mm: MmapState,
    pub signals: SignalState,
    pub gate: &'static dyn Gate,
    /// Reused buffer for arguments copied out of guest memory.
    pub scratch: Vec<u8>,
}

impl Guest {
    pub fn new(memory: LinearMemory, argv: Vec<CString>, envfile: Option<EnvFile>, gate: &'static dyn Gate) -> Self {
        Guest {
            memory,
            app_memory: None,
            argv,
            envfile,
            mm: MmapState::default(),
            signals: SignalState::default(),
            gate,
            scratch: Vec::with_capacity(2 * crate::decode::PATH_MAX + 4096),
        }
    }
}

/// Why guest execution stopped early; carried out of Wasm as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// The guest exited (exit_group, __proc_exit, or exit of its last thread).
    #[error("guest exited with status {0}")]
    Exit(i32),
    /// The gate ended the guest.
    #[error("guest killed by policy: {0}")]
    Killed(String),
}
