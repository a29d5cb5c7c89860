//! WASI preview1 applications run on the WASI shim, itself a Wasm module
//! whose only way out is the `wali` imports: every syscall a WASI call
//! causes passes the gate like any WALI program's.
//!
//! Wiring: the application and the shim are linked into one module before
//! compilation ([`crate::merge`]), so the application's
//! `wasi_snapshot_preview1` imports are calls into the shim's code. The
//! linked module imports
//! - `wali.SYS_*` (pointers into the shim's memory) and `wali_app.SYS_*`
//!   (the same calls with pointers into the application's memory, for
//!   zero-copy data);
//! - the shim's configuration from `waligate`, and
//!   `waligate_bridge.copy_in/copy_out`, host functions that move bytes
//!   between the two memories;
//! - both memories.

use crate::guest::Guest;
use crate::memory::{LinearMemory, MemView};
use crate::merge::SHIM_MEMORY_NAME;
use crate::rewrite::START_EXPORT;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use wasmtime::{Caller, Engine, Instance, Linker, Module, SharedMemory, Store};

pub const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// The shim's configuration imports.
pub const CONFIG_MODULE: &str = "waligate";
/// The shim's imports for moving bytes between the two memories.
pub const BRIDGE_MODULE: &str = "waligate_bridge";

/// Every `wasi_snapshot_preview1` function.
pub const FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// The shim's setup export, run before the application starts.
pub const INIT: &str = "__waligate_init";

/// The WASI function the shim is carrying out (or [`INIT`]), from the Wasm
/// stack; only computed for calls that are audited.
pub fn current_call(caller: &Caller<'_, Guest>) -> Option<&'static str> {
    let trace = wasmtime::WasmBacktrace::force_capture(caller);
    trace.frames().iter().find_map(|f| {
        let name = f.func_name()?;
        FUNCTIONS.iter().chain([&INIT]).find(|&&w| w == name).copied()
    })
}

/// What a module expects to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    Wali,
    Wasi,
}

impl std::str::FromStr for Interface {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wali" => Ok(Interface::Wali),
            "wasi" => Ok(Interface::Wasi),
            other => Err(format!("unknown interface {other:?}: use wali or wasi")),
        }
    }
}

/// A preopened directory: the name the application sees, the host path
/// the shim opens (through WALI, so the policy applies).
#[derive(Clone, Debug)]
pub struct Preopen {
    pub guest: String,
    pub host: PathBuf,
}

/// The shim's configuration, as NUL-separated fields: the argument count
/// and arguments, the environment count and entries, the preopen count and
/// (guest name, host path) pairs. Counts are decimal.
pub fn config_bytes(args: &[Vec<u8>], env: &[String], preopens: &[Preopen]) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    let mut field = |b: &[u8]| {
        out.extend_from_slice(b);
        out.push(0);
    };
    field(args.len().to_string().as_bytes());
    args.iter().for_each(|a| field(a));
    field(env.len().to_string().as_bytes());
    env.iter().for_each(|e| field(e.as_bytes()));
    field(preopens.len().to_string().as_bytes());
    for p in preopens {
        field(p.guest.as_bytes());
        field(p.host.as_os_str().as_bytes());
    }
    out
}

/// The two memories of a WASI application linked with the shim.
pub struct Memories {
    pub app: SharedMemory,
    pub shim: SharedMemory,
}

/// Defines the host imports of a WASI application linked with the shim
/// ([`crate::merge`]): the shim's WALI calls, its configuration, the
/// bridge, and both memories.
pub fn define_host(
    store: &Store<Guest>,
    linker: &mut Linker<Guest>,
    module: &Module,
    memories: Memories,
    config: Vec<u8>,
) -> Result<()> {
    use crate::rewrite::{MEMORY_MODULE, MEMORY_NAME};
    // CONFIG_MODULE is MEMORY_MODULE: both are defined below.
    crate::linker::define_imports(linker, module, &[MEMORY_MODULE, BRIDGE_MODULE], store.data().gate)?;
    let len = config.len() as i32;
    linker.func_wrap(CONFIG_MODULE, "config_len", move || len)?;
    linker.func_wrap(CONFIG_MODULE, "config_copy", move |c: Caller<'_, Guest>, ptr: u32| {
        i32::from(c.data().memory.view().write(ptr, &config).is_err())
    })?;
    define_bridge(linker)?;
    linker.define(store, MEMORY_MODULE, MEMORY_NAME, memories.app)?;
    linker.define(store, MEMORY_MODULE, SHIM_MEMORY_NAME, memories.shim)?;
    Ok(())
}

