//! Fuzz target `dispatch`: sequences of real guest syscalls, made by a tiny
//! WALI module through the whole host path (linking, decoding, the gate,
//! the kernel or the emulation), with random arguments and random memory.
//!
//! Only calls that cannot harm the test process are made: the mmap family
//! (on guest memory; lengths kept to 1 MiB), vectored and plain I/O, socket
//! receives and queries, metadata and time queries, `sigaltstack`,
//! `set_tid_address`; descriptors are a scratch file, one end of a
//! nonblocking socket pair, `AT_FDCWD` or invalid ones, and `fcntl`/`ioctl`
//! get invalid descriptors only.
//!
//! Properties: nothing panics or traps; every result is a value or
//! `-errno`; where decoding alone decides (the `decode` model says an
//! argument is refused) the guest gets exactly that errno; an mmap that
//! succeeds returns page-aligned memory inside linear memory that overlaps
//! no live mapping, and anonymous memory comes zeroed.

use crate::decode::model;
use arbitrary::Unstructured;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;
use wali_core::guest::Guest;
use wali_core::linker::define_imports;
use wali_core::memory::LinearMemory;
use wali_core::process::{Process, instantiate, new_store};
use wali_core::rewrite::{MEMORY_MODULE, MEMORY_NAME};
use wali_core::table::{Arg, Syscall, lookup};
use wasmtime::{Engine, Linker, Module};

/// The calls made, and whether their descriptors may be real (else only
/// invalid ones).
const CALLS: &[(&str, bool)] = &[
    ("mmap", true),
    ("mmap", true),
    ("munmap", true),
    ("mremap", true),
    ("mprotect", true),
    ("madvise", true),
    ("msync", true),
    ("brk", true),
    ("mlockall", true),
    ("read", true),
    ("write", true),
    ("pread64", true),
    ("pwrite64", true),
    ("readv", true),
    ("writev", true),
    ("preadv", true),
    ("pwritev", true),
    ("recvmsg", true),
    ("recvfrom", true),
    ("getsockopt", true),
    ("getsockname", true),
    ("fstat", true),
    ("newfstatat", true),
    ("statx", true),
    ("access", true),
    ("readlink", true),
    ("getdents64", true),
    ("lseek", true),
    ("getcwd", true),
    ("uname", true),
    ("getrandom", true),
    ("clock_gettime", true),
    ("clock_getres", true),
    ("sysinfo", true),
    ("times", true),
    ("getrusage", true),
    ("sigaltstack", true),
    ("set_tid_address", true),
    ("fcntl", false),
    ("ioctl", false),
];

struct Host {
    engine: Engine,
    module: Module,
    linker: Linker<Guest>,
    file: std::fs::File,
    sockets: [std::os::unix::net::UnixStream; 2],
}

fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut wat = String::from("(module\n");
        let names: std::collections::BTreeSet<&str> = CALLS.iter().map(|(n, _)| *n).collect();
        for name in &names {
            wat += &format!(
                "(import \"wali\" \"SYS_{name}\" (func ${name} (param i64 i64 i64 i64 i64 i64) (result i64)))\n"
            );
        }
        for name in &names {
            wat += &format!(
                "(func (export \"{name}\") (param i64 i64 i64 i64 i64 i64) (result i64)\n\
                   (call ${name} (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))\n"
            );
        }
        wat += "(memory 1) (export \"memory\" (memory 0)))";
        let engine = wali_core::run::engine(true).unwrap();
        let wasm = wat::parse_str(&wat).unwrap();
        let module = wali_core::run::load_bytes(&engine, &wasm, true).unwrap();
        let mut linker = Linker::new(&engine);
        define_imports(&mut linker, &module, &[MEMORY_MODULE], &wali_core::AllowAll).unwrap();
        let file = tempfile::tempfile().unwrap();
        let sockets = std::os::unix::net::UnixStream::pair().unwrap();
        sockets.0.set_nonblocking(true).unwrap();
        sockets.1.set_nonblocking(true).unwrap();
        Host { engine, module, linker, file, sockets: [sockets.0, sockets.1] }
    })
}

/// One case at a time: the scratch file and sockets are shared.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const PAGE: u64 = 4096;
const MAX_LEN: u64 = 1 << 20;

