//! WASI file-system guest: timestamps (fd/path set_times, filestat),
//! fdstat flags and rights, renumbering, advice/allocation/sync, and the
//! per-kind errors (stdio, directories, files). Run with the scratch
//! directory preopened as `/`. With an argument, makes one call whose
//! arguments wasmtime-wasi refuses by trapping.

use std::fs::{self, File, FileTimes, OpenOptions};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SEC: u64 = 1_000_000_000;

fn times(what: &str, path: &str, follow: bool) {
    match path_stat(DIR, follow, path) {
        Ok((_, _, _, a, m)) => println!("{what} atim/mtim = {a} {m}"),
        Err(e) => println!("{what} = {}", errname(e)),
    }
}

fn timestamps() {
    fs::write("/t.txt", b"0123456789").unwrap();
    let f = OpenOptions::new().write(true).open("/t.txt").unwrap();
    let t = UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    check("std set_times", f.set_times(FileTimes::new().set_accessed(t).set_modified(t + Duration::from_secs(5))));
    check(
        "std modified",
        fs::metadata("/t.txt").and_then(|m| m.modified()).map(|t| t.duration_since(UNIX_EPOCH).unwrap()),
    );
    check(
        "std accessed",
        fs::metadata("/t.txt").and_then(|m| m.accessed()).map(|t| t.duration_since(UNIX_EPOCH).unwrap()),
    );
    check("std set_modified only", f.set_modified(UNIX_EPOCH + Duration::from_secs(42)));
    times("after set_modified", "t.txt", true);
    let fd = open_raw(DIR, "t.txt", 0, 0, 1 << 6, 0).unwrap();
    raw_ret("fd set atim only", unsafe { raw::fd_filestat_set_times(fd, 7 * SEC + 1, 0, 1) });
    times("after atim only", "t.txt", true);
    raw_ret("fd set mtim only", unsafe { raw::fd_filestat_set_times(fd, 0, 9 * SEC + 2, 4) });
    times("after mtim only", "t.txt", true);
    raw_ret("fd set none", unsafe { raw::fd_filestat_set_times(fd, 1, 1, 0) });
    times("after none", "t.txt", true);
    raw_ret("fd ATIM|ATIM_NOW", unsafe { raw::fd_filestat_set_times(fd, 0, 0, 1 | 2) });
    raw_ret("fd MTIM|MTIM_NOW", unsafe { raw::fd_filestat_set_times(fd, 0, 0, 4 | 8) });
    raw_ret("fd ATIM|ATIM_NOW bad fd", unsafe { raw::fd_filestat_set_times(99, 0, 0, 1 | 2) });
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    raw_ret("fd set both now", unsafe { raw::fd_filestat_set_times(fd, 0, 0, 2 | 8) });
    let (_, _, _, a, m) = path_stat(DIR, true, "t.txt").unwrap();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 + SEC;
    println!("now atim in range = {}", a + SEC >= before && a <= after);
    println!("now mtim in range = {}", m + SEC >= before && m <= after);
    raw_ret("fd set times on stdout", unsafe { raw::fd_filestat_set_times(1, 0, 0, 1) });
    raw_ret("fd set times on dir", unsafe { raw::fd_filestat_set_times(DIR, 0, 0, 0) });
    // Path variants, following and not following a symlink.
    let (l, ll) = p("t_link");
    let (t, tl) = p("t.txt");
    raw_ret("symlink", unsafe { raw::path_symlink(t.cast(), tl, DIR, l, ll) });
    raw_ret("path set times follow", unsafe { raw::path_filestat_set_times(DIR, 1, l, ll, 11 * SEC, 12 * SEC, 1 | 4) });
    times("target after follow", "t.txt", false);
    raw_ret("path set times nofollow", unsafe {
        raw::path_filestat_set_times(DIR, 0, l, ll, 21 * SEC, 22 * SEC, 1 | 4)
    });
    times("target after nofollow", "t.txt", false);
    times("link after nofollow", "t_link", false);
    raw_ret("path set times both flags", unsafe { raw::path_filestat_set_times(DIR, 0, l, ll, 0, 0, 4 | 8) });
    let (d, dl) = p("tdir");
    raw_ret("mkdir", unsafe { raw::path_create_directory(DIR, d, dl) });
    raw_ret("path set times dir", unsafe { raw::path_filestat_set_times(DIR, 1, d, dl, 31 * SEC, 32 * SEC, 1 | 4) });
    times("dir", "tdir", true);
    let (m, ml) = p("missing");
    raw_ret("path set times missing", unsafe { raw::path_filestat_set_times(DIR, 1, m, ml, 0, 0, 1) });
    raw_ret("path set times on file fd", unsafe { raw::path_filestat_set_times(fd, 1, m, ml, 0, 0, 1) });
    // A time before the epoch is reported as 0, as std gives no time.
    raw_ret("fd set size 3", unsafe { raw::fd_filestat_set_size(fd, 3) });
    println!("size after set_size = {}", show_raw(fd_stat(fd).map(|s| s.2)));
    raw_ret("fd set size huge", unsafe { raw::fd_filestat_set_size(fd, u64::MAX) });
    raw_ret("fd set size on dir", unsafe { raw::fd_filestat_set_size(DIR, 1) });
    unsafe { raw::fd_close(fd) };
    let ro = open_raw(DIR, "t.txt", 0, 0, 1 << 1, 0).unwrap();
    raw_ret("fd set size read-only", unsafe { raw::fd_filestat_set_size(ro, 1) });
    unsafe { raw::fd_close(ro) };
}

