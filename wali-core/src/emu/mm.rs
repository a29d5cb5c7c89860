//! The mmap family inside linear memory. Mappings are placed in memory the
//! host grew for them (first fit over freed ranges), mapped with the kernel
//! at the host address of that range (`MAP_FIXED`), so file and shared
//! mappings stay real. Linear memory is always readable and writable, so a
//! host copy into guest memory can never fault: `mprotect` validates and
//! succeeds without changing protection.

use super::{sys, tri};
use crate::decode::Call;
use crate::errno::{Errno, SysResult};
use crate::guest::{Guest, Stop};
use crate::memory::{LinearMemory, MemView, WASM_PAGE};
use crate::regions::RegionSet;
use wasmtime::Caller;

/// The guest's page size (musl's PAGESIZE for wasm32 is 4096).
pub const PAGE: u64 = 4096;
/// The Wasm32 address space.
const ADDRESS_SPACE: u64 = 1 << 32;

#[derive(Default, Debug)]
pub struct MmapState {
    /// Memory the host grew for mappings.
    owned: RegionSet,
    /// The part of `owned` not currently mapped by the guest.
    free: RegionSet,
}

fn round_up(len: u64) -> u64 {
    len.div_ceil(PAGE) * PAGE
}

fn aligned(addr: u64) -> bool {
    addr.is_multiple_of(PAGE)
}

/// Guest length argument `i`, rounded to pages.
fn length(call: &Call<'_>, i: usize) -> u64 {
    round_up(call.raw[i] as u32 as u64)
}

/// Replaces `[start, start + len)` with fresh zeroed private memory.
fn zero(mem: &MemView, start: u64, len: u64) -> SysResult<()> {
    map_fixed(mem, start, len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
}

fn map_fixed(mem: &MemView, start: u64, len: u64, flags: i32, fd: i32, off: i64) -> SysResult<()> {
    if len == 0 {
        return Ok(());
    }
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: the range lies inside linear memory, which the guest owns.
    let p = unsafe { libc::mmap(mem.host_addr(start).cast(), len as usize, prot, flags | libc::MAP_FIXED, fd, off) };
    if p == libc::MAP_FAILED { Err(Errno::last()) } else { Ok(()) }
}

/// Finds `len` bytes of free owned memory, growing linear memory if needed.
fn allocate(mm: &mut MmapState, memory: &LinearMemory, len: u64) -> SysResult<u64> {
    if let Some(start) = mm.free.find_fit(len) {
        mm.free.remove(start, start + len);
        return Ok(start);
    }
    let end = memory.view().size();
    let tail = mm.free.ending_at(end).map_or(end, |(s, _)| s);
    let pages = (tail + len - end).div_ceil(WASM_PAGE);
    let old = memory.grow(pages).ok_or(Errno::ENOMEM)?;
    mm.owned.insert(old, old + pages * WASM_PAGE);
    mm.free.insert(old, old + pages * WASM_PAGE);
    let start = mm.free.find_fit(len).ok_or(Errno::ENOMEM)?;
    mm.free.remove(start, start + len);
    Ok(start)
}

/// Returns the owned parts of `[start, end)` to the free set.
fn release(mm: &mut MmapState, start: u64, end: u64) {
    for (s, e) in mm.owned.intersect(start, end) {
        mm.free.insert(s, e);
    }
}

pub fn brk(_: &mut Caller<'_, Guest>, _: &Call<'_>) -> Result<i64, Stop> {
    // WALI's brk never moves; musl's malloc falls back to mmap.
    Ok(0)
}

pub fn mmap(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let process = caller.data().process.clone();
    let mut mm = process.lock_mm();
    let (addr, flags, fd, off) = (call.addr(0) as u64, call.raw[3] as i32, call.raw[4] as i32, call.raw[5]);
    let (prot, len) = (call.raw[2] as i32, length(call, 1));
    let kind = flags & 0x0f;
    let anonymous = flags & libc::MAP_ANONYMOUS != 0;
    if !aligned(off as u64) {
        return Ok(Errno::EINVAL.ret());
    }
    // The kernel looks the descriptor up before judging length and type.
    // SAFETY: F_GETFD only inspects the descriptor table.
    if !anonymous && unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Ok(Errno::last().ret());
    }
    if call.raw[1] as u32 == 0 || !(1..=3).contains(&kind) {
        return Ok(Errno::EINVAL.ret());
    }
    if len > ADDRESS_SPACE {
        return Ok(Errno::ENOMEM.ret());
    }
    // Check the descriptor before placing anything, so a bad fd costs nothing.
    let file_len = if anonymous { 0 } else { tri!(mappable_len(fd, off, len)) };
    let fixed = flags & (libc::MAP_FIXED | libc::MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if !aligned(addr) {
            return Ok(Errno::EINVAL.ret());
        }
        if addr + len > call.mem.size() {
            return Ok(Errno::ENOMEM.ret());
        }
        if flags & libc::MAP_FIXED_NOREPLACE != 0 && !mm.free.contains(addr, addr + len) {
            return Ok(Errno(libc::EEXIST).ret());
        }
        mm.free.remove(addr, addr + len);
        addr
    } else {
        match allocate(&mut mm, &caller.data().memory, len) {
            Ok(start) => start,
            Err(e) => return crate::limits::check_memory(e.ret(), call.mem.size(), len),
        }
    };
    let mem = caller.data().memory.view();
    let shared = kind != libc::MAP_PRIVATE;
    let extra = flags & (libc::MAP_NORESERVE | libc::MAP_POPULATE);
    let result = if anonymous {
        let share = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        map_fixed(&mem, start, len, share | libc::MAP_ANONYMOUS | extra, -1, 0)
    } else {
        // A read-only shared mapping becomes private: the guest sees the
        // file, and a stray host write into it cannot fault.
        let share = if shared && prot & libc::PROT_WRITE != 0 { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        // The file may shrink later: host copies must stop trusting pages.
        caller.data().memory.mark_file_mapped();
        zero(&mem, start, len).and_then(|_| map_fixed(&mem, start, file_len, share | extra, fd, off))
    };
    match result {
        Ok(()) => Ok(start as i64),
        Err(e) => {
            let _ = zero(&mem, start, len);
            release(&mut mm, start, start + len);
            Ok(e.ret())
        }
    }
}

/// How much of a file mapping is backed by the file. Pages past the end of
/// a regular file stay anonymous, so touching them cannot raise SIGBUS in
/// the host. Also surfaces the kernel's errors for unmappable descriptors.
fn mappable_len(fd: i32, off: i64, len: u64) -> SysResult<u64> {
    // SAFETY: fstat writes into the local struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(Errno::last());
    }
    // Let the kernel judge the descriptor (ENODEV, EACCES, ...) on a
    // throwaway mapping of one page.
    // SAFETY: a fresh non-fixed mapping, unmapped right away.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), PAGE as usize, libc::PROT_READ, libc::MAP_PRIVATE, fd, off) };
    if p == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    unsafe { libc::munmap(p, PAGE as usize) };
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(len);
    }
    Ok(round_up((st.st_size - off).max(0) as u64).min(len))
}

