//! Satisfies a WALI module's imports. Every `wali.SYS_*` import becomes a
//! host function of exactly the type the module declares, routed into the
//! one dispatch path; the auxiliary imports (startup, argv, environment,
//! threads, setjmp) are checked against their fixed types.

use crate::dispatch::{self, Space};
use crate::emu::signal;
use crate::errno::Errno;
use crate::gate::Gate;
use crate::guest::{Guest, Stop};
use crate::run::Outcome;
use crate::table::{self, Imp, Syscall, Why};
use anyhow::{Result, bail};
use std::mem::MaybeUninit;
use wasmtime::{Caller, ExternType, FuncType, Linker, Module, ValRaw, ValType};

/// Module name of the WALI imports.
pub const WALI: &str = "wali";
/// The same syscalls with pointers into the WASI application's memory,
/// imported by the shim for data that needs no conversion.
pub const WALI_APP: &str = "wali_app";

/// Other spellings of syscalls that real binaries import.
const ALIASES: &[(&str, &str)] = &[("fstatat", "newfstatat"), ("fadvise64", "fadvise")];

/// How a declared import type maps onto a syscall call.
#[derive(Clone, Copy)]
struct Shape {
    params: usize,
    /// Bit i set: parameter i is i64.
    wide: u8,
    /// `Some(true)` i64 result, `Some(false)` i32, `None` no result.
    result: Option<bool>,
}

fn shape(ty: &FuncType) -> Option<Shape> {
    let mut wide = 0u8;
    let mut params = 0;
    for (i, p) in ty.params().enumerate() {
        match p {
            ValType::I32 => {}
            ValType::I64 => wide |= 1 << i,
            _ => return None,
        }
        params = i + 1;
    }
    let result = match ty.results().collect::<Vec<_>>().as_slice() {
        [] => None,
        [ValType::I32] => Some(false),
        [ValType::I64] => Some(true),
        _ => return None,
    };
    (params <= 6).then_some(Shape { params, wide, result })
}

/// The row a `SYS_<name>` import runs. A name the table does not know is
/// answered `-ENOSYS`, as musl declares syscalls no host implements.
fn resolve(name: &str) -> &'static Syscall {
    let name = ALIASES.iter().find(|(a, _)| *a == name).map_or(name, |(_, n)| n);
    table::lookup(name).unwrap_or_else(|| {
        tracing::debug!("wali.SYS_{name} is not a known syscall; it will return -ENOSYS");
        Box::leak(Box::new(Syscall {
            name: Box::leak(name.to_string().into_boxed_str()),
            nr: -1,
            args: &[],
            imp: Imp::Nosys(Why::Unconverted),
        }))
    })
}

/// Defines every WALI import of `module` in `linker`. Imports from the
/// modules in `provided` (linear memory, the WASI shim's host imports) are
/// left to the caller.
pub fn define_imports(linker: &mut Linker<Guest>, module: &Module, provided: &[&str], gate: &dyn Gate) -> Result<()> {
    for import in module.imports() {
        let (m, name) = (import.module(), import.name());
        if provided.contains(&m) {
            continue;
        }
        match import.ty() {
            ExternType::Func(ty) if m == WALI => match name.strip_prefix("SYS_") {
                Some(sys) => define_syscall(linker, Space::Own, name, resolve(sys), ty, gate)?,
                None => define_aux(linker, name, &ty)?,
            },
            ExternType::Func(ty) if m == WALI_APP && name.starts_with("SYS_") => {
                define_syscall(linker, Space::App, name, resolve(&name[4..]), ty, gate)?
            }
            ty => bail!(
                "unsupported import {m}.{name} ({}): a WALI module imports only functions from \"wali\"",
                kind(&ty)
            ),
        }
    }
    Ok(())
}

/// A function type as `(i32, i64) -> i64`.
fn signature(params: impl Iterator<Item = ValType>, results: impl Iterator<Item = ValType>) -> String {
    let list = |it: &mut dyn Iterator<Item = ValType>| it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    let (p, mut r) = (list(&mut { params }), list(&mut { results }));
    if r.is_empty() {
        r = "()".into();
    }
    format!("({p}) -> {r}")
}

fn kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

fn define_syscall(
    linker: &mut Linker<Guest>,
    space: Space,
    name: &str,
    sys: &'static Syscall,
    ty: FuncType,
    gate: &dyn Gate,
) -> Result<()> {
    let Some(shape) = shape(&ty) else {
        bail!(
            "import wali.{name} has type {}, which no syscall has: \
             parameters must be at most six i32/i64 and the result one i32/i64 or none",
            signature(ty.params(), ty.results())
        );
    };
    // Asked once here: the gate's answer holds for the whole run.
    let direct = sys.in_place() && gate.unconditional(sys);
    let host = move |mut caller: Caller<'_, Guest>, vals: &mut [MaybeUninit<ValRaw>]| {
        let mut raw = [0i64; 6];
        for (i, slot) in raw.iter_mut().enumerate().take(shape.params) {
            // SAFETY: wasmtime initialises every parameter slot.
            let v = unsafe { vals[i].assume_init_ref() };
            *slot = if shape.wide & (1 << i) != 0 { v.get_i64() } else { v.get_i32() as i64 };
        }
        let ret = loop {
            let done = if direct {
                dispatch::direct(&mut caller, space, sys, raw)
            } else {
                dispatch::dispatch(&mut caller, space, sys, raw)
            };
            let ret = match done {
                Ok(ret) => ret,
                // The process ends here, as in the kernel: there is nothing
                // to unwind to, and unwinding out of Wasm as an error would
                // first take a Wasm backtrace.
                Err(Stop::Exit(status)) => caller.data().process.end(Outcome::Exited(status)),
                Err(stop) => return Err(stop.into()),
            };
            // A call interrupted for guest handlers is restarted after them
            // if they all asked for it and the call allows it.
            let delivered = signal::deliver_pending(&mut caller)?;
            if ret != Errno::EINTR.ret() || delivered != Some(true) || !signal::restartable(sys.name) {
                break ret;
            }
        };
        match shape.result {
            Some(true) => vals[0] = MaybeUninit::new(ValRaw::i64(ret)),
            Some(false) => vals[0] = MaybeUninit::new(ValRaw::i32(ret as i32)),
            None => {}
        }
        Ok(())
    };
    let module = match space {
        Space::Own => WALI,
        Space::App => WALI_APP,
    };
    // SAFETY: the closure reads exactly the declared parameters and writes
    // exactly the declared result, with the declared types.
    unsafe { linker.func_new_unchecked(module, name, ty, host)? };
    Ok(())
}

