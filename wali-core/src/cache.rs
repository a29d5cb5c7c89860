//! Compiled-module cache: the second start of a module skips compilation.
//!
//! Entries are keyed by the BLAKE3 digest of the original module (hashing
//! the module is on the path of a start whose module has no stamp yet, see
//! `module_file`, and BLAKE3 runs several times faster than SHA-256 here)
//! and a tag of the cache format, the compiler's digest and the engine's
//! settings, which separates engine configurations (wasmtime also checks a
//! loaded module against its engine). The key
//! itself needs no BLAKE3: a start whose module has a stamp then never
//! sets BLAKE3 up (probing the CPU, slow in a VM).
//! Deserializing runs native code from the file, so the cache directory
//! must be private: it is created 0700 and refused if another user owns it
//! or others can write to it.

use anyhow::{Context, Result, bail};
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wasmtime::{Engine, Module};

/// Bump when the rewrite or the cache layout changes.
const FORMAT: &[u8] = b"waligate-module-cache-7";

/// The default cache directory: `$WALIGATE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/waligate`, else `$HOME/.cache/waligate`.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("WALIGATE_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("waligate")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/waligate")))
}

/// A tag of the cache format and what a compiled module depends on besides
/// its source: the compiler (by digest: wasmtime's version and settings)
/// and the engine's one setting that varies (see [`crate::run::config`]).
pub fn tag(compiler: &[u8; 32], interruptible: bool) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (FORMAT, compiler, interruptible).hash(&mut h);
    h.finish()
}

fn key(tag: u64, digests: &[&[u8; 32]]) -> String {
    let hex: String = digests.iter().flat_map(|d| d.iter()).map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{tag:016x}")
}

/// Whether `dir` can hold the cache: created if missing, owned by this
/// user and writable by nobody else (checked once per process).
pub fn is_private(dir: &Path) -> bool {
    ensure_private_dir(dir).is_ok()
}

/// Checks `dir` once per process (and creates it).
fn ensure_private_dir(dir: &Path) -> Result<()> {
    static CHECKED: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if checked.as_deref() == Some(dir) {
        return Ok(());
    }
    check_private_dir(dir)?;
    *checked = Some(dir.to_owned());
    Ok(())
}

fn check_private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create cache directory {}", dir.display()))?;
    let meta = std::fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid || meta.mode() & 0o022 != 0 {
        bail!("cache directory {} is not private (owner and mode must be yours, 0700)", dir.display());
    }
    Ok(())
}

/// Loads the compiled form of the module built from the modules whose
/// BLAKE3 digests are `digests` (one, or a WASI application's and the
/// shim's) from `dir`, or compiles it with `compile` (to the serialized
/// form) and stores the result. Cache failures fall back to compiling.
pub fn load_or_compile(
    engine: &Engine,
    tag: u64,
    digests: &[&[u8; 32]],
    dir: Option<&Path>,
    compile: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Module> {
    // SAFETY: the bytes were just produced by `precompile_module` for this
    // engine's configuration.
    let compiled = |bytes: &[u8]| unsafe { Module::deserialize(engine, bytes).map_err(|e| anyhow::anyhow!("{e:#}")) };
    let Some(dir) = dir else { return compiled(&compile()?) };
    if let Err(e) = ensure_private_dir(dir) {
        tracing::warn!("module cache disabled: {e:#}");
        return compiled(&compile()?);
    }
    let path = dir.join(format!("{}.cwasm", key(tag, digests)));
    if path.exists() {
        // The file stays open for the module's lifetime: keep it out of the
        // guest's descriptor range.
        let file = std::fs::File::open(&path).and_then(crate::fdspace::to_host);
        if let Some(Ok(meta)) = file.as_ref().ok().map(|f| f.metadata()) {
            crate::fdspace::protect(&meta);
        }
        // SAFETY: the file was written by `Module::serialize` for this
        // engine configuration, in a directory only this user can write.
        let module = file
            .map_err(anyhow::Error::from)
            .and_then(|f| unsafe { Module::deserialize_open_file(engine, f).map_err(|e| anyhow::anyhow!("{e:#}")) });
        match module {
            Ok(module) => {
                tracing::debug!("loaded compiled module from cache {}", path.display());
                return Ok(module);
            }
            Err(e) => tracing::warn!("ignoring unusable cache entry {}: {e:#}", path.display()),
        }
    }
    let bytes = compile()?;
    match store(dir, &path, &bytes) {
        Ok(()) => tracing::debug!("stored compiled module in cache {}", path.display()),
        Err(e) => tracing::warn!("could not store compiled module in cache: {e:#}"),
    }
    compiled(&bytes)
}

/// Writes `bytes` to `path` in the cache directory `dir` atomically: a
/// concurrent start reads the whole entry or none.
pub(crate) fn store(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
