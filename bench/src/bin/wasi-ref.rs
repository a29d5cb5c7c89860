//! The start-up reference for the WASI table: a fresh process that runs a
//! WASI preview1 module on wasmtime-wasi, as `waligate run` does on the
//! shim, so both sides pay process start, engine creation, a module-cache
//! lookup and instantiation.
//!
//! `wasi-ref --cache DIR [--dir HOST::GUEST]... MODULE [ARGS]...`
//!
//! The cache mirrors waligate's: the module file is read, hashed with
//! SHA-256 (with the engine's compatibility hash) and the compiled module
//! deserialized from `DIR/KEY.cwasm` (compiled and stored on a miss). Stdio
//! is inherited; blocking I/O runs on the calling thread, as the wasmtime
//! CLI runs a synchronous embedding. Exit status: the guest's, 134 on a
//! trap, 125 when the module cannot be loaded.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cache = None;
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio().allow_blocking_current_thread(true);
    let module_path = loop {
        let arg = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--cache" => cache = Some(PathBuf::from(args.next().unwrap_or_else(|| usage()))),
            "--dir" => {
                let spec = args.next().unwrap_or_else(|| usage());
                let (host, guest) = spec.split_once("::").unwrap_or((&spec, &spec));
                builder.preopened_dir(host, guest, FsPerms::ReadWrite).unwrap_or_else(|e| fail(&e));
            }
            _ => break arg,
        }
    };
    let argv: Vec<String> = std::iter::once(module_path.clone()).chain(args).collect();
    builder.args(&argv);

    let engine = Engine::default();
    let module = load(&engine, Path::new(&module_path), cache.as_deref()).unwrap_or_else(|e| fail(&e));
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |t| t).unwrap_or_else(|e| fail(&e));
    let mut store = Store::new(&engine, builder.build_p1());
    let instance = linker.instantiate(&mut store, &module).unwrap_or_else(|e| fail(&e));
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap_or_else(|e| fail(&e));
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => exit.0,
            None => {
                eprintln!("wasi-ref: guest trapped: {e:?}");
                134
            }
        },
    };
    std::process::exit(status);
}

/// The compiled module, from `cache` when it holds it.
fn load(engine: &Engine, path: &Path, cache: Option<&Path>) -> wasmtime::Result<Module> {
    let wasm = std::fs::read(path)?;
    let Some(dir) = cache else { return Module::new(engine, &wasm) };
    let mut h = Sha(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update(&wasm);
    let key: String = h.0.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let file = dir.join(format!("{key}.cwasm"));
    if file.exists() {
        // SAFETY: written by `Module::serialize` below for this engine, in a
        // directory the benchmark created for itself.
        return unsafe { Module::deserialize_file(engine, &file) };
    }
    let module = Module::new(engine, &wasm)?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, module.serialize()?)?;
    std::fs::rename(&tmp, &file)?;
    Ok(module)
}

/// Feeds `Hash` output into SHA-256.
struct Sha(Sha256);

impl Hasher for Sha {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

fn usage() -> ! {
    eprintln!("usage: wasi-ref [--cache DIR] [--dir HOST::GUEST]... MODULE [ARGS]...");
    std::process::exit(2)
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("wasi-ref: {e}");
    std::process::exit(125)
}
