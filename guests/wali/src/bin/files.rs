//! Files and directories: open/read/write/seek, the stat family, links,
//! renames, directory listing and the working directory, inside the
//! scratch directory given as argv[1].
#![no_std]
#![no_main]

use wali_guest::{Vec, args, cstr, entry, println, ptr, show, sys::*};

const AT_FDCWD: i32 = -100;
const O_WRONLY: i32 = 1;
const O_RDWR: i32 = 2;
const O_CREAT: i32 = 0o100;
const O_TRUNC: i32 = 0o1000;
const O_DIRECTORY: i32 = 0o200000;
const AT_REMOVEDIR: i32 = 0x200;
const RENAME_NOREPLACE: i32 = 1;

/// A `struct stat` (x86_64 layout, 144 bytes) and the fields tests print.
struct Stat([u8; 144]);

impl Stat {
    fn new() -> Self {
        Stat([0; 144])
    }
    fn p(&mut self) -> i32 {
        ptr(self.0.as_mut_ptr())
    }
    fn u64_at(&self, o: usize) -> u64 {
        u64::from_le_bytes(self.0[o..o + 8].try_into().unwrap())
    }
    fn nlink(&self) -> u64 {
        self.u64_at(16)
    }
    fn mode(&self) -> u32 {
        u32::from_le_bytes(self.0[24..28].try_into().unwrap())
    }
    fn size(&self) -> u64 {
        self.u64_at(48)
    }
    fn mtime(&self) -> u64 {
        self.u64_at(88)
    }
}

fn stat(path: &str) -> (i64, Stat) {
    let mut st = Stat::new();
    let r = unsafe { SYS_stat(ptr(cstr(path).as_ptr()), st.p()) };
    (r, st)
}

fn open(path: &str, flags: i32, mode: i32) -> i64 {
    unsafe { SYS_open(ptr(cstr(path).as_ptr()), flags, mode) }
}

fn read_str(fd: i32, n: usize) -> (i64, Vec<u8>) {
    let mut buf = wali_guest::vec![0u8; n];
    let r = unsafe { SYS_read(fd, ptr(buf.as_mut_ptr()), n as i32) };
    buf.truncate(r.max(0) as usize);
    (r, buf)
}

fn text(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("<binary>")
}

/// Names in directory `path`, sorted.
fn list(path: &str) -> Vec<wali_guest::String> {
    let fd = open(path, O_DIRECTORY, 0) as i32;
    let mut names = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = unsafe { SYS_getdents64(fd, ptr(buf.as_mut_ptr()), buf.len() as i32) };
        if n <= 0 {
            break;
        }
        let mut off = 0;
        while off < n as usize {
            let reclen = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            names.push(text(&name[..end]).into());
            off += reclen;
        }
    }
    unsafe { SYS_close(fd) };
    names.sort();
    names
}

