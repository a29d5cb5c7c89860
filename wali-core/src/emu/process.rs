//! Process-level calls: exit, thread identity, execve.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::{Errno, SysResult};
use crate::guest::{Guest, Stop};
use crate::memory::MemView;
use crate::process::ExecHandover;
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
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
    crate::limits::fork_starting()?;
    let process = caller.data().process.clone();
    Ok(match process.fork() {
        Ok(0) => {
            if !crate::limits::forked_child() {
                // The tree is full: as if the fork had failed.
                crate::limits::process_gone(false);
                // SAFETY: ends this child before it runs guest code.
                unsafe { libc::_exit(crate::EXIT_KILLED) };
            }
            crate::limits::watch(process);
            0
        }
        Ok(pid) => pid as i64,
        Err(e) => {
            crate::limits::process_gone(false);
            e.ret()
        }
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
/// the guest environment travels in an inherited memfd and the embedder's
/// handover (policy, audit trail) in the host environment, never in named
/// files. Any other file is executed
/// natively and leaves the sandbox.
pub fn execve(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let Some(path) = call.path(0) else {
        return Ok(Errno::EFAULT.ret());
    };
    let mut total = 0;
    let argv = tri!(strings(&call.mem, call.addr(1), &mut total));
    let envp = tri!(strings(&call.mem, call.addr(2), &mut total));
    let process = caller.data().process.clone();
    // The process image is about to be replaced: remove the private
    // environment directory now, as its owner will not run again, and let
    // the gate write out what it buffers.
    drop(process.lock_envfile().take());
    caller.data().gate.flush();
    let err = if is_wasm(path) {
        exec_wasm(path, &argv, &envp, process.handover.as_ref())
    } else {
        exec_native(path, &argv, &envp)
    };
    Ok(err.ret())
}

fn exec_native(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), pointers(argv).as_ptr(), pointers(envp).as_ptr()) };
    Errno::last()
}

/// An inheritable memfd holding `bytes`, read from offset 0 by its reader.
fn memfd(name: &CStr, bytes: &[u8]) -> Result<OwnedFd, Errno> {
    // SAFETY: the name is a valid C string.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a descriptor just created and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: writes our own buffer to our own fd.
    match unsafe { libc::pwrite(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) } {
        n if n == bytes.len() as isize => Ok(fd),
        _ => Err(Errno::last()),
    }
}

/// Sets or clears close-on-exec on each descriptor.
fn set_cloexec(fds: &[RawFd], on: bool) {
    for &fd in fds {
        // SAFETY: only changes the flags of the embedder's own descriptors.
        unsafe { libc::fcntl(fd, libc::F_SETFD, if on { libc::FD_CLOEXEC } else { 0 }) };
    }
}

fn exec_wasm(path: &CStr, argv: &[CString], envp: &[CString], handover: Option<&ExecHandover>) -> Errno {
    let env: Vec<u8> = envp.iter().flat_map(|e| e.as_bytes().iter().copied().chain([b'\n'])).collect();
    let env_fd = match memfd(c"waligate-env", &env) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    let argv0 = argv.first().map_or(path, |a| a.as_c_str());
    let arg = |s: String| CString::new(s).unwrap_or_default();
    let mut args: Vec<CString> = vec![
        c"waligate".into(),
        c"run".into(),
        CString::new([b"--argv0=".as_slice(), argv0.to_bytes()].concat()).unwrap_or_default(),
        arg(format!("--env-fd={}", env_fd.as_raw_fd())),
    ];
    // Limit state the new process keeps counting from (see limits).
    let (carried, tree_fds) = crate::limits::carried();
    if let Some(ms) = carried.deadline_ms {
        args.push(arg(format!("--carried-deadline-ms={ms}")));
    }
    if let Some(fd) = carried.processes_fd {
        args.push(arg(format!("--carried-processes-fd={fd}")));
    }
    // The handover travels in the new process's environment, which the
    // kernel copies from host memory: no other guest thread can change it
    // on the way, as it could a descriptor in its own range.
    let mut host_env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != HANDOVER_VAR)
        .filter_map(|(k, v)| CString::new([k.as_bytes(), b"=", v.as_bytes()].concat()).ok())
        .collect();
    if let Some(h) = handover {
        let Ok(var) = CString::new([HANDOVER_VAR.as_bytes(), b"=", &h.state].concat()) else {
            return Errno::EINVAL;
        };
        host_env.push(var);
        args.push(c"--handover".into());
    }
    args.push(path.into());
    args.extend(argv.iter().skip(1).cloned());
    let inherited: Vec<RawFd> = handover.map_or(&[][..], |h| &h.fds[..]).iter().chain(&tree_fds).copied().collect();
    set_cloexec(&inherited, false);
    // SAFETY: as in exec_native; /proc/self/exe is this waligate binary.
    unsafe { libc::execve(c"/proc/self/exe".as_ptr(), pointers(&args).as_ptr(), pointers(&host_env).as_ptr()) };
    let e = Errno::last();
    set_cloexec(&inherited, true);
    drop(env_fd);
    e
}

/// The environment variable a `.wasm` execve hands the embedder's state in.
pub const HANDOVER_VAR: &str = "WALIGATE_HANDOVER";

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
