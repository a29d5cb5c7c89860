//! Loading and running one WALI module.

use crate::cache;
use crate::envfile::EnvFile;
use crate::gate::Gate;
use crate::guest::Guest;
use crate::linker::define_imports;
use crate::memory::LinearMemory;
use crate::merge::SHIM_MEMORY_NAME;
use crate::module_file::ModuleFile;
use crate::process::{Ending, Process, Spawner, ending, instantiate, new_store, park_forever};
use crate::rewrite::{MEMORY_MODULE, MEMORY_NAME, TABLE_EXPORT, rewrite};
use crate::wasi::{self, Interface, Preopen};
use anyhow::{Context, Result, bail};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use wasmtime::{Config, Engine, ExternType, Linker, Module};

/// Exit status of a guest that trapped (a Wasm fault).
pub const EXIT_TRAP: i32 = 134;
/// Exit status of a guest the policy killed.
pub const EXIT_KILLED: i32 = 137;

pub struct RunOptions {
    /// The module, opened (its imports read and its bytes hashed).
    pub module: ModuleFile,
    /// The guest's argv; argv[0] is the module path as given.
    pub argv: Vec<OsString>,
    /// The guest's environment, already written (see [`EnvFile::create`]).
    pub env: Option<EnvFile>,
    /// Where compiled modules are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    pub gate: &'static dyn Gate,
    /// The WASI shim module (embedded by the CLI).
    pub shim: Embedded,
    /// The compiler program (embedded by the CLI, see [`crate::compile`]).
    pub compiler: Embedded,
    /// Force the interface instead of detecting it from the imports.
    pub interface: Option<Interface>,
    /// Preopened directories for a WASI application.
    pub preopens: Vec<Preopen>,
    /// `KEY=VALUE` entries for a WASI application (a WALI program reads
    /// `env` instead).
    pub wasi_env: Vec<String>,
    /// Reports the outcome when a thread other than the main one ends the
    /// process (the process then exits with the outcome's status).
    pub on_exit: Option<crate::process::ExitHook>,
    /// Runs once every module is loaded and the host's files are open,
    /// before any Wasm runs, the WASI shim's included (the embedder installs
    /// its kernel backstop here).
    pub before_guest: Option<Box<dyn FnOnce() -> Result<()>>>,
    /// Handed to the waligate a guest's execve of a `.wasm` starts.
    pub exec_handover: Option<crate::process::ExecHandover>,
    pub limits: crate::limits::Limits,
    /// Limit state a guest's execve handed over (deadline, process count).
    pub carried_limits: crate::limits::Carried,
}

/// A module or program built into the embedder, with the digest (BLAKE3,
/// part of the cache key) worked out when it was built rather than at
/// every start.
#[derive(Clone, Copy)]
pub struct Embedded {
    pub bytes: &'static [u8],
    pub digest: [u8; 32],
}

/// How a guest run ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(i32),
    /// A Wasm fault: the trap message and the Wasm backtrace.
    Trapped(String),
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

/// The configuration of the engine guests run on, and of the compiler's
/// (which adds Cranelift: see [`crate::compile`]). `interruptible`:
/// compiled code checks the epoch, so a signal reaches a guest handler even
/// in a loop without host calls (see emu::signal); it costs up to a few
/// tenths on tight loops, so only guests that can install handlers get it.
pub fn config(interruptible: bool) -> Config {
    let mut config = Config::new();
    config
        .wasm_threads(true)
        .shared_memory(true)
        .epoch_interruption(interruptible)
        // Registering each compiled function's unwind tables with the system
        // unwinder costs start-up and serves only native debuggers: host
        // panics never unwind through Wasm frames (wasmtime stops them at
        // the boundary) and Wasm backtraces walk frame pointers.
        .native_unwind_info(false);
    config
}

/// The engine guests run on. It loads compiled modules and compiles none.
pub fn engine(interruptible: bool) -> Result<Engine> {
    #[allow(unused_mut)]
    let mut config = config(interruptible);
    // Where the compiler is built in (tests), setting Cranelift up for the
    // host (probing the CPU's features) would be a tenth of a cached start.
    #[cfg(feature = "compiler")]
    config.enable_compiler(false);
    let engine = Engine::new(&config)?;
    crate::emu::signal::watch(&engine);
    Ok(engine)
}

/// Compiles the rewritten form of `wasm` in this process, uncached (for
/// tests and fuzzing; `waligate run` compiles in the compiler's process).
#[cfg(feature = "compiler")]
pub fn load_bytes(engine: &Engine, wasm: &[u8], interruptible: bool) -> Result<Module> {
    let compiled = crate::compile::in_process(interruptible, &rewrite(wasm)?)?;
    // SAFETY: just produced by `precompile_module` for this configuration.
    unsafe { Ok(Module::deserialize(engine, &compiled)?) }
}

/// Loads (from the cache) or compiles a module file, read whole only to
/// compile it.
fn load_file(
    engine: &Engine,
    file: &ModuleFile,
    compiler: &Embedded,
    cache_dir: Option<&std::path::Path>,
) -> Result<Module> {
    load_cached(engine, file, compiler, cache_dir, &[file.digest()], || rewrite(&file.bytes()?))
}