fn fdstats() {
    for fd in 0..4 {
        println!("fdstat {fd} = {}", show_raw(fdstat(fd).map(|s| format!("{} {} {:#x} {:#x}", s.0, s.1, s.2, s.3))));
        println!(
            "filestat {fd} = {}",
            show_raw(fd_stat(fd).map(|s| if fd < 3 { format!("{s:?}") } else { format!("type {} ", s.0) }))
        );
    }
    println!("fdstat 99 = {}", show_raw(fdstat(99)));
    let opens: [(&str, &str, u32, u32, u64, u32); 9] = [
        ("read", "t.txt", 0, 0, 1 << 1, 0),
        ("write", "t.txt", 0, 0, 1 << 6, 0),
        ("read+write", "t.txt", 0, 0, (1 << 1) | (1 << 6), 0),
        ("no rights", "t.txt", 0, 0, 0, 0),
        ("create no rights", "c.txt", 0, 1, 0, 0),
        ("truncate read", "c.txt", 0, 8, 1 << 1, 0),
        ("append", "t.txt", 0, 0, 1 << 6, 1),
        ("nonblock", "t.txt", 0, 0, 1 << 1, 4),
        ("directory", "tdir", 0, 2, u64::MAX >> 34, 0),
    ];
    for (what, path, dirflags, oflags, rights, fdflags) in opens {
        match open_raw(DIR, path, dirflags, oflags, rights, fdflags) {
            Ok(fd) => {
                println!(
                    "open {what}: fdstat = {}",
                    show_raw(fdstat(fd).map(|s| format!("{} {} {:#x} {:#x}", s.0, s.1, s.2, s.3)))
                );
                unsafe { raw::fd_close(fd) };
            }
            Err(e) => println!("open {what} = {}", errname(e)),
        }
    }
    for (what, fdflags) in [("dsync", 2), ("rsync", 8), ("sync", 16)] {
        println!("open {what} = {}", show_raw(open_raw(DIR, "t.txt", 0, 0, 1 << 1, fdflags)));
    }
    println!("open directory|creat = {}", show_raw(open_raw(DIR, "tdir", 0, 2 | 1, 0, 0)));
    println!("open directory|trunc = {}", show_raw(open_raw(DIR, "tdir", 0, 2 | 8, 0, 0)));
    println!("open directory on file = {}", show_raw(open_raw(DIR, "t.txt", 0, 2, 0, 0)));
    println!("open dir for write = {}", show_raw(open_raw(DIR, "tdir", 0, 0, 1 << 6, 0)));
    println!(
        "open dir without O_DIRECTORY = {}",
        show_raw(open_raw(DIR, "tdir", 0, 0, 0, 0).map(|fd| fdstat(fd).map(|s| s.0)))
    );
    println!("open trailing slash on file = {}", show_raw(open_raw(DIR, "t.txt/", 0, 0, 2, 0)));
    println!("open excl existing = {}", show_raw(open_raw(DIR, "t.txt", 0, 1 | 4, 2, 0)));
    let f = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    println!("open relative to file = {}", show_raw(open_raw(f, "x", 0, 0, 2, 0)));
    println!("open relative to stdin = {}", show_raw(open_raw(0, "x", 0, 0, 2, 0)));
    // Flags.
    raw_ret("set_flags append", unsafe { raw::fd_fdstat_set_flags(f, 1) });
    println!("flags now = {}", show_raw(fdstat(f).map(|s| s.1)));
    raw_ret("set_flags nonblock", unsafe { raw::fd_fdstat_set_flags(f, 4) });
    println!("flags now = {}", show_raw(fdstat(f).map(|s| s.1)));
    raw_ret("set_flags sync", unsafe { raw::fd_fdstat_set_flags(f, 16) });
    raw_ret("set_flags on dir", unsafe { raw::fd_fdstat_set_flags(DIR, 0) });
    raw_ret("set_flags on stdout", unsafe { raw::fd_fdstat_set_flags(1, 0) });
    raw_ret("set_rights", unsafe { raw::fd_fdstat_set_rights(f, 0, 0) });
    raw_ret("set_rights on stdout", unsafe { raw::fd_fdstat_set_rights(1, 0, 0) });
    raw_ret("set_rights on dir", unsafe { raw::fd_fdstat_set_rights(DIR, 0, 0) });
    raw_ret("set_rights bad fd", unsafe { raw::fd_fdstat_set_rights(99, 0, 0) });
    // Per-kind operations.
    for (what, fd) in [("file", f), ("dir", DIR), ("stdin", 0), ("stdout", 1), ("bad", 99)] {
        raw_ret(&format!("advise {what}"), unsafe { raw::fd_advise(fd, 0, 10, 1) });
        raw_ret(&format!("allocate {what}"), unsafe { raw::fd_allocate(fd, 0, 10) });
        raw_ret(&format!("datasync {what}"), unsafe { raw::fd_datasync(fd) });
        raw_ret(&format!("sync {what}"), unsafe { raw::fd_sync(fd) });
        let mut pos = 0;
        raw_ret(&format!("seek {what}"), unsafe { raw::fd_seek(fd, 0, 1, &mut pos) });
        raw_ret(&format!("tell {what}"), unsafe { raw::fd_tell(fd, &mut pos) });
        let mut buf = [0u8; 4];
        let iov = [[buf.as_mut_ptr() as usize, 0]];
        let mut n = 0;
        if fd != 0 {
            // (An empty read of stdin depends on what stdin is.)
            raw_ret(&format!("read {what}"), unsafe { raw::fd_read(fd, iov.as_ptr(), 1, &mut n) });
        }
        raw_ret(&format!("pread {what}"), unsafe { raw::fd_pread(fd, iov.as_ptr(), 1, 0, &mut n) });
        raw_ret(&format!("pwrite {what}"), unsafe { raw::fd_pwrite(fd, iov.as_ptr(), 1, 0, &mut n) });
        if fd != 1 {
            raw_ret(&format!("write {what}"), unsafe { raw::fd_write(fd, iov.as_ptr(), 1, &mut n) });
        }
        let mut pre = [0u32; 2];
        raw_ret(&format!("prestat_get {what}"), unsafe { raw::fd_prestat_get(fd, pre.as_mut_ptr()) });
        let mut name = [0u8; 8];
        raw_ret(&format!("prestat_dir_name {what}"), unsafe { raw::fd_prestat_dir_name(fd, name.as_mut_ptr(), 8) });
    }
    let mut name = [0u8; 8];
    raw_ret("prestat_dir_name short", unsafe { raw::fd_prestat_dir_name(DIR, name.as_mut_ptr(), 0) });
    // Renumbering: the table's numbering matches wasmtime-wasi's.
    let a = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    let b = open_raw(DIR, "c.txt", 0, 0, 2, 0).unwrap();
    println!("fds = {f} {a} {b}");
    raw_ret("renumber a->b", unsafe { raw::fd_renumber(a, b) });
    println!("a after renumber = {}", show_raw(fdstat(a).map(|s| s.0)));
    println!("b after renumber = {}", show_raw(fd_stat(b).map(|s| s.2)));
    raw_ret("renumber to closed", unsafe { raw::fd_renumber(b, 50) });
    raw_ret("renumber from closed", unsafe { raw::fd_renumber(50, b) });
    raw_ret("renumber same", unsafe { raw::fd_renumber(b, b) });
    let c = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    let d = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    println!("next fds = {c} {d}");
    unsafe { raw::fd_close(f) };
    unsafe { raw::fd_close(c) };
    let e = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    let g = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    let h = open_raw(DIR, "t.txt", 0, 0, 2, 0).unwrap();
    println!("reused fds = {e} {g} {h}");
    raw_ret("renumber file onto stdin", unsafe { raw::fd_renumber(h, 0) });
    println!("fd 0 now = {}", show_raw(fdstat(0).map(|s| s.0)));
    let mut buf = [0u8; 3];
    let iov = [[buf.as_mut_ptr() as usize, 3]];
    let mut n = 0;
    raw_ret("read fd 0", unsafe { raw::fd_read(0, iov.as_ptr(), 1, &mut n) });
    println!("read fd 0 = {n} {:?}", String::from_utf8_lossy(&buf[..n]));
    raw_ret("renumber preopen", unsafe { raw::fd_renumber(DIR, 20) });
    let mut pre = [0u32; 2];
    raw_ret("prestat 20", unsafe { raw::fd_prestat_get(20, pre.as_mut_ptr()) });
    println!("open via 20 = {}", show_raw(open_raw(20, "t.txt", 0, 0, 2, 0)));
    raw_ret("renumber back", unsafe { raw::fd_renumber(20, DIR) });
    let _ = File::open("/t.txt");
}