/// An argument for `kind` of a call on memory of `size` bytes.
fn arg(u: &mut Unstructured<'_>, kind: Arg, real_fds: bool, size: u64, fds: [i64; 2]) -> i64 {
    let pick = u.int_in_range(0u8..=15).unwrap_or(0);
    if kind == Arg::Fd {
        return match pick {
            0..=5 if real_fds => fds[0],
            6..=10 if real_fds => fds[1],
            11 if real_fds => -100,
            12 => 1 << 20,
            _ => -1,
        };
    }
    let k = u.int_in_range(0u64..=32).unwrap_or(0);
    let v: u64 = match pick {
        0..=3 => u.int_in_range(0..=size).unwrap_or(0),
        4 => size.saturating_sub(k * PAGE),
        5 => size.saturating_sub(k),
        6 => k * PAGE,
        7 => k,
        8 => 0,
        9 => u.arbitrary().unwrap_or(0),
        10 => (-(k as i64) - 1) as u64,
        11 => u32::MAX as u64 - k,
        _ => u.int_in_range(0..=MAX_LEN).unwrap_or(0),
    };
    v as i64
}

/// Live guest mappings, as the model sees them: start -> end.
type Live = std::collections::BTreeMap<u64, u64>;

fn overlaps(live: &Live, start: u64, end: u64) -> Option<(u64, u64)> {
    live.range(..end).next_back().filter(|&(_, &e)| e > start).map(|(&s, &e)| (s, e))
}

