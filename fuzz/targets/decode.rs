//! Fuzz target `decode`: one row of the syscall table, six 64-bit
//! arguments and a guest memory of 0 to 3 pages with chosen contents,
//! through wali-core's argument decoder.
//!
//! Properties: decoding never panics, and its outcome is exactly that of a
//! model written from the documented rules: a pointer whose range
//! `[ptr, ptr + len)` does not lie inside memory (64-bit arithmetic, so no
//! wraparound) is `-EFAULT`, NULL is NULL, a path running off the end of
//! memory is `-EFAULT` and one of 4096 bytes without a NUL `-ENAMETOOLONG`,
//! bad counts and lengths are the kernel's `EINVAL`/`E2BIG`. When it
//! succeeds, every pointer handed to the kernel is the host address of its
//! guest range, and every copied argument holds the guest's bytes.

use arbitrary::Unstructured;
use std::sync::OnceLock;
use wali_core::decode::{PATH_MAX, decode};
use wali_core::errno::Errno;
use wali_core::memory::{LinearMemory, WASM_PAGE};
use wali_core::table::{Arg, SYSCALLS, Syscall};
use wasmtime::{Config, Engine, MemoryType, SharedMemory};

/// Memories of 0 to 3 pages, made once (each is 4 GiB of address space).
fn memories() -> &'static [LinearMemory] {
    static MEMS: OnceLock<Vec<LinearMemory>> = OnceLock::new();
    MEMS.get_or_init(|| {
        let engine = Engine::new(Config::new().wasm_threads(true).shared_memory(true)).unwrap();
        (0..4).map(|p| LinearMemory::new(SharedMemory::new(&engine, MemoryType::shared(p, p)).unwrap())).collect()
    })
}

/// The memories are shared by the test's threads: one case at a time.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A 64-bit argument drawn to hit the edges of a memory of `size` bytes.
fn arg(u: &mut Unstructured<'_>, size: u64) -> i64 {
    let k = u.int_in_range(0u64..=64).unwrap_or(0);
    let v: u64 = match u.int_in_range(0u8..=11).unwrap_or(0) {
        0 => u.arbitrary().unwrap_or(0),
        1 => k % 16,
        2 => size.wrapping_sub(k) as u32 as u64,
        3 => (u32::MAX as u64).wrapping_sub(k),
        4 => 0,
        5 => u.int_in_range(0..=size.max(1) - 1).unwrap_or(0),
        6 => (-(k as i64) - 1) as u64,
        7 => 4096 * k,
        8 => size.wrapping_add(k) as u32 as u64,
        9 => (k << 32) | u.arbitrary::<u32>().unwrap_or(0) as u64,
        10 => (PATH_MAX as u64 - 2).wrapping_add(k % 5),
        _ => *u.choose(&[36u64, 128, 129, 65536, 65537, 1 << 31, 1 << 32]).unwrap_or(&0),
    };
    v as i64
}

/// A decoded case: the row, the arguments, and the memory's bytes.
pub struct Case {
    pub sys: &'static Syscall,
    pub raw: [i64; 6],
    pub pages: usize,
    pub contents: Vec<u8>,
}

pub fn case(data: &[u8]) -> Case {
    let mut u = Unstructured::new(data);
    let sys = &SYSCALLS[u.choose_index(SYSCALLS.len()).unwrap_or(0)];
    let pages = u.int_in_range(0usize..=3).unwrap_or(1);
    let size = pages as u64 * WASM_PAGE;
    let mut raw = [0i64; 6];
    for r in &mut raw {
        *r = arg(&mut u, size);
    }
    // Memory: a background byte (0 ends strings at once, others run them
    // long), then patches at edgy places, some of them the arguments.
    let fill = if u.ratio(1, 2).unwrap_or(true) { 0 } else { u.arbitrary::<u8>().unwrap_or(b'a') };
    let mut contents = vec![fill; size as usize];
    while size > 0 && !u.is_empty() {
        let at = match u.int_in_range(0u8..=2).unwrap_or(0) {
            0 => raw[u.choose_index(6).unwrap_or(0)] as u32 as u64,
            _ => arg(&mut u, size) as u32 as u64,
        };
        let len = u.int_in_range(1usize..=64).unwrap_or(1);
        let bytes: Vec<u8> = match u.int_in_range(0u8..=3).unwrap_or(0) {
            // A guest pointer or length, little-endian.
            0 => (arg(&mut u, size) as u32).to_le_bytes().to_vec(),
            1 => vec![0],
            _ => u.bytes(len).unwrap_or(&[]).to_vec(),
        };
        for (i, b) in bytes.into_iter().enumerate() {
            if let Some(slot) = contents.get_mut(at as usize + i) {
                *slot = b;
            }
        }
    }
    Case { sys, raw, pages, contents }
}

