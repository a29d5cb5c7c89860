//! The mmap family: anonymous, file-backed (private and shared) mappings,
//! reuse of unmapped space, growth of linear memory, mremap, madvise,
//! mprotect, and the kernel's errno for bad arguments. Files go in the
//! scratch directory given as argv[1].
#![no_std]
#![no_main]

use core::arch::wasm32::memory_size;
use wali_guest::{String, Vec, args, cstr, entry, format, println, ptr, show, sys::*, write_all};

const PAGE: usize = 4096;
const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const RW: i32 = PROT_READ | PROT_WRITE;
const MAP_SHARED: i32 = 1;
const MAP_PRIVATE: i32 = 2;
const MAP_ANONYMOUS: i32 = 0x20;
const ANON: i32 = MAP_PRIVATE | MAP_ANONYMOUS;
const MREMAP_MAYMOVE: i32 = 1;
const MS_ASYNC: i32 = 1;
const MS_SYNC: i32 = 4;
const MADV_DONTNEED: i32 = 4;
const O_RDWR: i32 = 2;
const O_CREAT: i32 = 0o100;
const O_TRUNC: i32 = 0o1000;

const PRIVATE_TEXT: &[u8] = b"private file contents\n";
const SHARED_TEXT: &[u8] = b"shared file contents\n";

fn mmap(len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> i64 {
    unsafe { SYS_mmap(0, len as i32, prot, flags, fd, off) }
}

fn munmap(addr: i64, len: usize) -> i64 {
    unsafe { SYS_munmap(addr as i32, len as i32) }
}

/// The bytes of a mapping the host returned.
fn bytes(addr: i64, len: usize) -> &'static mut [u8] {
    // SAFETY: `addr` is a successful mmap result of at least `len` bytes.
    unsafe { core::slice::from_raw_parts_mut(addr as usize as *mut u8, len) }
}

fn zeroed(addr: i64, len: usize) -> bool {
    bytes(addr, len).iter().all(|&b| b == 0)
}

/// The end of linear memory in bytes.
fn memory_end() -> u64 {
    memory_size(0) as u64 * 65536
}

fn open(path: &str, flags: i32) -> i32 {
    unsafe { SYS_open(ptr(cstr(path).as_ptr()), flags, 0o644) as i32 }
}

/// Creates `path` holding `text` and returns it open with `flags`.
fn create(path: &str, text: &[u8], flags: i32) -> i32 {
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC);
    write_all(fd, text);
    unsafe { SYS_close(fd) };
    open(path, flags)
}

/// The file's first `n` bytes, read through the descriptor (not the mapping).
fn pread(fd: i32, n: usize) -> String {
    let mut buf = wali_guest::vec![0u8; n];
    let r = unsafe { SYS_pread64(fd, ptr(buf.as_mut_ptr()), n as i32, 0) };
    buf.truncate(r.max(0) as usize);
    quoted(&buf)
}

fn quoted(b: &[u8]) -> String {
    format!("{:?}", core::str::from_utf8(b).unwrap_or("<binary>"))
}

fn anonymous() {
    let p = mmap(PAGE, RW, ANON, -1, 0);
    println!("anon mmap aligned = {}", p > 0 && (p as usize).is_multiple_of(PAGE));
    println!("anon mmap inside memory = {}", p as u64 + PAGE as u64 <= memory_end());
    println!("anon mmap zeroed = {}", zeroed(p, PAGE));
    bytes(p, PAGE).fill(0x5a);
    println!("anon mmap writable = {}", bytes(p, PAGE).iter().all(|&b| b == 0x5a));
    println!("munmap = {}", munmap(p, PAGE));
    // First fit hands the hole back to the next mapping of its size.
    let q = mmap(PAGE, RW, ANON, -1, 0);
    println!("mmap after munmap reuses address = {}", q == p);
    println!("unmapped memory reads zero = {}", zeroed(q, PAGE));
    munmap(q, PAGE);

    let big = 3 << 20;
    let before = memory_end();
    let p = mmap(big, RW, ANON, -1, 0);
    println!("big mmap grows memory = {}", memory_end() > before);
    println!("big mmap inside memory = {}", p > 0 && p as u64 + big as u64 <= memory_end());
    let b = bytes(p, big);
    println!("big mmap zeroed = {}", zeroed(p, big));
    b[0] = 1;
    b[big - 1] = 2;
    println!("big mmap ends writable = {}", (b[0], b[big - 1]) == (1, 2));
    println!("big munmap = {}", munmap(p, big));
}