pub fn munmap(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let process = caller.data().process.clone();
    let mut mm = process.lock_mm();
    let (addr, len) = (call.addr(0) as u64, length(call, 1));
    if !aligned(addr) || len == 0 || addr + len > ADDRESS_SPACE {
        return Ok(Errno::EINVAL.ret());
    }
    let end = (addr + len).min(call.mem.size());
    if addr < end {
        tri!(zero(&call.mem, addr, end - addr));
        release(&mut mm, addr, end);
    }
    Ok(0)
}

pub fn mremap(caller: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let process = caller.data().process.clone();
    let mut mm = process.lock_mm();
    let (old, old_len, new_len, flags) = (call.addr(0) as u64, length(call, 1), length(call, 2), call.raw[3] as i32);
    let new_addr = call.addr(4) as u64;
    let known = libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED;
    let may_move = flags & libc::MREMAP_MAYMOVE != 0;
    let fixed = flags & libc::MREMAP_FIXED != 0;
    if !aligned(old) || flags & !known != 0 || (fixed && !may_move) || new_len == 0 || old_len == 0 {
        return Ok(Errno::EINVAL.ret());
    }
    let mem = call.mem;
    if old + old_len > mem.size() {
        return Ok(Errno::EFAULT.ret());
    }
    if !fixed && new_len <= old_len {
        tri!(zero(&mem, old + new_len, old_len - new_len));
        release(&mut mm, old + new_len, old + old_len);
        return Ok(old as i64);
    }
    if !fixed && mm.free.contains(old + old_len, old + new_len) {
        // Grow in place over free, already zeroed memory.
        mm.free.remove(old + old_len, old + new_len);
        return Ok(old as i64);
    }
    if !may_move {
        return Ok(Errno::ENOMEM.ret());
    }
    let target = if fixed {
        if !aligned(new_addr) || (new_addr < old + old_len && old < new_addr + new_len) {
            return Ok(Errno::EINVAL.ret());
        }
        if new_addr + new_len > mem.size() {
            return Ok(Errno::ENOMEM.ret());
        }
        mm.free.remove(new_addr, new_addr + new_len);
        new_addr
    } else {
        match allocate(&mut mm, &caller.data().memory, new_len) {
            Ok(start) => start,
            Err(e) => return crate::limits::check_memory(e.ret(), call.mem.size(), new_len),
        }
    };
    let mem = caller.data().memory.view();
    // The kernel moves the pages (anonymous or file-backed) to the target.
    // Only the old size moves: any growth stays the target's zeroed memory,
    // as in-place growth does, since file pages past the end of the file
    // would raise SIGBUS on a host copy.
    let moved = old_len.min(new_len);
    let flags = (libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED) as u64;
    let r = sys(libc::SYS_mremap, [mem.host_addr(old) as u64, moved, moved, flags, mem.host_addr(target) as u64, 0]);
    if r < 0 {
        release(&mut mm, target, target + new_len);
        return Ok(r);
    }
    tri!(zero(&mem, old, old_len));
    release(&mut mm, old, old + old_len);
    Ok(target as i64)
}