fn main() -> i32 {
    let argv = args();
    let dir = &argv[1];
    println!("chdir = {}", show(unsafe { SYS_chdir(ptr(cstr(dir).as_ptr())) }));
    let mut cwd = [0u8; 512];
    let n = unsafe { SYS_getcwd(ptr(cwd.as_mut_ptr()), cwd.len() as i32) };
    println!("getcwd is dir = {}", n > 0 && text(&cwd[..n as usize - 1]) == dir.as_str());
    println!("getcwd small buffer = {}", show(unsafe { SYS_getcwd(ptr(cwd.as_mut_ptr()), 2) }));
    unsafe { SYS_umask(0o022) };

    let fd = unsafe { SYS_openat(AT_FDCWD, ptr(cstr("a.txt").as_ptr()), O_CREAT | O_WRONLY | O_TRUNC, 0o644) };
    println!("openat create = {}", fd >= 3);
    let fd = fd as i32;
    let msg = b"hello world\n";
    println!("write = {}", show(unsafe { SYS_write(fd, ptr(msg.as_ptr()), msg.len() as i32) }));
    println!("pwrite64 = {}", show(unsafe { SYS_pwrite64(fd, ptr(b"WORLD".as_ptr()), 5, 6) }));
    println!("lseek end = {}", show(unsafe { SYS_lseek(fd, 0, 2) }));
    let mut st = Stat::new();
    println!("fstat = {} size {} mode {:o}", show(unsafe { SYS_fstat(fd, st.p()) }), st.size(), st.mode() & 0o7777);
    let (r, _) = read_str(fd, 4);
    println!("read write-only fd = {}", show(r));
    println!("close = {}", show(unsafe { SYS_close(fd) }));
    println!("close again = {}", show(unsafe { SYS_close(fd) }));

    let fd = open("a.txt", 0, 0) as i32;
    let (r, b) = read_str(fd, 100);
    println!("read = {} {:?}", show(r), text(&b));
    let mut five = [0u8; 5];
    let r = unsafe { SYS_pread64(fd, ptr(five.as_mut_ptr()), 5, 6) };
    println!("pread64 = {} {:?}", show(r), text(&five));
    println!("lseek set = {}", show(unsafe { SYS_lseek(fd, 6, 0) }));
    let (r, b) = read_str(fd, 5);
    println!("read after seek = {} {:?}", show(r), text(&b));
    println!("lseek bad whence = {}", show(unsafe { SYS_lseek(fd, 0, 9) }));
    println!("write read-only fd = {}", show(unsafe { SYS_write(fd, ptr(msg.as_ptr()), 1) }));
    println!("fadvise = {}", show(unsafe { SYS_fadvise(fd, 0, 0, 2) }));
    unsafe { SYS_close(fd) };

    let (r, st) = stat("a.txt");
    println!("stat = {} size {} nlink {}", show(r), st.size(), st.nlink());
    let mut st = Stat::new();
    let r = unsafe { SYS_newfstatat(AT_FDCWD, ptr(cstr("a.txt").as_ptr()), st.p(), 0) };
    println!("newfstatat = {} size {}", show(r), st.size());
    let mut stx = [0u8; 256];
    let r = unsafe { SYS_statx(AT_FDCWD, ptr(cstr("a.txt").as_ptr()), 0, 0x200, ptr(stx.as_mut_ptr())) };
    println!("statx = {} size {}", show(r), u64::from_le_bytes(stx[40..48].try_into().unwrap()));
    println!("access R_OK = {}", show(unsafe { SYS_access(ptr(cstr("a.txt").as_ptr()), 4) }));
    println!("access missing = {}", show(unsafe { SYS_access(ptr(cstr("missing").as_ptr()), 0) }));
    let r = unsafe { SYS_faccessat(AT_FDCWD, ptr(cstr("a.txt").as_ptr()), 2, 0) };
    println!("faccessat W_OK = {}", show(r));
    let r = unsafe { SYS_faccessat2(AT_FDCWD, ptr(cstr("a.txt").as_ptr()), 2, 0) };
    println!("faccessat2 W_OK = {}", show(r));

    let fd = open("a.txt", O_RDWR, 0) as i32;
    println!("ftruncate = {}", show(unsafe { SYS_ftruncate(fd, 5) }));
    println!("fsync = {}", show(unsafe { SYS_fsync(fd) }));
    println!("fdatasync = {}", show(unsafe { SYS_fdatasync(fd) }));
    unsafe { SYS_close(fd) };
    println!("size after ftruncate = {}", stat("a.txt").1.size());

    println!("rename = {}", show(unsafe { SYS_rename(ptr(cstr("a.txt").as_ptr()), ptr(cstr("b.txt").as_ptr())) }));
    println!("stat old name = {}", show(stat("a.txt").0));
    println!("link = {}", show(unsafe { SYS_link(ptr(cstr("b.txt").as_ptr()), ptr(cstr("c.txt").as_ptr())) }));
    println!("nlink = {}", stat("b.txt").1.nlink());
    println!("symlink = {}", show(unsafe { SYS_symlink(ptr(cstr("b.txt").as_ptr()), ptr(cstr("s").as_ptr())) }));
    let mut target = [0u8; 64];
    let r = unsafe { SYS_readlink(ptr(cstr("s").as_ptr()), ptr(target.as_mut_ptr()), 64) };
    println!("readlink = {} {:?}", show(r), text(&target[..r.max(0) as usize]));
    let mut st = Stat::new();
    let r = unsafe { SYS_lstat(ptr(cstr("s").as_ptr()), st.p()) };
    println!("lstat = {} is link {}", show(r), st.mode() & 0o170000 == 0o120000);

    println!("mkdir = {}", show(unsafe { SYS_mkdir(ptr(cstr("d").as_ptr()), 0o755) }));
    println!("mkdir again = {}", show(unsafe { SYS_mkdir(ptr(cstr("d").as_ptr()), 0o755) }));
    println!("mkdirat = {}", show(unsafe { SYS_mkdirat(AT_FDCWD, ptr(cstr("d/e").as_ptr()), 0o755) }));
    println!("rmdir non-empty = {}", show(unsafe { SYS_rmdir(ptr(cstr("d").as_ptr())) }));
    let r = unsafe { SYS_unlinkat(AT_FDCWD, ptr(cstr("d/e").as_ptr()), AT_REMOVEDIR) };
    println!("unlinkat dir = {}", show(r));
    println!("listing = {:?}", list("."));

    println!("chmod = {}", show(unsafe { SYS_chmod(ptr(cstr("b.txt").as_ptr()), 0o600) }));
    println!("mode = {:o}", stat("b.txt").1.mode() & 0o7777);
    let r = unsafe { SYS_fchmodat(AT_FDCWD, ptr(cstr("b.txt").as_ptr()), 0o640, 0) };
    println!("fchmodat = {} mode {:o}", show(r), stat("b.txt").1.mode() & 0o7777);
    let times: [i64; 4] = [1_000_000_000, 0, 1_000_000_000, 0];
    let r = unsafe { SYS_utimensat(AT_FDCWD, ptr(cstr("b.txt").as_ptr()), ptr(times.as_ptr()), 0) };
    println!("utimensat = {} mtime {}", show(r), stat("b.txt").1.mtime());

    let dfd = open("d", O_DIRECTORY, 0) as i32;
    println!("fchdir = {}", show(unsafe { SYS_fchdir(dfd) }));
    let n = unsafe { SYS_getcwd(ptr(cwd.as_mut_ptr()), cwd.len() as i32) };
    println!("getcwd ends in /d = {}", text(&cwd[..n.max(1) as usize - 1]).ends_with("/d"));
    unsafe { SYS_chdir(ptr(cstr("..").as_ptr())) };
    println!("unlink = {}", show(unsafe { SYS_unlink(ptr(cstr("c.txt").as_ptr())) }));
    println!("unlink symlink = {}", show(unsafe { SYS_unlink(ptr(cstr("s").as_ptr())) }));
    let (b, x) = (cstr("b.txt"), cstr("d/x"));
    let r = unsafe { SYS_renameat2(AT_FDCWD, ptr(b.as_ptr()), AT_FDCWD, ptr(x.as_ptr()), RENAME_NOREPLACE) };
    println!("renameat2 = {}", show(r));
    let fd = unsafe { SYS_openat(dfd, ptr(cstr("x").as_ptr()), 0, 0) } as i32;
    let (r, b) = read_str(fd, 100);
    println!("read via dirfd = {} {:?}", show(r), text(&b));
    unsafe { SYS_close(fd) };
    let mut fs = [0u8; 120];
    println!("statfs = {}", show(unsafe { SYS_statfs(ptr(cstr(".").as_ptr()), ptr(fs.as_mut_ptr())) }));
    println!("fstatfs = {}", show(unsafe { SYS_fstatfs(dfd, ptr(fs.as_mut_ptr())) }));
    unsafe { SYS_close(dfd) };
    println!("open file as dir = {}", show(open("d/x", O_DIRECTORY, 0)));
    println!("open missing = {}", show(open("nope/x", 0, 0)));
    println!("listing = {:?}", list("."));
    0
}

entry!(main);