/// Loads (from the cache) or compiles a WASI application linked with the
/// shim ([`crate::merge`]).
fn load_wasi(
    engine: &Engine,
    file: &ModuleFile,
    shim: &Embedded,
    compiler: &Embedded,
    cache_dir: Option<&std::path::Path>,
) -> Result<Module> {
    load_cached(engine, file, compiler, cache_dir, &[file.digest(), &shim.digest], || {
        let app = rewrite(&file.bytes()?)?;
        let shim = rewrite(shim.bytes).context("the WASI shim")?;
        crate::merge::merge(&app, &shim)
    })
}

/// The module built from the modules whose digests are `sources`, from the
/// cache or compiled by the `compiler` program from what `rewritten` makes,
/// for the engine `file` needs.
fn load_cached(
    engine: &Engine,
    file: &ModuleFile,
    compiler: &Embedded,
    cache_dir: Option<&std::path::Path>,
    sources: &[&[u8; 32]],
    rewritten: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Module> {
    let interruptible = file.installs_handlers();
    let tag = cache::tag(&compiler.digest, interruptible);
    cache::load_or_compile(engine, tag, sources, cache_dir, || {
        crate::compile::compile(compiler, interruptible, &rewritten()?)
    })
}

/// Runs `f` with every signal blocked, so threads it starts (the limits'
/// watchdog, an in-process compiler's worker pool) inherit a full mask:
/// signals sent to the process then reach the guest's threads only.
pub(crate) fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
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
    let engine = engine(opts.module.installs_handlers())?;
    let interface = opts.interface.unwrap_or_else(|| opts.module.interface());
    let cache_dir = opts.cache_dir.as_deref();
    let module = match interface {
        Interface::Wali => load_file(&engine, &opts.module, &opts.compiler, cache_dir),
        Interface::Wasi => load_wasi(&engine, &opts.module, &opts.shim, &opts.compiler, cache_dir),
    }
    .with_context(|| format!("cannot load {}", opts.module.path.display()))?;
    crate::limits::activate(opts.limits, opts.gate, opts.carried_limits)?;
    let start = module.get_export("_start");
    if !matches!(start, Some(ExternType::Func(ref f)) if f.params().len() == 0 && f.results().len() == 0) {
        let what = if interface == Interface::Wasi { "a WASI command" } else { "a WALI program" };
        bail!("{} has no `_start: () -> ()` export; is it {what}?", opts.module.path.display());
    }
    let app_memory = wasi::memory_for(&engine, &module, MEMORY_NAME)?;
    let argv = opts
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).context("argument contains a NUL byte"))
        .collect::<Result<Vec<_>>>()?;
    // Every host file is open: from here on, new descriptors are the
    // guest's (the WASI shim's preopens included).
    crate::fdspace::seal()?;
    let process = Process::new(opts.env, opts.on_exit, opts.exec_handover);
    // Like the compiler's threads, the watchdog leaves signals to the guest.
    with_signals_blocked(|| crate::limits::watch(process.clone()));
    // The kernel backstop stands before any Wasm runs, the WASI shim's
    // start-up (opening the preopens) included.
    if let Some(hook) = opts.before_guest {
        hook()?;
    }
    let mut linker = Linker::new(&engine);
    let mut store = match interface {
        Interface::Wali => {
            let guest = Guest::new(LinearMemory::new(app_memory.clone()), argv.into(), process.clone(), opts.gate);
            let store = new_store(&module, guest);
            define_imports(&mut linker, &module, &[MEMORY_MODULE], opts.gate)
                .with_context(|| format!("cannot link {}", opts.module.path.display()))?;
            linker.define(&store, MEMORY_MODULE, MEMORY_NAME, app_memory)?;
            process.set_spawner(Spawner { linker: linker.clone(), module: module.clone() });
            store
        }
        Interface::Wasi => {
            let shim_memory = wasi::memory_for(&engine, &module, SHIM_MEMORY_NAME)?;
            let guest = Guest::for_wasi(shim_memory.clone(), app_memory.clone(), process.clone(), opts.gate);
            let store = new_store(&module, guest);
            let args: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
            let config = wasi::config_bytes(&args, &opts.wasi_env, &opts.preopens);
            let memories = wasi::Memories { app: app_memory, shim: shim_memory };
            wasi::define_host(&store, &mut linker, &module, memories, config)
                .with_context(|| format!("cannot link {}", opts.module.path.display()))?;
            store
        }
    };
    let instance = match interface {
        Interface::Wali => instantiate(&linker, &mut store, &module, true),
        Interface::Wasi => wasi::instantiate(&linker, &mut store, &module),
    };
    let result = instance.and_then(|instance| {
        if interface == Interface::Wali {
            store.data_mut().table = instance.get_table(&mut store, TABLE_EXPORT);
        }
        instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())
    });
    let ending = match result {
        Ok(()) => Ending::Process(Outcome::Exited(0)),
        // Anything but a stop or a trap (an import the host cannot
        // satisfy, say) is a failure to start the guest, not its fault.
        Err(e) => ending(e).map_err(|e| e.context(format!("cannot start {}", opts.module.path.display())))?,
    };
    let outcome = match ending {
        Ending::Process(outcome) => outcome,
        Ending::Thread(status) => {
            if !process.thread_exited(store.data()) {
                // Other threads run on; the last one ends the process.
                park_forever();
            }
            Outcome::Exited(status)
        }
    };
    process.claim_end();
    // The process ends with the guest: tearing down the store, linker,
    // modules and memories (unmapping each) would only delay the exit.
    std::mem::forget((store, linker, module, engine));
    Ok(outcome)
}
