//! WASI file-system guest: files (create, write, read, append, truncate,
//! seek/tell), directories (create, list, remove) and fd_readdir cookies
//! and truncation, through std::fs and raw preview1 calls. Run with the
//! scratch directory preopened as `/`; prints one line per check.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

fn files() {
    check("create+write", File::create("/f.txt").and_then(|mut f| f.write_all(b"hello world\n")));
    check("read", fs::read_to_string("/f.txt"));
    check("append", OpenOptions::new().append(true).open("/f.txt").and_then(|mut f| f.write_all(b"more\n")));
    check("read after append", fs::read_to_string("/f.txt"));
    let mut f = OpenOptions::new().read(true).write(true).open("/f.txt").unwrap();
    check("seek start+6", f.seek(SeekFrom::Start(6)));
    let mut buf = [0u8; 5];
    check("read 5", f.read_exact(&mut buf).map(|_| String::from_utf8_lossy(&buf).into_owned()));
    check("tell", f.stream_position());
    check("seek end-5", f.seek(SeekFrom::End(-5)));
    check("seek cur+2", f.seek(SeekFrom::Current(2)));
    check("seek before start", f.seek(SeekFrom::Current(-100)));
    check("tell after bad seek", f.stream_position());
    check("seek past end", f.seek(SeekFrom::Start(30)));
    check("write past end", f.write_all(b"X"));
    check("len with hole", f.metadata().map(|m| m.len()));
    check("set_len 4", f.set_len(4));
    check("read after truncate", fs::read("/f.txt"));
    check("set_len 8 (zero fill)", f.set_len(8));
    check("read after extend", fs::read("/f.txt"));
    drop(f);
    check("truncate on open", OpenOptions::new().write(true).truncate(true).open("/f.txt").map(|_| ()));
    check("len after truncate", fs::metadata("/f.txt").map(|m| m.len()));
    check("create_new on existing", OpenOptions::new().write(true).create_new(true).open("/f.txt").map(|_| ()));
    check("open missing", File::open("/missing.txt").map(|_| ()));
    check("read-only write", File::open("/f.txt").and_then(|mut f| f.write(b"x")));
    check("write-only read", OpenOptions::new().write(true).open("/f.txt").and_then(|mut f| f.read(&mut [0; 4])));
    check("is_file", fs::metadata("/f.txt").map(|m| (m.is_file(), m.is_dir())));
    // Raw reads and writes: several iovecs, pread/pwrite, an empty read.
    let fd = open_raw(DIR, "io.bin", 0, 1 | 8, (1 << 1) | (1 << 6) | (1 << 2) | (1 << 5), 0).unwrap();
    let (a, b) = (b"abc".to_vec(), b"defg".to_vec());
    let iovs = [[a.as_ptr() as usize, 3], [b.as_ptr() as usize, 4]];
    let mut n = 0;
    raw_ret("fd_write 2 iovecs", unsafe { raw::fd_write(fd, iovs.as_ptr(), 2, &mut n) });
    println!("fd_write 2 iovecs wrote = {n}");
    let empty = [[a.as_ptr() as usize, 0], [b.as_ptr() as usize, 0]];
    raw_ret("fd_write empty iovecs", unsafe { raw::fd_write(fd, empty.as_ptr(), 2, &mut n) });
    println!("fd_write empty wrote = {n}");
    raw_ret("fd_pwrite at 10", unsafe { raw::fd_pwrite(fd, iovs[1..].as_ptr(), 1, 10, &mut n) });
    let mut pos = 0;
    raw_ret("fd_tell after pwrite", unsafe { raw::fd_tell(fd, &mut pos) });
    println!("position = {pos}");
    let mut r1 = [0u8; 2];
    let mut r2 = [0u8; 8];
    let riovs = [[r1.as_mut_ptr() as usize, 0], [r1.as_mut_ptr() as usize, 2], [r2.as_mut_ptr() as usize, 8]];
    raw_ret("fd_pread 3 iovecs at 0", unsafe { raw::fd_pread(fd, riovs.as_ptr(), 3, 0, &mut n) });
    println!("fd_pread read = {n} {:?}", String::from_utf8_lossy(&r1));
    raw_ret("fd_seek set 1", unsafe { raw::fd_seek(fd, 1, 0, &mut pos) });
    raw_ret("fd_read 3 iovecs", unsafe { raw::fd_read(fd, riovs.as_ptr(), 3, &mut n) });
    println!("fd_read read = {n} {:?}", String::from_utf8_lossy(&r1));
    raw_ret("fd_seek negative set", unsafe { raw::fd_seek(fd, -1, 0, &mut pos) });
    raw_ret("fd_seek end", unsafe { raw::fd_seek(fd, 0, 2, &mut pos) });
    println!("size by seek = {pos}");
    raw_ret("fd_close", unsafe { raw::fd_close(fd) });
    raw_ret("fd_close again", unsafe { raw::fd_close(fd) });
}

