//! Descriptor I/O through the `io` guest: pipes, vectored I/O, poll/select,
//! epoll, eventfd, dup, fcntl flags and locks, flock, ioctl, and the errors
//! bad descriptors and pointers produce. Results that depend on the kernel
//! rather than on the ABI are taken from the same calls made natively here.

mod common;
use common::*;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A raw result as the guest prints it: the value, or `-ENAME`.
fn show(ret: i64) -> String {
    if ret >= 0 {
        return ret.to_string();
    }
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap();
    let name = match errno {
        libc::EAGAIN => "EAGAIN",
        libc::EBADF => "EBADF",
        libc::EFAULT => "EFAULT",
        libc::EINVAL => "EINVAL",
        libc::ENOTTY => "ENOTTY",
        libc::ESPIPE => "ESPIPE",
        e => panic!("unexpected errno {e}"),
    };
    format!("-{name}")
}

fn pipe2(flags: i32) -> [i32; 2] {
    let mut p = [-1; 2];
    assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), flags) }, 0);
    p
}

fn close(fds: &[i32]) {
    for &fd in fds {
        unsafe { libc::close(fd) };
    }
}

fn fcntl(fd: i32, cmd: i32, arg: libc::c_long) -> String {
    show(unsafe { libc::fcntl(fd, cmd, arg) } as i64)
}

fn flock(ty: i32, start: i64, len: i64) -> libc::flock {
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = ty as i16;
    fl.l_whence = libc::SEEK_SET as i16;
    fl.l_start = start;
    fl.l_len = len;
    fl
}

/// What the guest prints for a GETLK answer.
fn lock_info(ret: i32, fl: &libc::flock) -> String {
    let ty = match fl.l_type as i32 {
        libc::F_RDLCK => "F_RDLCK",
        libc::F_WRLCK => "F_WRLCK",
        libc::F_UNLCK => "F_UNLCK",
        _ => "?",
    };
    let pid = if fl.l_pid == std::process::id() as i32 { "self".to_string() } else { fl.l_pid.to_string() };
    format!("{} type={ty} start={} len={} pid={pid}", show(ret as i64), fl.l_start, fl.l_len)
}

/// Runs the kernel-defined parts of the guest's script natively and
/// returns `(placeholder, value)` pairs for the expected transcript.
fn native(dir: &Path) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let p = pipe2(libc::O_CLOEXEC | libc::O_NONBLOCK);
    out.push(("@GETFD_CLOEXEC@", fcntl(p[0], libc::F_GETFD, 0)));
    out.push(("@GETFL_R@", fcntl(p[0], libc::F_GETFL, 0)));
    out.push(("@GETFL_W@", fcntl(p[1], libc::F_GETFL, 0)));
    assert_eq!(unsafe { libc::write(p[1], b"hello pipe".as_ptr().cast(), 10) }, 10);
    let mut avail = -1;
    let ret = unsafe { libc::ioctl(p[0], libc::FIONREAD, &mut avail) };
    out.push(("@FIONREAD@", format!("{} avail={avail}", show(ret as i64))));
    let ret = unsafe { libc::ioctl(p[0], 0x1234, 0) };
    out.push(("@IOCTL_IO@", show(ret as i64)));
    let ret = unsafe { libc::ioctl(p[0], 0x8004_5877, &mut avail) };
    out.push(("@IOCTL_IOR@", show(ret as i64)));
    // The descriptor is checked before the vector.
    let iov = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 };
    let ret = unsafe { libc::syscall(libc::SYS_readv, -1, &iov, -1) };
    out.push(("@READV_BADFD@", show(ret)));
    let ret = unsafe { libc::syscall(libc::SYS_readv, p[1], 0xFFFF_FFF0usize, 1) };
    out.push(("@READV_WRITE_END@", show(ret)));
    close(&p);

    let ep = unsafe { libc::epoll_create1(0) };
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 2];
    let ret = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 0, 0) };
    out.push(("@EPOLL_MAX0@", show(ret as i64)));
    close(&[ep]);

    let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
    let ret = unsafe { libc::write(efd, [0u8; 4].as_ptr().cast(), 4) };
    out.push(("@EVENTFD_SHORT@", show(ret as i64)));
    close(&[efd]);

    // The lock sequence on a file of our own.
    let path = CString::new(dir.join("native-locks").as_os_str().as_bytes()).unwrap();
    let open = |flags| unsafe { libc::open(path.as_ptr(), flags, 0o644) };
    let (a, b) = (open(libc::O_RDWR | libc::O_CREAT), open(libc::O_RDWR));
    let lk = |fd, cmd, fl: &mut libc::flock| unsafe { libc::fcntl(fd, cmd, fl as *mut _) };
    assert_eq!(lk(a, libc::F_SETLK, &mut flock(libc::F_WRLCK, 0, 10)), 0);
    let mut q = flock(libc::F_WRLCK, 0, 10);
    let r = lk(a, libc::F_GETLK, &mut q);
    out.push(("@GETLK_OWN@", lock_info(r, &q)));
    let mut q = flock(libc::F_WRLCK, 5, 10);
    let r = lk(b, libc::F_OFD_GETLK, &mut q);
    out.push(("@OFD_GETLK@", lock_info(r, &q)));
    let r = lk(b, libc::F_OFD_SETLK, &mut flock(libc::F_WRLCK, 0, 10));
    out.push(("@OFD_SETLK_BUSY@", show(r as i64)));
    assert_eq!(lk(b, libc::F_OFD_SETLK, &mut flock(libc::F_RDLCK, 20, 10)), 0);
    let mut q = flock(libc::F_WRLCK, 20, 10);
    let r = lk(a, libc::F_GETLK, &mut q);
    out.push(("@GETLK_VS_OFD@", lock_info(r, &q)));
    close(&[a, b]);
    out
}