/// Checks that an auxiliary import has the type the ABI gives it.
fn expect(name: &str, ty: &FuncType, params: &[ValType], results: &[ValType]) -> Result<()> {
    let ok = ty.params().len() == params.len()
        && ty.results().len() == results.len()
        && ty.params().zip(params).all(|(a, b)| a.matches(b))
        && ty.results().zip(results).all(|(a, b)| a.matches(b));
    if !ok {
        bail!(
            "import wali.{name} has type {}, but the WALI ABI defines it as {}",
            signature(ty.params(), ty.results()),
            signature(params.iter().cloned(), results.iter().cloned())
        );
    }
    Ok(())
}

fn define_aux(linker: &mut Linker<Guest>, name: &str, ty: &FuncType) -> Result<()> {
    use ValType::I32;
    match name {
        "__init" | "__deinit" => {
            expect(name, ty, &[], &[I32])?;
            linker.func_wrap(WALI, name, || 0i32)?;
        }
        "__proc_exit" => {
            expect(name, ty, &[I32], &[])?;
            // `-> ()`: a host function needs a result type; `end` returns none.
            linker.func_wrap(WALI, name, |c: Caller<'_, Guest>, status: i32| -> () {
                c.data().process.end(Outcome::Exited(status & 0xff))
            })?;
        }
        "__cl_get_argc" => {
            expect(name, ty, &[], &[I32])?;
            linker.func_wrap(WALI, name, |c: Caller<'_, Guest>| c.data().argv.len() as i32)?;
        }
        "__cl_get_argv_len" => {
            expect(name, ty, &[I32], &[I32])?;
            linker.func_wrap(WALI, name, |c: Caller<'_, Guest>, i: u32| {
                c.data().argv.get(i as usize).map_or(0, |a| a.as_bytes().len() as i32)
            })?;
        }
        "__cl_copy_argv" => {
            expect(name, ty, &[I32, I32], &[I32])?;
            linker.func_wrap(WALI, name, |c: Caller<'_, Guest>, buf: u32, i: u32| {
                let Some(arg) = c.data().argv.get(i as usize) else {
                    return Errno::EINVAL.ret() as i32;
                };
                let mem = c.data().memory.view();
                match mem.write(buf, arg.as_bytes_with_nul()) {
                    Ok(()) => 0,
                    Err(e) => e.ret() as i32,
                }
            })?;
        }
        "__get_init_envfile" => {
            expect(name, ty, &[I32, I32], &[I32])?;
            linker.func_wrap(WALI, name, |c: Caller<'_, Guest>, buf: u32, size: u32| {
                let envfile = c.data().process.lock_envfile();
                let Some(file) = envfile.as_ref() else {
                    return 0;
                };
                let bytes = file.path.as_bytes_with_nul();
                if bytes.len() > size as usize {
                    tracing::warn!("the guest's env file path buffer ({size} bytes) is too small");
                    return 0;
                }
                let mem = c.data().memory.view();
                i32::from(mem.write(buf, bytes).is_ok())
            })?;
        }
        "__wasm_thread_spawn" => {
            expect(name, ty, &[I32, I32], &[I32])?;
            linker.func_wrap(WALI, name, |mut c: Caller<'_, Guest>, fnidx: u32, arg: u32| {
                crate::process::spawn_thread(&mut c, fnidx, arg).map_err(wasmtime::Error::new)
            })?;
        }
        "setjmp" => {
            expect(name, ty, &[I32], &[I32])?;
            linker.func_wrap(WALI, name, |_: i32| 0i32)?;
        }
        "sigsetjmp" => {
            expect(name, ty, &[I32, I32], &[I32])?;
            linker.func_wrap(WALI, name, |_: i32, _: i32| 0i32)?;
        }
        "longjmp" => {
            expect(name, ty, &[I32, I32], &[])?;
            linker.func_wrap(WALI, name, |_: i32, _: i32| -> wasmtime::Result<()> {
                eprintln!("waligate: the guest called longjmp, which WALI cannot resume; exiting with status 1");
                Err(Stop::Exit(1).into())
            })?;
        }
        "__restore_rt" => {
            // Guest handlers return normally; there is no frame to restore.
            expect(name, ty, &[], &[])?;
            linker.func_wrap(WALI, name, || {})?;
        }
        _ => bail!("unknown WALI import wali.{name}: not a syscall (SYS_*) nor an auxiliary import of the ABI"),
    }
    Ok(())
}
