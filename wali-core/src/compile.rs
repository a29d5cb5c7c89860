//! Compiling a module, in a process of its own.
//!
//! The runtime carries no compiler. Cranelift would double the binary, and
//! the dynamic loader copies and relocates its data pages at every start:
//! ~5% of a cached start, for work such a start never does. The
//! embedder embeds the compiler program instead (the `waligate-compile`
//! package, [`main`] here), which runs only for a module missing from the
//! cache: it reads the rewritten module on stdin and answers with the
//! serialized compiled module on stdout, or its error on stderr. Cranelift,
//! which reads untrusted modules, then also runs outside the runtime's
//! address space.

use crate::run::Embedded;
use anyhow::{Context, Result, bail};
use std::io::{Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

/// The compiler program's only option: compile for an interruptible
/// engine (see [`crate::run::engine`]).
const INTERRUPTIBLE: &str = "--interruptible";

/// Compiles `rewritten` for [`crate::run::engine`]`(interruptible)` with
/// the compiler `program`: the serialized module.
pub fn compile(program: &Embedded, interruptible: bool, rewritten: &[u8]) -> Result<Vec<u8>> {
    let exe = memfd(c"waligate-compile", program.bytes, true).context("cannot stage the compiler")?;
    let input = memfd(c"waligate-module", rewritten, false).context("cannot stage the module for the compiler")?;
    // The child execs its own copy of the descriptor (close-on-exec closes
    // it only once the program is loaded).
    let path = format!("/proc/self/fd/{}", exe.as_raw_fd());
    let out = Command::new(&path)
        .arg0("waligate-compile")
        .args(interruptible.then_some(INTERRUPTIBLE))
        .stdin(Stdio::from(input))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::PermissionDenied => " (the kernel's vm.memfd_noexec may forbid running a memfd)",
                std::io::ErrorKind::NotFound => " (is /proc mounted?)",
                _ => "",
            };
            anyhow::anyhow!("cannot start the compiler from {path}: {e}{hint}")
        })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let message = String::from_utf8_lossy(&out.stderr);
    match out.status.signal() {
        Some(signal) => bail!("the compiler was killed by signal {signal}: {}", message.trim_end()),
        None => bail!("{}", message.trim_end()),
    }
}

/// An anonymous file holding `bytes`, read from its start.
fn memfd(name: &std::ffi::CStr, bytes: &[u8], exec: bool) -> std::io::Result<std::fs::File> {
    let create = |flags| {
        // SAFETY: a NUL-terminated name; the descriptor is owned below.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
        // SAFETY: a descriptor just created and owned by nothing else.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) }).ok_or_else(std::io::Error::last_os_error)
    };
    // MFD_EXEC asks for an executable file where the kernel's memfd_noexec
    // setting would make it otherwise; kernels before 6.3 refuse the flag.
    let fd = match create(libc::MFD_CLOEXEC | if exec { libc::MFD_EXEC } else { 0 }) {
        Err(e) if exec && e.raw_os_error() == Some(libc::EINVAL) => create(libc::MFD_CLOEXEC),
        fd => fd,
    }?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

/// The compiler program: `waligate-compile [--interruptible] <MODULE >COMPILED`.
#[cfg(feature = "compiler")]
pub fn main() -> std::process::ExitCode {
    use std::io::Read;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let interruptible = match args.as_slice() {
        [] => false,
        [flag] if flag == INTERRUPTIBLE => true,
        _ => {
            eprintln!("usage: waligate-compile [{INTERRUPTIBLE}] <MODULE >COMPILED");
            return std::process::ExitCode::from(2);
        }
    };
    let mut wasm = Vec::new();
    let compiled = std::io::stdin()
        .read_to_end(&mut wasm)
        .context("cannot read the module")
        .and_then(|_| in_process(interruptible, &wasm));
    let written = compiled.and_then(|bytes| Ok(std::io::stdout().write_all(&bytes)?));
    match written {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Compiles `rewritten` in this process, as the compiler program does.
#[cfg(feature = "compiler")]
pub fn in_process(interruptible: bool, rewritten: &[u8]) -> Result<Vec<u8>> {
    let mut config = crate::run::config(interruptible);
    config.enable_compiler(true).cranelift_opt_level(wasmtime::OptLevel::Speed);
    let engine = wasmtime::Engine::new(&config)?;
    // Signals sent to the process reach no compiler thread.
    crate::run::with_signals_blocked(|| Ok(engine.precompile_module(rewritten)?))
}