fn files(dir: &str) {
    let fd = create(&format!("{dir}/private.txt"), PRIVATE_TEXT, O_RDWR);
    let p = mmap(PAGE, RW, MAP_PRIVATE, fd, 0);
    println!("private mmap reads = {}", quoted(&bytes(p, PRIVATE_TEXT.len())[..]));
    bytes(p, 7).copy_from_slice(b"PRIVATE");
    println!("private mapping after write = {}", quoted(bytes(p, PRIVATE_TEXT.len())));
    println!("private munmap = {}", munmap(p, PAGE));
    println!("private file after = {}", pread(fd, 64));
    unsafe { SYS_close(fd) };

    let fd = create(&format!("{dir}/shared.txt"), SHARED_TEXT, O_RDWR);
    let p = mmap(PAGE, RW, MAP_SHARED, fd, 0);
    println!("shared mmap reads = {}", quoted(bytes(p, SHARED_TEXT.len())));
    bytes(p, 6).copy_from_slice(b"SHARED");
    println!("msync MS_SYNC = {}", unsafe { SYS_msync(p as i32, PAGE as i32, MS_SYNC) });
    println!("shared file after msync = {}", pread(fd, 64));
    println!("shared munmap = {}", munmap(p, PAGE));
    unsafe { SYS_close(fd) };

    // Three pages over a 22-byte file: the tail of the first page and the
    // pages wholly past the end of the file read as zeros.
    let fd = open(&format!("{dir}/private.txt"), 0);
    let p = mmap(3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    let n = PRIVATE_TEXT.len();
    println!("long mmap reads file = {}", &bytes(p, n)[..] == PRIVATE_TEXT);
    println!("long mmap zeros past EOF = {}", zeroed(p + n as i64, 3 * PAGE - n));
    println!("long munmap = {}", munmap(p, 3 * PAGE));

    // Growing a file mapping by moving it (its second page is taken) must
    // not bring file pages past the end of the file into memory.
    let p = mmap(2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    let m = unsafe { SYS_mremap(p as i32, PAGE as i32, 2 * PAGE as i32, MREMAP_MAYMOVE, 0) };
    println!("mremap file mapping moved = {}", m > 0 && m != p);
    println!("moved file mapping reads file = {}", bytes(m, n) == PRIVATE_TEXT);
    // A host copy out of the grown page: opening it as a path.
    let r = unsafe { SYS_open(m as i32 + PAGE as i32, 0, 0) };
    println!("open path in grown page = {}", show(r));
    println!("grown file mapping zeros past EOF = {}", zeroed(m + n as i64, 2 * PAGE - n));
    munmap(m, 2 * PAGE);
    munmap(p, 2 * PAGE);
    unsafe { SYS_close(fd) };
}

fn remap() {
    let a = mmap(2 * PAGE, RW, ANON, -1, 0);
    for (i, b) in bytes(a, PAGE).iter_mut().enumerate() {
        *b = i as u8;
    }
    let pattern = |addr| bytes(addr, PAGE).iter().enumerate().all(|(i, &b)| b == i as u8);
    // The page after the first is still mapped, so growing in place fails.
    let r = unsafe { SYS_mremap(a as i32, PAGE as i32, 2 * PAGE as i32, 0, 0) };
    println!("mremap grow without MAYMOVE = {}", show(r));
    let m = unsafe { SYS_mremap(a as i32, PAGE as i32, 2 * PAGE as i32, MREMAP_MAYMOVE, 0) };
    println!("mremap grow MAYMOVE moved = {}", m > 0 && m != a);
    println!("mremap grow keeps contents = {}", pattern(m));
    println!("mremap grown page zeroed = {}", zeroed(m + PAGE as i64, PAGE));
    let s = unsafe { SYS_mremap(m as i32, 2 * PAGE as i32, PAGE as i32, 0, 0) };
    println!("mremap shrink same address = {}", s == m);
    println!("mremap shrink keeps contents = {}", pattern(s));
    munmap(s, PAGE);
    munmap(a, 2 * PAGE);

    let p = mmap(PAGE, RW, ANON, -1, 0);
    bytes(p, PAGE).fill(0xab);
    println!("madvise DONTNEED = {}", unsafe { SYS_madvise(p as i32, PAGE as i32, MADV_DONTNEED) });
    println!("DONTNEED zeroes = {}", zeroed(p, PAGE));
    println!("mprotect PROT_READ = {}", unsafe { SYS_mprotect(p as i32, PAGE as i32, PROT_READ) });
    println!("mprotect PROT_READ|PROT_WRITE = {}", unsafe { SYS_mprotect(p as i32, PAGE as i32, RW) });
    munmap(p, PAGE);
}

/// Bad arguments; the test makes the same calls natively and compares.
fn errors(dir: &str) {
    let p = mmap(2 * PAGE, RW, ANON, -1, 0) as i32;
    let file = open(&format!("{dir}/private.txt"), O_RDWR);
    let rdonly = open(&format!("{dir}/private.txt"), 0);
    let mut pipe = [0i32; 2];
    unsafe { SYS_pipe2(ptr(pipe.as_mut_ptr()), 0) };
    let page = PAGE as i32;
    let cases: Vec<(&str, i64)> = unsafe {
        wali_guest::vec![
            ("mmap length 0", SYS_mmap(0, 0, RW, ANON, -1, 0)),
            ("mmap length 0 fd -1", SYS_mmap(0, 0, PROT_READ, MAP_PRIVATE, -1, 0)),
            ("mmap unaligned offset", SYS_mmap(0, page, PROT_READ, MAP_PRIVATE, file, 1)),
            ("mmap neither shared nor private", SYS_mmap(0, page, RW, MAP_ANONYMOUS, -1, 0)),
            ("mmap fd -1", SYS_mmap(0, page, PROT_READ, MAP_PRIVATE, -1, 0)),
            ("mmap shared writable of O_RDONLY", SYS_mmap(0, page, RW, MAP_SHARED, rdonly, 0)),
            ("mmap pipe", SYS_mmap(0, page, PROT_READ, MAP_PRIVATE, pipe[0], 0)),
            ("munmap unaligned", SYS_munmap(p + 1, page)),
            ("munmap length 0", SYS_munmap(p, 0)),
            ("mprotect unaligned", SYS_mprotect(p + 1, page, PROT_READ)),
            ("mprotect bogus prot", SYS_mprotect(p, page, 0x10)),
            ("mprotect GROWSDOWN|GROWSUP", SYS_mprotect(p, page, 0x0300_0000)),
            ("mprotect GROWSDOWN", SYS_mprotect(p, page, 0x0100_0001)),
            ("mprotect length 0 bogus prot", SYS_mprotect(p, 0, 0x10)),
            ("msync MS_SYNC|MS_ASYNC", SYS_msync(p, page, MS_SYNC | MS_ASYNC)),
            ("msync unaligned", SYS_msync(p + 1, page, MS_SYNC)),
            ("madvise bogus advice", SYS_madvise(p, page, 999)),
            ("madvise unaligned", SYS_madvise(p + 1, page, MADV_DONTNEED)),
            ("mremap new size 0", SYS_mremap(p, page, 0, MREMAP_MAYMOVE, 0)),
            ("mremap unknown flags", SYS_mremap(p, page, page, 0x10, 0)),
            ("mremap unaligned", SYS_mremap(p + 1, page, page, 0, 0)),
            ("mremap in-place grow into mapping", SYS_mremap(p, page, 2 * page, 0, 0)),
        ]
    };
    for (name, r) in cases {
        println!("{name} = {}", show(r));
    }
    // Wasm32-specific: no room for 4 GiB in a 4 GiB address space.
    println!("mmap 0xFFFFF000 bytes = {}", show(mmap(0xFFFF_F000, RW, ANON, -1, 0)));
    // WALI's break never moves; malloc falls back to mmap.
    println!("brk(0) = {}", unsafe { SYS_brk(0) });
}

fn main() -> i32 {
    let argv = args();
    let Some(dir) = argv.get(1) else {
        println!("usage: memory DIR");
        return 2;
    };
    anonymous();
    files(dir);
    remap();
    errors(dir);
    0
}

entry!(main);