fn forget(live: &mut Live, start: u64, end: u64) {
    let hit: Vec<(u64, u64)> = live.range(..end).filter(|&(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
    for (s, e) in hit {
        live.remove(&s);
        if s < start {
            live.insert(s, start);
        }
        if e > end {
            live.insert(end, e);
        }
    }
}

pub fn check(data: &[u8]) {
    let _guard = lock();
    let host = host();
    let mut u = Unstructured::new(data);
    // Fresh descriptors state: an empty file, a socket with a little data.
    host.file.set_len(0).unwrap();
    let mut drain = [0u8; 65536];
    while std::io::Read::read(&mut &host.sockets[1], &mut drain).is_ok_and(|n| n > 0) {}
    let _ = std::io::Write::write(&mut &host.sockets[1], b"hello from the host");
    let fds = [host.file.as_raw_fd() as i64, host.sockets[0].as_raw_fd() as i64];

    let shared = wali_core::wasi::memory_for(&host.engine, &host.module, wali_core::rewrite::MEMORY_NAME).unwrap();
    let memory = LinearMemory::new(shared.clone());
    let argv: std::sync::Arc<[std::ffi::CString]> = vec![c"fuzz".to_owned()].into();
    let guest = Guest::new(memory.clone(), argv, Process::new(None, None, None), &wali_core::AllowAll);
    let mut store = new_store(&host.module, guest);
    let mut linker = host.linker.clone();
    linker.define(&store, MEMORY_MODULE, MEMORY_NAME, shared).unwrap();
    let instance = instantiate(&linker, &mut store, &host.module, true).unwrap();

    let mut live = Live::new();
    for _ in 0..u.int_in_range(1usize..=12).unwrap_or(1) {
        if u.is_empty() {
            break;
        }
        let Ok(&(name, real_fds)) = u.choose(CALLS) else { break };
        let sys: &Syscall = lookup(name).unwrap();
        let view = memory.view();
        let size = view.size();
        // Some bytes of memory: pointers and lengths for the calls to read.
        for _ in 0..u.int_in_range(0usize..=4).unwrap_or(0) {
            let at = arg(&mut u, Arg::Addr, true, size, fds) as u32 as u64;
            let v = (arg(&mut u, Arg::UInt, true, size, fds) as u32).to_le_bytes();
            if at + 4 <= size {
                // SAFETY: inside memory, which only this case uses.
                unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), view.host_addr(at), 4) };
            }
        }
        let mut raw = [0i64; 6];
        for (i, r) in raw.iter_mut().enumerate() {
            let kind = sys.args.get(i).copied().unwrap_or(Arg::Int);
            *r = arg(&mut u, kind, real_fds, size, fds);
        }
        // The mmap family with flags that mean something, and addresses of
        // live mappings.
        let from_live = |u: &mut Unstructured<'_>, r: &mut i64| {
            if !live.is_empty() && u.ratio(2, 3).unwrap_or(false) {
                let starts: Vec<u64> = live.keys().copied().collect();
                *r = *u.choose(&starts).unwrap_or(&0) as i64;
            }
        };
        let choose = |u: &mut Unstructured<'_>, r: &mut i64, from: &[i64]| {
            if u.ratio(7, 8).unwrap_or(true) {
                *r = *u.choose(from).unwrap_or(&0);
            }
        };
        match name {
            "mmap" => {
                let (priv_anon, shared_anon) = (0x22, 0x21);
                choose(
                    &mut u,
                    &mut raw[3],
                    &[priv_anon, shared_anon, 0x02, 0x01, priv_anon | 0x10, 0x01 | 0x10, priv_anon | 0x100000],
                );
                choose(&mut u, &mut raw[2], &[0, 1, 3, 7]);
                choose(&mut u, &mut raw[5], &[0, 4096, 8192, 1 << 20]);
                from_live(&mut u, &mut raw[0]);
            }
            "mremap" => {
                choose(&mut u, &mut raw[3], &[0, 1, 3]);
                from_live(&mut u, &mut raw[0]);
                from_live(&mut u, &mut raw[4]);
            }
            "munmap" | "mprotect" | "madvise" | "msync" => from_live(&mut u, &mut raw[0]),
            _ => {}
        }
        if name.starts_with("mmap") || name == "mremap" {
            // Lengths the test can afford; no populating of huge ranges.
            raw[1] &= MAX_LEN as i64 - 1;
            if name == "mremap" {
                raw[2] &= MAX_LEN as i64 - 1;
            }
        }
        // SAFETY: memory is not written while the slice is used (the call
        // comes after).
        let bytes = unsafe { std::slice::from_raw_parts(view.host_addr(0), size as usize) };
        let decoded = model(sys, raw, bytes);
        let func = instance.get_typed_func::<(i64, i64, i64, i64, i64, i64), i64>(&mut store, name).unwrap();
        let ret = match func.call(&mut store, (raw[0], raw[1], raw[2], raw[3], raw[4], raw[5])) {
            Ok(ret) => ret,
            Err(e) => panic!("{name} {raw:x?} trapped or stopped: {e:#}"),
        };
        assert!(ret >= -4095, "{name} {raw:x?} returned {ret}, neither a value nor -errno");
        if let Err(e) = decoded {
            assert_eq!(ret, e.ret(), "{name} {raw:x?}: decoding refuses it with {e:?}");
        }
        let len = raw[1] as u32 as u64;
        let pages = len.div_ceil(PAGE) * PAGE;
        match name {
            "mmap" if ret >= 0 => {
                let start = ret as u64;
                let size = memory.view().size();
                assert!(start.is_multiple_of(PAGE) && start + pages <= size, "mmap {raw:x?} returned {start:#x}");
                let fixed = raw[3] & (libc::MAP_FIXED | libc::MAP_FIXED_NOREPLACE) as i64 != 0;
                if !fixed && let Some(other) = overlaps(&live, start, start + pages) {
                    panic!("mmap {raw:x?} returned {start:#x}+{pages:#x}, overlapping the live mapping {other:x?}");
                }
                forget(&mut live, start, start + pages);
                live.insert(start, start + pages);
                if raw[3] & libc::MAP_ANONYMOUS as i64 != 0 {
                    let view = memory.view();
                    // SAFETY: inside memory (checked above).
                    let got = unsafe { std::slice::from_raw_parts(view.host_addr(start), pages as usize) };
                    assert!(got.iter().all(|&b| b == 0), "mmap {raw:x?}: anonymous memory is not zeroed");
                }
            }
            "munmap" if ret == 0 => forget(&mut live, raw[0] as u32 as u64, raw[0] as u32 as u64 + pages),
            "mremap" if ret >= 0 => {
                let (old, new) = (raw[0] as u32 as u64, (raw[2] as u32 as u64).div_ceil(PAGE) * PAGE);
                forget(&mut live, old, old + pages);
                let start = ret as u64;
                assert!(
                    start.is_multiple_of(PAGE) && start + new <= memory.view().size(),
                    "mremap returned {start:#x}"
                );
                if raw[3] & libc::MREMAP_FIXED as i64 == 0
                    && let Some(other) = overlaps(&live, start, start + new)
                {
                    panic!("mremap {raw:x?} returned {start:#x}+{new:#x}, overlapping the live mapping {other:x?}");
                }
                forget(&mut live, start, start + new);
                live.insert(start, start + new);
            }
            _ => {}
        }
    }
}

pub fn generate(rng: &mut crate::harness::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if !corpus.is_empty() && rng.one_in(3) {
        let mut data = corpus[rng.below(corpus.len())].clone();
        crate::harness::mutate_bytes(rng, &mut data);
        return data;
    }
    let n = rng.range(16, 600) as usize;
    rng.bytes(n)
}