/// What the decoder must make of one argument.
#[derive(Debug, PartialEq, Eq)]
pub enum Want {
    /// This value, as is.
    Value(u64),
    /// The host address of this guest address (0: NULL).
    Guest(u32),
    /// A host copy of these bytes.
    Copy(Vec<u8>),
}

/// The documented rules, independently: per argument, what the kernel gets.
pub fn model(sys: &Syscall, raw: [i64; 6], mem: &[u8]) -> Result<[Want; 6], Errno> {
    let size = mem.len() as u64;
    let mut want: [Want; 6] = std::array::from_fn(|_| Want::Value(0));
    let uint = |i: usize| raw[i] as u32 as u64;
    let inside = |addr: u32, len: u64| addr as u64 + len <= size;
    // NULL is NULL whatever the length; anything else must fit.
    let ptr = |addr: u32, len: u64| {
        if addr == 0 || inside(addr, len) { Ok(Want::Guest(addr)) } else { Err(Errno::EFAULT) }
    };
    let copy = |addr: u32, len: u64| {
        if addr == 0 || len == 0 {
            ptr(addr, len)
        } else if inside(addr, len) {
            Ok(Want::Copy(mem[addr as usize..(addr as u64 + len) as usize].to_vec()))
        } else {
            Err(Errno::EFAULT)
        }
    };
    let word = |addr: u64| u32::from_le_bytes(mem[addr as usize..addr as usize + 4].try_into().unwrap());
    for (i, kind) in sys.args.iter().enumerate() {
        let addr = raw[i] as u32;
        want[i] = match *kind {
            Arg::Int => Want::Value(raw[i] as u64),
            // Descriptors at or above the guest's range (the kernel reads
            // the low 32 bits) are the host's.
            Arg::Fd if raw[i] as i32 >= wali_core::fdspace::limit() => return Err(Errno::EBADF),
            Arg::Fd => Want::Value(raw[i] as u64),
            Arg::UInt | Arg::Addr | Arg::Raw => Want::Value(uint(i)),
            Arg::Msghdr => {
                if addr == 0 || !inside(addr, 36) {
                    return Err(Errno::EFAULT);
                }
                let (name, namelen) = (word(addr as u64), word(addr as u64 + 4).min(128));
                match copy(name, namelen as u64)? {
                    // The kernel gets the msghdr's guest address; the
                    // emulation converts it.
                    Want::Copy(b) => Want::Copy(b),
                    _ => Want::Value(uint(i)),
                }
            }
            Arg::Path if addr == 0 => Want::Value(0),
            Arg::Path => {
                if addr as u64 >= size {
                    return Err(Errno::EFAULT);
                }
                let rest = &mem[addr as usize..];
                match rest.iter().take(PATH_MAX + 1).position(|&b| b == 0) {
                    Some(end) => Want::Copy(rest[..=end].to_vec()),
                    None if rest.len() <= PATH_MAX => return Err(Errno::EFAULT),
                    None => return Err(Errno::ENAMETOOLONG),
                }
            }
            Arg::In(n) => copy(addr, n as u64)?,
            Arg::CopyIn(l) => {
                if uint(l as usize) > 65536 {
                    return Err(Errno::E2BIG);
                }
                copy(addr, uint(l as usize))?
            }
            Arg::AddrIn(l) => {
                let n = raw[l as usize] as i32;
                if !(0..=128).contains(&n) {
                    return Err(Errno::EINVAL);
                }
                copy(addr, n as u64)?
            }
            Arg::Out(n) | Arg::InOut(n) => ptr(addr, n as u64)?,
            Arg::BufIn(l) | Arg::BufOut(l) => ptr(addr, uint(l as usize))?,
            Arg::LenOut(_) | Arg::AddrOut(_) => Want::Value(0),
            Arg::Len => copy(addr, 4)?,
            Arg::Array(c, n) => {
                let count = raw[c as usize];
                if count < 0 || count as u128 * n as u128 > 1 << 32 {
                    return Err(Errno::EINVAL);
                }
                ptr(addr, count as u64 * n as u64)?
            }
            Arg::FdSet => {
                let nfds = (raw[0] as i32).max(0) as u64;
                ptr(addr, nfds.div_ceil(64) * 8)?
            }
        };
    }
    // Output buffers sized by a length another argument points to.
    for (i, kind) in sys.args.iter().enumerate() {
        let (l, cap) = match *kind {
            Arg::LenOut(l) => (l as usize, u64::MAX),
            Arg::AddrOut(l) => (l as usize, 128),
            _ => continue,
        };
        let addr = raw[i] as u32;
        let len = match &want[l] {
            Want::Copy(b) if b.len() == 4 && addr != 0 => i32::from_le_bytes(b[..].try_into().unwrap()),
            _ => 0,
        };
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        want[i] = ptr(addr, (len as u64).min(cap))?;
    }
    Ok(want)
}