fn directories() {
    check("create_dir", fs::create_dir("/d"));
    check("create_dir again", fs::create_dir("/d"));
    check("create_dir missing parent", fs::create_dir("/nope/sub"));
    check("create_dir_all", fs::create_dir_all("/d/a/b/c"));
    check("write in nested", fs::write("/d/a/b/c/file", b"deep"));
    check("read nested", fs::read_to_string("/d/a/b/../b/c/file"));
    check("remove_dir non-empty", fs::remove_dir("/d/a"));
    check("remove_file on dir", fs::remove_file("/d/a"));
    check("remove_dir on file", fs::remove_dir("/d/a/b/c/file"));
    check("open dir as file", File::open("/d").map(|f| f.metadata().map(|m| m.is_dir())));
    check("write-open dir", OpenOptions::new().write(true).open("/d").map(|_| ()));
    check("create file over dir", File::create("/d").map(|_| ()));
    check("file as dir", fs::metadata("/f.txt/"));
    check("read_dir of file", fs::read_dir("/f.txt").map(|_| ()));
    check("read dir as file", fs::read("/d"));
    check("remove_dir_all", fs::remove_dir_all("/d/a"));
    check("remove_dir empty", fs::remove_dir("/d"));
    check("remove_dir gone", fs::remove_dir("/d"));
    // A directory with many entries, listed by std and by raw fd_readdir
    // with small buffers (cookies and truncation).
    fs::create_dir("/many").unwrap();
    for i in 0..150 {
        fs::write(format!("/many/e{i:03}"), b"").unwrap();
    }
    fs::create_dir("/many/sub").unwrap_or(());
    fs::rename("/many/e149", "/many/s149").unwrap();
    let mut names: Vec<String> =
        fs::read_dir("/many").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    println!("read_dir count = {}", names.len());
    println!("read_dir first/last = {} {}", names[0], names[names.len() - 1]);
    let kinds: Vec<String> = {
        let mut v: Vec<(String, bool)> = fs::read_dir("/many")
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().into_string().unwrap(), e.file_type().unwrap().is_dir()))
            .collect();
        v.sort();
        v.into_iter().filter(|(_, d)| *d).map(|(n, _)| n).collect()
    };
    println!("read_dir dirs = {kinds:?}");
    let d = open_raw(DIR, "many", 0, 2, 1 << 14, 0).unwrap();
    for size in [24usize, 25, 28, 29, 40, 64, 200, 4096] {
        readdir_all(d, size);
    }
    // A cookie beyond the end, and fd_readdir on a file.
    let mut buf = [0u8; 64];
    let mut used = 0;
    raw_ret("fd_readdir past end", unsafe { raw::fd_readdir(d, buf.as_mut_ptr(), 64, 1000, &mut used) });
    println!("past end used = {used}");
    let f = open_raw(DIR, "f.txt", 0, 0, 2, 0).unwrap();
    raw_ret("fd_readdir on file", unsafe { raw::fd_readdir(f, buf.as_mut_ptr(), 64, 0, &mut used) });
    raw_ret("fd_readdir bad fd", unsafe { raw::fd_readdir(99, buf.as_mut_ptr(), 64, 0, &mut used) });
    raw_ret("fd_readdir zero buffer", unsafe { raw::fd_readdir(d, buf.as_mut_ptr(), 0, 0, &mut used) });
    println!("zero buffer used = {used}");
    unsafe { raw::fd_close(f) };
    unsafe { raw::fd_close(d) };
    check("remove_dir_all many", fs::remove_dir_all("/many"));
}

/// Lists `d` with fd_readdir in buffers of `size` bytes, restarting from
/// the last complete entry's cookie, as wasi-libc does.
fn readdir_all(d: u32, size: usize) {
    let mut cookie = 0u64;
    let mut names = Vec::new();
    let mut calls = 0;
    let mut partial = 0;
    let mut sequential = true;
    let mut types = std::collections::BTreeMap::new();
    loop {
        let mut buf = vec![0u8; size];
        let mut used = 0;
        let e = unsafe { raw::fd_readdir(d, buf.as_mut_ptr(), size, cookie, &mut used) };
        calls += 1;
        if e != 0 {
            println!("fd_readdir {size} = {}", errname(e));
            return;
        }
        let mut at = 0;
        let mut progressed = false;
        while at + 24 <= used {
            let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
            let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
            let ty = buf[at + 20];
            if buf[at + 21..at + 24] != [0, 0, 0] {
                println!("padding not zero");
            }
            if at + 24 + namlen > used {
                partial += 1;
                break;
            }
            let name = String::from_utf8(buf[at + 24..at + 24 + namlen].to_vec()).unwrap();
            sequential &= next == cookie + 1;
            cookie = next;
            *types.entry(ty).or_insert(0) += 1;
            names.push(name);
            progressed = true;
            at += 24 + namlen;
        }
        if at + 24 > used && at < used {
            partial += 1;
        }
        if used < size {
            break;
        }
        if !progressed {
            // The buffer cannot hold one entry: grow as wasi-libc would.
            println!("fd_readdir {size}: entry does not fit");
            return;
        }
    }
    let n = names.len();
    names.sort();
    names.dedup();
    println!(
        "fd_readdir {size}: calls={calls} entries={n} unique={} partial={partial} sequential={sequential} first={:?} last={:?} types={types:?}",
        names.len(),
        names[0],
        names[names.len() - 1]
    );
}

fn main() {
    files();
    directories();
}

// Raw WASI calls and printing helpers shared by the wasi_fs* guests.
#[path = "../fs_common.rs"]
mod fs_common;
#[allow(unused_imports)]
use fs_common::*;