/// Checks that `[addr, addr + len)` is page-aligned and, unless empty,
/// inside memory.
fn in_memory(call: &Call<'_>) -> Result<(u64, u64), Errno> {
    let (addr, len) = (call.addr(0) as u64, length(call, 1));
    if !aligned(addr) {
        return Err(Errno::EINVAL);
    }
    if len != 0 && addr + len > call.mem.size() {
        return Err(Errno::ENOMEM);
    }
    Ok((addr, len))
}

pub fn mprotect(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    // Checked in the kernel's order: both grow bits, alignment, an empty
    // range (success whatever the bits), the protection bits, the range.
    const PROT_SEM: i32 = 0x8;
    let known = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC | PROT_SEM;
    let prot = call.raw[2] as i32;
    let grows = prot & (libc::PROT_GROWSDOWN | libc::PROT_GROWSUP);
    let (addr, len) = (call.addr(0) as u64, length(call, 1));
    if grows == libc::PROT_GROWSDOWN | libc::PROT_GROWSUP || !aligned(addr) {
        return Ok(Errno::EINVAL.ret());
    }
    if len == 0 {
        return Ok(0);
    }
    if prot & !known & !grows != 0 {
        return Ok(Errno::EINVAL.ret());
    }
    tri!(in_memory(call));
    // No mapping in linear memory grows, so a grow bit is EINVAL there.
    if grows != 0 {
        return Ok(Errno::EINVAL.ret());
    }
    Ok(0)
}

pub fn msync(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let flags = call.raw[2] as i32;
    let known = libc::MS_ASYNC | libc::MS_INVALIDATE | libc::MS_SYNC;
    if flags & !known != 0 || (flags & libc::MS_ASYNC != 0 && flags & libc::MS_SYNC != 0) {
        return Ok(Errno::EINVAL.ret());
    }
    let (addr, len) = tri!(in_memory(call));
    if len == 0 {
        return Ok(0);
    }
    Ok(sys(libc::SYS_msync, [call.mem.host_addr(addr) as u64, len, flags as u64, 0, 0, 0]))
}

pub fn madvise(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    let advice = call.raw[2] as i32;
    // Advice that would change how the engine's memory survives fork, or
    // poison pages, is accepted without effect.
    let inert = [libc::MADV_DONTFORK, libc::MADV_DOFORK, libc::MADV_HWPOISON, libc::MADV_SOFT_OFFLINE, 18, 19];
    let passed = [
        libc::MADV_NORMAL,
        libc::MADV_RANDOM,
        libc::MADV_SEQUENTIAL,
        libc::MADV_WILLNEED,
        libc::MADV_DONTNEED,
        libc::MADV_FREE,
        libc::MADV_REMOVE,
        libc::MADV_MERGEABLE,
        libc::MADV_UNMERGEABLE,
        libc::MADV_HUGEPAGE,
        libc::MADV_NOHUGEPAGE,
        libc::MADV_DONTDUMP,
        libc::MADV_DODUMP,
        20, // MADV_COLD
        21, // MADV_PAGEOUT
    ];
    if !inert.contains(&advice) && !passed.contains(&advice) {
        return Ok(Errno::EINVAL.ret());
    }
    let (addr, len) = tri!(in_memory(call));
    if len == 0 || inert.contains(&advice) {
        return Ok(0);
    }
    Ok(sys(libc::SYS_madvise, [call.mem.host_addr(addr) as u64, len, advice as u64, 0, 0, 0]))
}

pub fn mlockall(_: &mut Caller<'_, Guest>, call: &Call<'_>) -> Result<i64, Stop> {
    // Locking would pin the engine's whole reservation; validate only.
    let flags = call.raw[0] as i32;
    let known = libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT;
    if flags & !known != 0 || flags & (libc::MCL_CURRENT | libc::MCL_FUTURE) == 0 {
        return Ok(Errno::EINVAL.ret());
    }
    Ok(0)
}

pub fn munlockall(_: &mut Caller<'_, Guest>, _: &Call<'_>) -> Result<i64, Stop> {
    Ok(0)
}
