//! The mmap family inside linear memory: anonymous and file mappings, the
//! files on disk afterwards, and bad arguments checked against the kernel.

mod common;
use common::*;
use std::os::fd::AsRawFd;
use std::path::Path;

const PAGE: usize = 4096;

/// A raw result as the guest prints it: the value, or `-ENAME`.
fn show(r: i64) -> String {
    if r >= 0 {
        return r.to_string();
    }
    let name = match -r as i32 {
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EINVAL => "EINVAL",
        libc::ENODEV => "ENODEV",
        e => panic!("unexpected errno {e}"),
    };
    format!("-{name}")
}

/// A libc call's result as a raw syscall result (0 or -errno).
fn raw(failed: bool) -> i64 {
    if failed { -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap()) } else { 0 }
}

/// mmap's result: 0 for any mapping (unmapped again), else -errno.
fn native_mmap(len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> i64 {
    // SAFETY: a fresh non-fixed mapping, unmapped right away.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd, off) };
    if p == libc::MAP_FAILED {
        return raw(true);
    }
    unsafe { libc::munmap(p, len) };
    0
}

/// The guest's bad-argument calls, made natively by this process on the
/// same kind of objects, printed the way the guest prints them.
fn native_errors(dir: &Path) -> Vec<String> {
    let path = dir.join("private.txt");
    std::fs::write(&path, "private file contents\n").unwrap();
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let rdonly = std::fs::File::open(&path).unwrap();
    let (file, rdonly) = (file.as_raw_fd(), rdonly.as_raw_fd());
    let (pipe, _w) = std::io::pipe().unwrap();
    let pipe = pipe.as_raw_fd();
    let (r, rw) = (libc::PROT_READ, libc::PROT_READ | libc::PROT_WRITE);
    let (private, anon) = (libc::MAP_PRIVATE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS);
    // SAFETY: a fresh two-page mapping that the calls below only probe.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), 2 * PAGE, rw, anon, -1, 0) };
    assert_ne!(p, libc::MAP_FAILED);
    // SAFETY: one byte into the mapping.
    let (p, p1) = (p.cast::<u8>(), unsafe { p.cast::<u8>().add(1) });
    // SAFETY (these closures): the calls only probe `p`; mremap never uses
    // MREMAP_FIXED, and none of these calls succeed in moving `p`.
    let munmap = |a: *mut u8, len| raw(unsafe { libc::munmap(a.cast(), len) } != 0);
    let mprotect = |a: *mut u8, len, prot| raw(unsafe { libc::mprotect(a.cast(), len, prot) } != 0);
    let msync = |a: *mut u8, flags| raw(unsafe { libc::msync(a.cast(), PAGE, flags) } != 0);
    let madvise = |a: *mut u8, advice| raw(unsafe { libc::madvise(a.cast(), PAGE, advice) } != 0);
    let mremap =
        |a: *mut u8, old, new, flags| raw(unsafe { libc::mremap(a.cast(), old, new, flags) } == libc::MAP_FAILED);
    let (sync, async_) = (libc::MS_SYNC, libc::MS_ASYNC);
    let cases = [
        ("mmap length 0", native_mmap(0, rw, anon, -1, 0)),
        ("mmap length 0 fd -1", native_mmap(0, r, private, -1, 0)),
        ("mmap unaligned offset", native_mmap(PAGE, r, private, file, 1)),
        ("mmap neither shared nor private", native_mmap(PAGE, rw, libc::MAP_ANONYMOUS, -1, 0)),
        ("mmap fd -1", native_mmap(PAGE, r, private, -1, 0)),
        ("mmap shared writable of O_RDONLY", native_mmap(PAGE, rw, libc::MAP_SHARED, rdonly, 0)),
        ("mmap pipe", native_mmap(PAGE, r, private, pipe, 0)),
        ("munmap unaligned", munmap(p1, PAGE)),
        ("munmap length 0", munmap(p, 0)),
        ("mprotect unaligned", mprotect(p1, PAGE, r)),
        ("mprotect bogus prot", mprotect(p, PAGE, 0x10)),
        ("mprotect GROWSDOWN|GROWSUP", mprotect(p, PAGE, 0x0300_0000)),
        ("mprotect GROWSDOWN", mprotect(p, PAGE, 0x0100_0001)),
        ("mprotect length 0 bogus prot", mprotect(p, 0, 0x10)),
        ("msync MS_SYNC|MS_ASYNC", msync(p, sync | async_)),
        ("msync unaligned", msync(p1, sync)),
        ("madvise bogus advice", madvise(p, 999)),
        ("madvise unaligned", madvise(p1, libc::MADV_DONTNEED)),
        ("mremap new size 0", mremap(p, PAGE, 0, libc::MREMAP_MAYMOVE)),
        ("mremap unknown flags", mremap(p, PAGE, PAGE, 0x10)),
        ("mremap unaligned", mremap(p1, PAGE, PAGE, 0)),
        ("mremap in-place grow into mapping", mremap(p, PAGE, 2 * PAGE, 0)),
    ];
    unsafe { libc::munmap(p.cast(), 2 * PAGE) };
    cases.into_iter().map(|(name, r)| format!("{name} = {}", show(r))).collect()
}

#[test]
fn mappings_inside_linear_memory() {
    let dir = scratch();
    let r = run("memory", &[dir.path().to_str().unwrap()]);
    let head = [
        "anon mmap aligned = true",
        "anon mmap inside memory = true",
        "anon mmap zeroed = true",
        "anon mmap writable = true",
        "munmap = 0",
        "mmap after munmap reuses address = true",
        "unmapped memory reads zero = true",
        "big mmap grows memory = true",
        "big mmap inside memory = true",
        "big mmap zeroed = true",
        "big mmap ends writable = true",
        "big munmap = 0",
        "private mmap reads = \"private file contents\\n\"",
        "private mapping after write = \"PRIVATE file contents\\n\"",
        "private munmap = 0",
        "private file after = \"private file contents\\n\"",
        "shared mmap reads = \"shared file contents\\n\"",
        "msync MS_SYNC = 0",
        "shared file after msync = \"SHARED file contents\\n\"",
        "shared munmap = 0",
        "long mmap reads file = true",
        "long mmap zeros past EOF = true",
        "long munmap = 0",
        "mremap file mapping moved = true",
        "moved file mapping reads file = true",
        "open path in grown page = -ENOENT",
        "grown file mapping zeros past EOF = true",
        "mremap grow without MAYMOVE = -ENOMEM",
        "mremap grow MAYMOVE moved = true",
        "mremap grow keeps contents = true",
        "mremap grown page zeroed = true",
        "mremap shrink same address = true",
        "mremap shrink keeps contents = true",
        "madvise DONTNEED = 0",
        "DONTNEED zeroes = true",
        "mprotect PROT_READ = 0",
        "mprotect PROT_READ|PROT_WRITE = 0",
    ];
    let errors = [
        "mmap length 0 = -EINVAL",
        "mmap length 0 fd -1 = -EBADF",
        "mmap unaligned offset = -EINVAL",
        "mmap neither shared nor private = -EINVAL",
        "mmap fd -1 = -EBADF",
        "mmap shared writable of O_RDONLY = -EACCES",
        "mmap pipe = -ENODEV",
        "munmap unaligned = -EINVAL",
        "munmap length 0 = -EINVAL",
        "mprotect unaligned = -EINVAL",
        "mprotect bogus prot = -EINVAL",
        "mprotect GROWSDOWN|GROWSUP = -EINVAL",
        "mprotect GROWSDOWN = -EINVAL",
        "mprotect length 0 bogus prot = 0",
        "msync MS_SYNC|MS_ASYNC = -EINVAL",
        "msync unaligned = -EINVAL",
        "madvise bogus advice = -EINVAL",
        "madvise unaligned = -EINVAL",
        "mremap new size 0 = -EINVAL",
        "mremap unknown flags = -EINVAL",
        "mremap unaligned = -EINVAL",
        "mremap in-place grow into mapping = -ENOMEM",
    ];
    // The kernel gives this process the same answers.
    let native = scratch();
    assert_eq!(native_errors(native.path()), errors);
    let tail = [
        // Wasm32 only: 4 GiB does not fit beside the guest's own memory.
        "mmap 0xFFFFF000 bytes = -ENOMEM",
        "brk(0) = 0",
    ];
    let expected = [&head[..], &errors, &tail].concat();
    assert_eq!(r.stdout, expected.join("\n") + "\n");
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));

    // Writes through the shared mapping reached the file; those through
    // the private one did not.
    let read = |name| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("shared.txt"), "SHARED file contents\n");
    assert_eq!(read("private.txt"), "private file contents\n");
}

#[test]
fn mmap_without_a_directory_argument_is_a_usage_error() {
    let r = run("memory", &[]);
    assert_eq!((r.status, r.stdout.as_str(), r.stderr.as_str()), (2, "usage: memory DIR\n", ""));
}
