//! Process-level calls: exit, thread identity, execve.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::{Errno, SysResult};
use crate::guest::{Guest, Stop};
use crate::memory::MemView;
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use wasmtime::Caller;

/// `exit` ends the calling thread; with one thread, that is the process.
pub fn exit(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    Err(Stop::ThreadExit(call.raw[0] as i32 & 0xff))
}

pub fn exit_group(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    Err(Stop::Exit(call.raw[0] as i32 & 0xff))
}

/// The host keeps the address and clears it when the guest thread ends
/// (see [`crate::process::clear_child_tid`]); the host thread's own
/// clear-tid word belongs to its C library and is left alone. Like the
/// kernel, any address is accepted and the caller's TID returned.
pub fn set_tid_address(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    caller.data_mut().clear_tid = call.addr(0);
    Ok(sys(libc::SYS_gettid, [0; 6]))
}

/// fork, vfork, and clone with only a termination signal: the whole host
/// forks and the child continues in the same instance.
pub fn fork(caller: &mut Caller<'_, Guest>, _: &Call<'_>) -> Result<i64, Stop> {
    Ok(match caller.data().process.fork() {
        Ok(pid) => pid as i64,
        Err(e) => e.ret(),
    })
}

/// clone as musl's fork and posix_spawn fallbacks use it (no shared
/// memory, no new stack); thread creation goes through `__wasm_thread_spawn`.
pub fn clone(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    if call.raw[0] as u64 != libc::SIGCHLD as u64 || call.raw[1] as u32 != 0 {
        return Ok(Errno::EINVAL.ret());
    }
    fork(caller, call)
}

/// Longest single argument or environment string (the kernel's MAX_ARG_STRLEN).
const ARG_STRLEN_MAX: usize = 32 * 4096;
/// Most bytes of argv plus envp accepted before `E2BIG`.
const ARGS_TOTAL_MAX: usize = 2 << 20;

/// Reads a NULL-terminated array of `u32` string pointers (NULL array: empty).
#[doc(hidden)] // public for the fuzz targets
pub fn strings(mem: &MemView, addr: u32, total: &mut usize) -> SysResult<Vec<CString>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0u64.. {
        let slot = u32::try_from(addr as u64 + 4 * i).map_err(|_| Errno::EFAULT)?;
        let p = mem.read_u32(slot)?;
        if p == 0 {
            break;
        }
        let mut bytes = Vec::new();
        mem.read_cstr(p, ARG_STRLEN_MAX, &mut bytes)
            .map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        *total += bytes.len() + 4;
        if *total > ARGS_TOTAL_MAX {
            return Err(Errno::E2BIG);
        }
        out.push(CString::from_vec_with_nul(bytes).map_err(|_| Errno::EINVAL)?);
    }
    Ok(out)
}

/// Whether `path` names a WebAssembly module (by its magic number): what
/// execve runs in a fresh waligate rather than natively.
pub fn is_wasm(path: &CStr) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(std::ffi::OsStr::from_bytes(path.to_bytes()))
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|_| &magic == b"\0asm")
}

fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// execve of a `.wasm` file starts a fresh waligate on it with the new argv;
/// the environment travels in an inherited memfd, never a named file. Any
/// other file is executed natively and leaves the sandbox.
pub fn execve(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let Some(path) = call.path(0) else {
        return Ok(Errno::EFAULT.ret());
    };
    let mut total = 0;
    let argv = tri!(strings(&call.mem, call.addr(1), &mut total));
    let envp = tri!(strings(&call.mem, call.addr(2), &mut total));
    // The process image is about to be replaced: remove the private
    // environment directory now, as its owner will not run again.
    drop(caller.data().process.lock_envfile().take());
    let err = if is_wasm(path) { exec_wasm(path, &argv, &envp) } else { exec_native(path, &argv, &envp) };
    Ok(err.ret())
}

fn exec_native(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), pointers(argv).as_ptr(), pointers(envp).as_ptr()) };
    Errno::last()
}

fn exec_wasm(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    let env: Vec<u8> = envp.iter().flat_map(|e| e.as_bytes().iter().copied().chain([b'\n'])).collect();
    // SAFETY: the name is a valid C string; the fd is ours.
    let fd = unsafe { libc::memfd_create(c"waligate-env".as_ptr(), 0) };
    if fd < 0 {
        return Errno::last();
    }
    // SAFETY: writes our own buffer to our own fd.
    if unsafe { libc::pwrite(fd, env.as_ptr().cast(), env.len(), 0) } != env.len() as isize {
        let e = Errno::last();
        unsafe { libc::close(fd) };
        return e;
    }
    let argv0 = argv.first().map_or(path, |a| a.as_c_str());
    let mut args: Vec<CString> = vec![
        c"waligate".into(),
        c"run".into(),
        CString::new([b"--argv0=".as_slice(), argv0.to_bytes()].concat()).unwrap_or_default(),
        CString::new(format!("--env-fd={fd}")).unwrap_or_default(),
        path.into(),
    ];
    args.extend(argv.iter().skip(1).cloned());
    let host_env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| CString::new([k.as_bytes(), b"=", v.as_bytes()].concat()).ok())
        .collect();
    // SAFETY: as in exec_native; /proc/self/exe is this waligate binary.
    unsafe { libc::execve(c"/proc/self/exe".as_ptr(), pointers(&args).as_ptr(), pointers(&host_env).as_ptr()) };
    let e = Errno::last();
    unsafe { libc::close(fd) };
    e
}

/// clock_gettime through the vDSO, as a native program's libc does: no
/// kernel entry. The result is copied out like any host write.
pub fn clock_gettime(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: writes the local timespec.
    if unsafe { libc::clock_gettime(call.raw[0] as i32, &mut ts) } != 0 {
        return Ok(Errno::last().ret());
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&ts.tv_sec.to_le_bytes());
    bytes[8..].copy_from_slice(&ts.tv_nsec.to_le_bytes());
    tri!(call.mem.range(call.addr(1), 16));
    tri!(call.mem.write(call.addr(1), &bytes));
    Ok(0)
}