pub fn check(data: &[u8]) {
    let case = case(data);
    let _guard = lock();
    let memory = &memories()[case.pages];
    let view = memory.view();
    assert_eq!(view.size(), case.contents.len() as u64);
    // SAFETY: the memory is exactly as long as `contents`, and only this
    // case (under the lock) touches it.
    unsafe { std::ptr::copy_nonoverlapping(case.contents.as_ptr(), view.host_addr(0), case.contents.len()) };
    let mut scratch = Vec::new();
    let got = decode(case.sys, case.raw, view, &mut scratch);
    let want = model(case.sys, case.raw, &case.contents);
    let name = case.sys.name;
    let call = match (got, want) {
        (Err(e), Err(w)) => {
            assert_eq!(e, w, "{name} {:x?} in {} bytes: decoded {e:?}, expected {w:?}", case.raw, case.contents.len());
            return;
        }
        (Ok(_), Err(w)) => panic!("{name} {:x?} in {} bytes: decoded, expected {w:?}", case.raw, case.contents.len()),
        (Err(e), Ok(w)) => {
            panic!("{name} {:x?} in {} bytes: decoded {e:?}, expected {w:?}", case.raw, case.contents.len())
        }
        (Ok(call), Ok(want)) => (call, want),
    };
    let (call, want) = call;
    let base = view.host_addr(0) as u64;
    for (i, w) in want.iter().enumerate().take(case.sys.args.len()) {
        let kind = case.sys.args[i];
        match w {
            Want::Value(v) => assert_eq!(call.args[i], *v, "{name} arg {i} ({kind:?})"),
            Want::Guest(0) => assert_eq!(call.args[i], 0, "{name} arg {i} ({kind:?}): NULL"),
            Want::Guest(a) => assert_eq!(call.args[i], base + *a as u64, "{name} arg {i} ({kind:?}): host address"),
            Want::Copy(bytes) => {
                assert_eq!(call.copied(i), Some(&bytes[..]), "{name} arg {i} ({kind:?}): copied bytes");
                assert_eq!(call.args[i], call.copied(i).unwrap().as_ptr() as u64, "{name} arg {i}: the copy");
            }
        }
        if !matches!(w, Want::Copy(_)) {
            assert_eq!(call.copied(i), None, "{name} arg {i} ({kind:?}): nothing is copied");
        }
    }
    assert_eq!(call.raw, case.raw);
    // Writing the lengths back lands inside memory (they were checked).
    call.copy_back();
    for i in 0..6 {
        let _ = call.path(i);
    }
}