/// Instantiates a linked WASI application, runs the shim's set-up
/// (configuration, preopens), then the application's start function if it
/// has one: its WASI calls need the set-up done.
pub fn instantiate(linker: &Linker<Guest>, store: &mut Store<Guest>, module: &Module) -> wasmtime::Result<Instance> {
    let instance = linker.instantiate(&mut *store, module)?;
    let init = instance.get_typed_func::<(), i32>(&mut *store, INIT)?;
    match init.call(&mut *store, ())? {
        0 => {}
        errno => wasmtime::bail!("the WASI shim could not open its preopened directories (WASI errno {errno})"),
    }
    if let Some(start) = instance.get_func(&mut *store, START_EXPORT) {
        start.typed::<(), ()>(&*store)?.call(&mut *store, ())?;
    }
    Ok(instance)
}

/// WASI's EFAULT, the bridge's answer for a range outside either memory.
const WASI_EFAULT: i32 = 21;

/// The shim's `copy_in` (application -> shim) and `copy_out` (shim ->
/// application): bounds-checked copies between the two memories, for the
/// small structs WASI and Linux lay out differently. 0 or `WASI_EFAULT`.
fn define_bridge(linker: &mut Linker<Guest>) -> Result<()> {
    fn views(c: &Caller<'_, Guest>) -> Option<(MemView, MemView)> {
        let g = c.data();
        Some((g.app_memory.as_ref()?.view(), g.memory.view()))
    }
    let status = |r: Option<crate::errno::SysResult<()>>| if matches!(r, Some(Ok(()))) { 0 } else { WASI_EFAULT };
    linker.func_wrap(BRIDGE_MODULE, "copy_in", move |c: Caller<'_, Guest>, dst: u32, src: u32, len: u32| {
        status(views(&c).map(|(app, shim)| app.copy_to(src, &shim, dst, len)))
    })?;
    linker.func_wrap(BRIDGE_MODULE, "copy_out", move |c: Caller<'_, Guest>, dst: u32, src: u32, len: u32| {
        status(views(&c).map(|(app, shim)| shim.copy_to(src, &app, dst, len)))
    })?;
    Ok(())
}

/// Creates the memory a rewritten module imports as `waligate.NAME`.
pub fn memory_for(engine: &Engine, module: &Module, name: &str) -> Result<SharedMemory> {
    use crate::rewrite::MEMORY_MODULE;
    let ty = module
        .imports()
        .find(|i| i.module() == MEMORY_MODULE && i.name() == name)
        .and_then(|i| i.ty().memory().cloned())
        .context("rewritten module lacks its memory import")?;
    let ty = match crate::limits::limits().memory_bytes {
        Some(bytes) => {
            let pages = bytes / ty.page_size();
            if ty.minimum() > pages {
                bail!(
                    "the module needs {} bytes of memory at start, more than the memory limit of {bytes}",
                    ty.minimum() * ty.page_size()
                );
            }
            let max = ty.maximum().map_or(pages, |m| m.min(pages));
            wasmtime::MemoryType::shared(ty.minimum() as u32, max as u32)
        }
        None => ty,
    };
    SharedMemory::new(engine, ty).map_err(anyhow::Error::from).context("cannot create a guest memory")
}

impl Guest {
    /// Guest state for a WASI application: the shim's memory is the one
    /// `wali` calls address, the application's the one `wali_app` calls do.
    pub fn for_wasi(
        shim: SharedMemory,
        app: SharedMemory,
        process: std::sync::Arc<crate::process::Process>,
        gate: &'static dyn crate::gate::Gate,
    ) -> Guest {
        let mut g = Guest::new(LinearMemory::new(shim), Vec::new().into(), process, gate);
        g.app_memory = Some(LinearMemory::without_null(app));
        g
    }
}
