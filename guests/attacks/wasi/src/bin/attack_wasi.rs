//! A WASI application reaching past its capabilities: descriptors it was
//! never given (every number up to 4096, where the host's own descriptors
//! and the WASI shim's would be), renumbering over them, and paths out of
//! its one preopen (fd 3, guest `/`): `..`, absolute paths, a symlink to
//! `/etc`. One line per attempt, with the WASI errno numbers folded to
//! names the test compares.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_read(fd: u32, iovs: *const u32, len: usize, nread: *mut usize) -> u16;
    fn fd_write(fd: u32, iovs: *const u32, len: usize, nwritten: *mut usize) -> u16;
    fn fd_close(fd: u32) -> u16;
    fn fd_renumber(from: u32, to: u32) -> u16;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_seek(fd: u32, offset: i64, whence: u8, out: *mut u64) -> u16;
    fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        len: usize,
        oflags: u16,
        base: u64,
        inheriting: u64,
        fdflags: u16,
        out: *mut u32,
    ) -> u16;
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize) -> u16;
}

fn name(errno: u16) -> String {
    match errno {
        0 => "SUCCESS".into(),
        2 => "EACCES".into(),
        8 => "EBADF".into(),
        44 => "ENOENT".into(),
        63 => "EPERM".into(),
        76 => "ENOTCAPABLE".into(),
        e => format!("errno {e}"),
    }
}

/// Runs `f` on every descriptor from 4 to 4095: "all X" if each gave X.
fn every_fd(what: &str, mut f: impl FnMut(u32) -> u16) {
    let first = f(4);
    match (5..4096).find(|&fd| f(fd) != first) {
        None => println!("{what} on fds 4..4096: all {}", name(first)),
        Some(fd) => println!("{what} on fd {fd}: {} (fd 4: {})", name(f(fd)), name(first)),
    }
}

fn open(path: &str) -> String {
    let mut fd = 0u32;
    let r = unsafe { path_open(3, 1, path.as_ptr(), path.len(), 0, 2, 0, 0, &mut fd) };
    name(r)
}

fn main() {
    let mut buf = [0u8; 16];
    let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let mut n = 0usize;
    let mut stat = [0u8; 24];
    let mut pos = 0u64;
    every_fd("fd_read", |fd| unsafe { fd_read(fd, iov.as_ptr(), 1, &mut n) });
    every_fd("fd_write", |fd| unsafe { fd_write(fd, iov.as_ptr(), 1, &mut n) });
    every_fd("fd_fdstat_get", |fd| unsafe { fd_fdstat_get(fd, stat.as_mut_ptr()) });
    every_fd("fd_seek", |fd| unsafe { fd_seek(fd, 0, 0, &mut pos) });
    every_fd("fd_renumber stdout over", |fd| unsafe { fd_renumber(1, fd) });
    every_fd("fd_close", |fd| unsafe { fd_close(fd) });
    println!("open ../etc/passwd: {}", open("../etc/passwd"));
    println!("open /etc/passwd: {}", open("/etc/passwd"));
    println!("open a/../../etc/passwd: {}", open("a/../../etc/passwd"));
    let (target, link) = ("/etc", "etc-link");
    let made = unsafe { path_symlink(target.as_ptr(), target.len(), 3, link.as_ptr(), link.len()) };
    println!("symlink to /etc: {}", name(made));
    println!("open etc-link/passwd: {}", open("etc-link/passwd"));
    println!("stdout still works");
}