const EXPECTED: &str = r#"pipe = 0
pipe write = 7
pipe read = "through"
pipe F_GETFD = 0
pipe2 O_CLOEXEC|O_NONBLOCK = 0
pipe2 F_GETFD = @GETFD_CLOEXEC@
pipe2 F_GETFL read end = @GETFL_R@
pipe2 F_GETFL write end = @GETFL_W@
read empty nonblocking = -EAGAIN
write = 10
ioctl FIONREAD = @FIONREAD@
read = "hello pipe"
ioctl FIONREAD bad ptr = -EFAULT
ioctl unknown _IO = @IOCTL_IO@
ioctl unknown _IOR = @IOCTL_IOR@
ioctl bad fd = -EBADF
pipe2 bogus flags = -EINVAL
pipe2 bad ptr = -EFAULT
writev 3 iovecs = 9
readv 3 iovecs = 9 "abcd" "ef" "ghi"
readv iovcnt 0 = 0
writev 1024 iovecs = 1024
read back = 1024 matches=true
writev NULL empty entry = 2
read = "ok"
write file = 10
pwritev at 3 = 4
lseek cur = 10
preadv at 2 = 7 "2AB" "CD78"
preadv at 8 = 2 "89"
pwritev at 12 = 3
preadv offset -1 = -EINVAL
pwritev on pipe = -ESPIPE
poll empty pipe = 0 revents=0
poll both ends = 1 revents=0,4
poll after write = 2 revents=1,4
ppoll no mask = 1 revents=1
ppoll with mask = 1 revents=1
ppoll mask size 4 = -EINVAL
read = "x"
select empty pipe = 0 readable=false
select write end = 1 writable=true
select after write = 1 readable=true
pselect6 no mask = 1 readable=true
pselect6 with mask = 1 readable=true
pselect6 NULL sigset = 1 readable=true
pselect6 mask size 4 = -EINVAL
pselect6 sigset beyond memory = -EFAULT
pselect6 struct beyond memory = -EFAULT
select fd_set beyond memory = -EFAULT
read = "y"
epoll_create1 = fd
epoll F_GETFD = 1
epoll_ctl add pipe read = 0
epoll_ctl add eventfd = 0
epoll_ctl add pipe write = 0
epoll_ctl add again = -EEXIST
epoll_ctl event beyond memory = -EFAULT
epoll_ctl event across end = -EFAULT
epoll_ctl on itself = -EINVAL
epoll_pwait one ready = 1 {data=0x3 events=0x4}
epoll_pwait three ready = 3 {data=0x2 events=0x1} {data=0x3 events=0x4} {data=0x1122334455667788 events=0x1}
epoll_pwait with mask = 3 {data=0x2 events=0x1} {data=0x3 events=0x4} {data=0x1122334455667788 events=0x1}
epoll_wait = 3 {data=0x2 events=0x1} {data=0x3 events=0x4} {data=0x1122334455667788 events=0x1}
epoll_wait max 2 = 2
epoll_wait max 0 = @EPOLL_MAX0@
epoll_pwait events beyond memory = -EFAULT
epoll_ctl del pipe write = 0
epoll_ctl mod pipe read = 0
epoll_wait after del/mod = 2 {data=0x1 events=0x1} {data=0x2 events=0x1}
epoll_wait bad fd = -EBADF
eventfd2 = fd
eventfd write 3 = 8
eventfd write 4 = 8
eventfd read = 8 value=7
eventfd read again = -EAGAIN
eventfd write 3 = 8
eventfd read = 8 value=3
eventfd short write = @EVENTFD_SHORT@
eventfd short read = -EINVAL
semaphore write 3 = 8
semaphore read = 8 value=1
semaphore read = 8 value=1
semaphore read = 8 value=1
semaphore read = -EAGAIN value=0
eventfd2 bogus flags = -EINVAL
F_GETFD 200 before = -EBADF
F_GETFD 201 before = -EBADF
F_GETFD 202 before = -EBADF
dup = fd
read = "via dup"
dup2 to 200 = 200
dup2 same fd returns it = true
dup3 same fd = -EINVAL
dup3 to 201 O_CLOEXEC = 201
dup3 bogus flags = -EINVAL
F_GETFD 200 = 0
F_GETFD 201 = 1
F_DUPFD_CLOEXEC from 200 = 202
F_GETFD 202 = 1
F_SETFD 202 0 = 0
F_GETFD 202 = 0
read = "210"
dup -1 = -EBADF
dup2 from -1 = -EBADF
F_GETFL = @GETFL_R@
F_SETFL 0 = 0
F_GETFL = 0
F_SETFL O_NONBLOCK = 0
F_GETFL = @GETFL_R@
read empty nonblocking = -EAGAIN
fcntl bad fd = -EBADF
fcntl bogus cmd = -EINVAL
write = 14
F_SETLK write 0..10 = 0
F_GETLK own lock = @GETLK_OWN@
F_OFD_GETLK = @OFD_GETLK@
F_OFD_SETLK write 0..10 = @OFD_SETLK_BUSY@
F_OFD_SETLK read 20..30 = 0
F_GETLK vs OFD = @GETLK_VS_OFD@
F_SETLK write 20..30 = -EAGAIN
F_SETLK read 20..30 = 0
F_SETLKW unlock 0..10 = 0
F_OFD_SETLK write 0..10 = 0
F_GETLK whole file = 0 type=F_WRLCK start=0 len=10 pid=-1
F_OFD_GETLK nonzero pid = -EINVAL
F_SETLK bad type = -EINVAL
F_GETLK beyond memory = -EFAULT
F_OFD_GETLK across end = -EFAULT
flock a LOCK_EX = 0
flock b LOCK_EX|LOCK_NB = -EAGAIN
flock a LOCK_UN = 0
flock b LOCK_EX|LOCK_NB = 0
flock bogus op = -EINVAL
flock bad fd = -EBADF
readv iovcnt -1 = -EINVAL
readv iovcnt 1025 = -EINVAL
readv fd -1 iovcnt -1 = @READV_BADFD@
readv write end iovec array beyond memory = @READV_WRITE_END@
preadv offset -1 iovcnt 1025 = -EINVAL
writev entry beyond memory = -EFAULT
readv entry beyond memory = -EFAULT
readv entry across end = -EFAULT
readv iovec array beyond memory = -EFAULT
readv iovec array across end = -EFAULT
read = "q"
poll array beyond memory = -EFAULT
poll array across end = -EFAULT
read fd -1 = -EBADF
write fd -1 = -EBADF
read fd 100000 = -EBADF
read buffer beyond memory = -EFAULT
epoll_ctl event beyond memory = -EFAULT
epoll_ctl bad fd = -EBADF
"#;

#[test]
fn io_transcript_matches_the_kernel() {
    let dir = scratch();
    let r = run("io", &[dir.path().to_str().unwrap()]);
    let mut expected = EXPECTED.to_string();
    for (key, value) in native(dir.path()) {
        assert!(expected.contains(key), "{key} is not in the transcript");
        expected = expected.replace(key, &value);
    }
    assert_eq!(r.stdout, expected);
    assert_eq!(r.stderr, "");
    assert_eq!(r.status, 0);

    // pwritev at 3 and 12 over "0123456789" leaves a two-byte hole.
    let vec = std::fs::read(dir.path().join("vec.txt")).unwrap();
    assert_eq!(vec, b"012ABCD789\0\0end");
    let locks = std::fs::read(dir.path().join("locks.txt")).unwrap();
    assert_eq!(locks, b"locked region\n");
    let mut names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["locks.txt", "native-locks", "vec.txt"]);
}

#[test]
fn io_needs_a_scratch_dir() {
    let r = run("io", &[]);
    assert_eq!(r.stdout, "usage: io SCRATCH_DIR\n");
    assert_eq!(r.status, 2);
}
