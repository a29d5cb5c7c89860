//! Loading and running one WALI module.

use crate::cache;
use crate::envfile::EnvFile;
use crate::gate::Gate;
use crate::guest::{Guest, Stop};
use crate::linker::define_imports;
use crate::memory::LinearMemory;
use crate::rewrite::{MEMORY_MODULE, MEMORY_NAME, rewrite};
use anyhow::{Context, Result, bail};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use wasmtime::{Config, Engine, ExternType, Linker, Module, OptLevel, SharedMemory, Store};

/// Exit status of a guest that trapped (a Wasm fault).
pub const EXIT_TRAP: i32 = 134;
/// Exit status of a guest the policy killed.
pub const EXIT_KILLED: i32 = 137;

pub struct RunOptions {
    pub module: PathBuf,
    /// The guest's argv; argv[0] is the module path as given.
    pub argv: Vec<OsString>,
    /// The guest's environment, already written (see [`EnvFile::create`]).
    pub env: Option<EnvFile>,
    /// Where compiled modules are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    pub gate: &'static dyn Gate,
}

/// How a guest run ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(i32),
    Trapped(anyhow::Error),
    Killed(String),
}

impl Outcome {
    /// The process exit status that reports this outcome.
    pub fn status(&self) -> i32 {
        match self {
            Outcome::Exited(s) => *s,
            Outcome::Trapped(_) => EXIT_TRAP,
            Outcome::Killed(_) => EXIT_KILLED,
        }
    }
}

/// The engine configuration every WALI module is compiled for.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_threads(true).shared_memory(true).cranelift_opt_level(OptLevel::Speed);
    Ok(Engine::new(&config)?)
}

/// Compiles (or loads from the cache) the rewritten module.
pub fn load(engine: &Engine, path: &std::path::Path, cache_dir: Option<&std::path::Path>) -> Result<Module> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read module {}", path.display()))?;
    // Text modules are accepted for tests and experiments.
    let wasm = wat::parse_bytes(&raw).with_context(|| format!("{} is not a WebAssembly module", path.display()))?;
    let module = cache::load_or_compile(engine, &wasm, cache_dir, || {
        let (rewritten, _) = rewrite(&wasm)?;
        with_signals_blocked(|| Ok(Module::new(engine, rewritten)?))
    })
    .with_context(|| format!("cannot load {}", path.display()))?;
    Ok(module)
}

/// Runs `f` with every signal blocked, so threads it starts (the
/// compiler's worker pool) inherit a full mask: signals sent to the process
/// then reach the guest's thread, never a compiler thread.
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset_t is plain data; pthread_sigmask only changes this
    // thread's mask, restored below.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
}

pub fn run(opts: RunOptions) -> Result<Outcome> {
    let engine = engine()?;
    let module = load(&engine, &opts.module, opts.cache_dir.as_deref())?;
    let start = module.get_export("_start");
    if !matches!(start, Some(ExternType::Func(ref f)) if f.params().len() == 0 && f.results().len() == 0) {
        bail!("{} has no `_start: () -> ()` export; is it a WALI program?", opts.module.display());
    }
    let memory_type = module
        .imports()
        .find(|i| i.module() == MEMORY_MODULE && i.name() == MEMORY_NAME)
        .and_then(|i| i.ty().memory().cloned())
        .context("rewritten module lacks its memory import")?;
    let memory = SharedMemory::new(&engine, memory_type)
        .map_err(anyhow::Error::from)
        .context("cannot create the guest's memory")?;

    let argv = opts
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).context("argument contains a NUL byte"))
        .collect::<Result<Vec<_>>>()?;
    let guest = Guest::new(LinearMemory(memory.clone()), argv, opts.env, opts.gate);
    let mut store = Store::new(&engine, guest);
    let mut linker = Linker::new(&engine);
    define_imports(&mut linker, &module).with_context(|| format!("cannot link {}", opts.module.display()))?;
    linker.define(&store, MEMORY_MODULE, MEMORY_NAME, memory)?;

    let result = linker
        .instantiate(&mut store, &module)
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|start| start.call(&mut store, ()));
    Ok(match result {
        Ok(()) => Outcome::Exited(0),
        Err(e) => match e.downcast_ref::<Stop>() {
            Some(Stop::Exit(status)) => Outcome::Exited(*status),
            Some(Stop::Killed(why)) => Outcome::Killed(why.clone()),
            None => Outcome::Trapped(e.into()),
        },
    })
}