/// One call wasmtime-wasi refuses by trapping (an invalid enum or flag).
fn trap(which: &str) {
    let mut pos = 0;
    let e = match which {
        "whence" => unsafe { raw::fd_seek(DIR, 0, 3, &mut pos) },
        "advice" => unsafe { raw::fd_advise(DIR, 0, 0, 6) },
        "fdflags" => unsafe { raw::fd_fdstat_set_flags(DIR, 1 << 5) },
        "oflags" => open_raw(DIR, "t.txt", 0, 1 << 4, 0, 0).err().unwrap_or(0),
        "lookupflags" => open_raw(DIR, "t.txt", 2, 0, 0, 0).err().unwrap_or(0),
        "rights" => open_raw(DIR, "t.txt", 0, 0, 1 << 30, 0).err().unwrap_or(0),
        "fstflags" => unsafe { raw::fd_filestat_set_times(DIR, 0, 0, 1 << 4) },
        _ => 0,
    };
    println!("{which} = {}", errname(e));
}

fn main() {
    if let Some(which) = std::env::args().nth(1) {
        return trap(&which);
    }
    timestamps();
    fdstats();
}

// Raw WASI calls and printing helpers shared by the wasi_fs* guests.
#[path = "../fs_common.rs"]
mod fs_common;
#[allow(unused_imports)]
use fs_common::*;