pub fn generate(rng: &mut crate::harness::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if !corpus.is_empty() && rng.one_in(3) {
        let mut data = corpus[rng.below(corpus.len())].clone();
        crate::harness::mutate_bytes(rng, &mut data);
        return data;
    }
    let n = rng.range(16, 400) as usize;
    rng.bytes(n)
}

// ---- target `convert`: the struct conversions of the emulations ----

/// Fuzz target `convert`: the same cases through the emulations' pointer
/// conversions that need no running guest: readv/writev/msghdr iovec arrays
/// (`emu::iov::iovecs`) and execve's string arrays
/// (`emu::process::strings`), checked against the same rules: every
/// out-of-memory range is `-EFAULT`, counts out of range their errno, and
/// what is converted points exactly at the guest's data.
pub fn check_convert(data: &[u8]) {
    let case = case(data);
    let _guard = lock();
    let view = memories()[case.pages].view();
    // SAFETY: as in `check`.
    unsafe { std::ptr::copy_nonoverlapping(case.contents.as_ptr(), view.host_addr(0), case.contents.len()) };
    let mem = &case.contents;
    let size = mem.len() as u64;
    let base = view.host_addr(0) as u64;
    let word = |a: u64| u32::from_le_bytes(mem[a as usize..a as usize + 4].try_into().unwrap());
    let (addr, count) = (case.raw[0] as u32, case.raw[1] as i32 as i64);

    // iovec arrays: {u32 base, u32 len}[count].
    let got = wali_core::emu::iov::iovecs(&view, addr, count, Errno(libc::EMSGSIZE));
    let want = if !(0..=1024).contains(&count) {
        Err(Errno(libc::EMSGSIZE))
    } else if (addr == 0 && count > 0) || addr as u64 + 8 * count as u64 > size {
        Err(Errno::EFAULT)
    } else {
        (0..count as u64)
            .map(|i| (word(addr as u64 + 8 * i), word(addr as u64 + 8 * i + 4)))
            .map(|(b, l)| match b {
                0 => Ok((0, l as usize)),
                b if b as u64 + l as u64 <= size => Ok((base + b as u64, l as usize)),
                _ => Err(Errno::EFAULT),
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let got = got.map(|v| v.iter().map(|io| (io.iov_base as u64, io.iov_len)).collect::<Vec<_>>());
    assert_eq!(got, want, "iovecs at {addr:#x} count {count} in {size} bytes");

    // execve's NULL-terminated arrays of string pointers.
    let mut total = 0;
    let got = wali_core::emu::process::strings(&view, addr, &mut total);
    let want = (|| {
        let mut out = Vec::new();
        let mut total = 0usize;
        if addr == 0 {
            return Ok(out);
        }
        for slot in (addr as u64..).step_by(4) {
            if slot + 4 > size {
                return Err(Errno::EFAULT);
            }
            let p = word(slot) as usize;
            if p == 0 {
                return Ok(out);
            }
            let rest = mem.get(p..).filter(|r| !r.is_empty()).ok_or(Errno::EFAULT)?;
            let s = match rest.iter().take(32 * 4096 + 1).position(|&b| b == 0) {
                Some(end) => &rest[..=end],
                None if rest.len() <= 32 * 4096 => return Err(Errno::EFAULT),
                None => return Err(Errno::E2BIG),
            };
            total += s.len() + 4;
            if total > 2 << 20 {
                return Err(Errno::E2BIG);
            }
            out.push(s.to_vec());
        }
        unreachable!()
    })();
    let got = got.map(|v| v.into_iter().map(|c| c.into_bytes_with_nul()).collect::<Vec<_>>());
    assert_eq!(got, want, "string array at {addr:#x} in {size} bytes");
}
