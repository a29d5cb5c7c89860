//! Process identity, time, limits, randomness, and signal dispositions in
//! the WALI layout. Values that differ between runs are printed so the test
//! can compare them with what the kernel says natively.
#![no_std]
#![no_main]

use wali_guest::{cstr, entry, println, ptr, show, sys::*};

const SIGPIPE: i32 = 13;
const SIGUSR1: i32 = 10;
const SIGSEGV: i32 = 11;
const SIG_IGN: u32 = -2i32 as u32;

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn cstr_at(b: &[u8]) -> &str {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    core::str::from_utf8(&b[..end]).unwrap_or("?")
}

/// Installs `handler` for `sig` with the WALI sigaction layout and returns
/// the previous handler.
fn sigaction(sig: i32, handler: u32) -> (i64, u32) {
    let mut act = [0u8; 24];
    act[0..4].copy_from_slice(&handler.to_le_bytes());
    let mut old = [0u8; 24];
    let r = unsafe { SYS_rt_sigaction(sig, ptr(act.as_ptr()), ptr(old.as_mut_ptr()), 8) };
    (r, u32::from_le_bytes(old[0..4].try_into().unwrap()))
}

fn main() -> i32 {
    let pid = unsafe { SYS_getpid() };
    println!("pid {pid}");
    println!("ppid {}", unsafe { SYS_getppid() });
    println!("tid is pid = {}", unsafe { SYS_gettid() } == pid);
    println!("ids {} {} {} {}", unsafe { SYS_getuid() }, unsafe { SYS_geteuid() }, unsafe { SYS_getgid() }, unsafe {
        SYS_getegid()
    });
    println!("pgid {}", unsafe { SYS_getpgid(0) });
    println!("sid {}", unsafe { SYS_getsid(0) });
    let mut uts = [0u8; 390];
    println!("uname = {}", show(unsafe { SYS_uname(ptr(uts.as_mut_ptr())) }));
    println!("sysname {}", cstr_at(&uts[0..65]));
    println!("release {}", cstr_at(&uts[130..195]));
    println!("machine {}", cstr_at(&uts[260..325]));
    let mut si = [0u8; 112];
    println!("sysinfo = {} uptime positive {}", show(unsafe { SYS_sysinfo(ptr(si.as_mut_ptr())) }), u64_at(&si, 0) > 0);

    let mut rl = [0u8; 16];
    println!("getrlimit = {}", show(unsafe { SYS_getrlimit(7, ptr(rl.as_mut_ptr())) }));
    println!("nofile {} {}", u64_at(&rl, 0), u64_at(&rl, 8));
    let mut new = [0u8; 16];
    new[0..8].copy_from_slice(&64u64.to_le_bytes());
    new[8..16].copy_from_slice(&rl[8..16]);
    let mut old = [0u8; 16];
    let r = unsafe { SYS_prlimit64(0, 7, ptr(new.as_ptr()), ptr(old.as_mut_ptr())) };
    println!("prlimit64 = {} old matches {}", show(r), old == rl);
    unsafe { SYS_getrlimit(7, ptr(rl.as_mut_ptr())) };
    println!("nofile now {}", u64_at(&rl, 0));
    let mut ru = [0u8; 144];
    println!("getrusage = {}", show(unsafe { SYS_getrusage(0, ptr(ru.as_mut_ptr())) }));

    let (mut t1, mut t2) = ([0u8; 16], [0u8; 16]);
    unsafe { SYS_clock_gettime(1, ptr(t1.as_mut_ptr())) };
    let req: [i64; 2] = [0, 2_000_000];
    println!("nanosleep = {}", show(unsafe { SYS_nanosleep(ptr(req.as_ptr()), 0) }));
    println!("clock_nanosleep = {}", show(unsafe { SYS_clock_nanosleep(1, 0, ptr(req.as_ptr()), 0) }));
    unsafe { SYS_clock_gettime(1, ptr(t2.as_mut_ptr())) };
    let ns = |t: &[u8; 16]| u64_at(t, 0) * 1_000_000_000 + u64_at(t, 8);
    println!("monotonic advanced >= 4ms {}", ns(&t2) - ns(&t1) >= 4_000_000);
    let mut res = [0u8; 16];
    unsafe { SYS_clock_getres(1, ptr(res.as_mut_ptr())) };
    println!("clock_getres {} {}", u64_at(&res, 0), u64_at(&res, 8));
    let mut tv = [0u8; 16];
    println!("gettimeofday = {}", show(unsafe { SYS_gettimeofday(ptr(tv.as_mut_ptr()), 0) }));
    println!("realtime seconds {}", u64_at(&tv, 0));
    let mut rnd = [0u8; 32];
    let r = unsafe { SYS_getrandom(ptr(rnd.as_mut_ptr()), 32, 0) };
    println!("getrandom = {} nonzero {}", show(r), rnd.iter().any(|&b| b != 0));
    let mut cpus = [0u8; 128];
    println!("sched_getaffinity positive {}", unsafe { SYS_sched_getaffinity(0, 128, ptr(cpus.as_mut_ptr())) } > 0);
    println!("sched_yield = {}", show(unsafe { SYS_sched_yield() }));
    println!("umask = {:o}", unsafe { SYS_umask(0o027) });
    println!("umask back = {:o}", unsafe { SYS_umask(0o022) });

    let name = cstr("walitest");
    println!("prctl set name = {}", show(unsafe { SYS_prctl(15, ptr(name.as_ptr()) as i64, 0, 0, 0) }));
    let mut got = [0u8; 16];
    println!("prctl get name = {}", show(unsafe { SYS_prctl(16, ptr(got.as_mut_ptr()) as i64, 0, 0, 0) }));
    println!("name {}", cstr_at(&got));
    println!("prctl seccomp = {}", show(unsafe { SYS_prctl(22, 2, 0, 0, 0) }));

    // SIGPIPE ignored: writing to a pipe without readers is EPIPE, not death.
    let (r, old) = sigaction(SIGPIPE, SIG_IGN);
    println!("sigaction SIGPIPE ignore = {} old {}", show(r), old);
    let (_, old) = sigaction(SIGPIPE, SIG_IGN);
    println!("old is SIG_IGN {}", old == SIG_IGN);
    let mut fds = [0i32; 2];
    unsafe { SYS_pipe(ptr(fds.as_mut_ptr())) };
    unsafe { SYS_close(fds[0]) };
    println!("write to widowed pipe = {}", show(unsafe { SYS_write(fds[1], ptr(b"x".as_ptr()), 1) }));

    // The engine's SIGSEGV stays the engine's: the guest's is virtual.
    println!("sigaction SIGSEGV = {}", show(sigaction(SIGSEGV, 5).0));
    println!("SIGSEGV reads back {}", sigaction(SIGSEGV, 0).1);

    let mut ss = [0u8; 12];
    println!("sigaltstack query = {}", show(unsafe { SYS_sigaltstack(0, ptr(ss.as_mut_ptr())) }));
    println!("altstack flags {}", i32::from_le_bytes(ss[4..8].try_into().unwrap()));
    let mut stack = [0u8; 12];
    stack[0..4].copy_from_slice(&0x10000u32.to_le_bytes());
    stack[8..12].copy_from_slice(&8192u32.to_le_bytes());
    println!("sigaltstack set = {}", show(unsafe { SYS_sigaltstack(ptr(stack.as_ptr()), 0) }));
    unsafe { SYS_sigaltstack(0, ptr(ss.as_mut_ptr())) };
    println!("altstack reads back {}", ss == stack);
    stack[8..12].copy_from_slice(&100u32.to_le_bytes());
    println!("sigaltstack too small = {}", show(unsafe { SYS_sigaltstack(ptr(stack.as_ptr()), 0) }));

    // Blocking SIGSEGV is dropped; SIGUSR1 stays blocked and pends.
    let set: u64 = (1 << (SIGUSR1 - 1)) | (1 << (SIGSEGV - 1));
    println!("sigprocmask block = {}", show(unsafe { SYS_rt_sigprocmask(0, ptr(&set), 0, 8) }));
    let mut cur = 0u64;
    unsafe { SYS_rt_sigprocmask(0, 0, ptr(&raw mut cur), 8) };
    println!("blocked is SIGUSR1 only {}", cur == 1 << (SIGUSR1 - 1));
    println!("kill self 0 = {}", show(unsafe { SYS_kill(pid as i32, 0) }));
    println!("kill self SIGUSR1 = {}", show(unsafe { SYS_kill(pid as i32, SIGUSR1) }));
    let mut pending = 0u64;
    unsafe { SYS_rt_sigpending(ptr(&raw mut pending), 8) };
    println!("SIGUSR1 pending {}", pending & 1 << (SIGUSR1 - 1) != 0);
    sigaction(SIGUSR1, SIG_IGN);
    unsafe { SYS_rt_sigprocmask(1, ptr(&set), 0, 8) };
    println!("wait4 no children = {}", show(unsafe { SYS_wait4(-1, 0, 0, 0) }));
    0
}

entry!(main);
