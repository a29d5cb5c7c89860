//! Descriptor I/O, single-threaded: pipes, vectored I/O, poll/select,
//! epoll, eventfd, dup, fcntl (flags and record locks), flock, ioctl, and
//! the errors bad descriptors and bad pointers must produce.
//! argv[1] is a scratch directory for the files it writes.
#![no_std]
#![no_main]

use wali_guest::{String, Vec, args, cstr, entry, format, println, ptr, show, sys, vec};

/// Imports the spec lists as unimplemented, so the generated set lacks
/// them; the host accepts them with the signature the call site declares.
mod extra {
    #[link(wasm_import_module = "wali")]
    unsafe extern "C" {
        pub fn SYS_epoll_wait(epfd: i32, events: i32, maxevents: i32, timeout: i32) -> i64;
        pub fn SYS_preadv(fd: i32, iov: i32, iovcnt: i32, offset: i64) -> i64;
        pub fn SYS_pwritev(fd: i32, iov: i32, iovcnt: i32, offset: i64) -> i64;
    }
}

const O_RDWR: i32 = 2;
const O_CREAT: i32 = 0o100;
const O_TRUNC: i32 = 0o1000;
const O_NONBLOCK: i32 = 0o4000;
const O_CLOEXEC: i32 = 0o2000000;

const F_DUPFD_CLOEXEC: i32 = 1030;
const F_GETFD: i32 = 1;
const F_SETFD: i32 = 2;
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const F_GETLK: i32 = 5;
const F_SETLK: i32 = 6;
const F_SETLKW: i32 = 7;
const F_OFD_GETLK: i32 = 36;
const F_OFD_SETLK: i32 = 37;
const F_RDLCK: i16 = 0;
const F_WRLCK: i16 = 1;
const F_UNLCK: i16 = 2;

const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
const LOCK_UN: i32 = 8;

const POLLIN: i16 = 1;
const POLLOUT: i16 = 4;

const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
const EPOLLIN: u32 = 1;
const EPOLLOUT: u32 = 4;

const EFD_SEMAPHORE: i32 = 1;
const FIONREAD: i32 = 0x541B;

/// An address no guest memory reaches.
const WILD: i32 = 0xFFFF_FFF0u32 as i32;

/// The first address past linear memory.
fn mem_end() -> u32 {
    (core::arch::wasm32::memory_size(0) * 65536) as u32
}

fn say(label: &str, ret: i64) {
    println!("{label} = {}", show(ret));
}

/// A new descriptor is printed as `fd`: its number depends on the host.
fn fd_or_err(ret: i64) -> String {
    if ret >= 0 { "fd".into() } else { show(ret) }
}

fn read(fd: i32, buf: &mut [u8]) -> i64 {
    unsafe { sys::SYS_read(fd, ptr(buf.as_mut_ptr()), buf.len() as i32) }
}

fn write(fd: i32, buf: &[u8]) -> i64 {
    unsafe { sys::SYS_write(fd, ptr(buf.as_ptr()), buf.len() as i32) }
}

fn close(fd: i32) {
    unsafe { sys::SYS_close(fd) };
}

fn fcntl(fd: i32, cmd: i32, arg: i64) -> i64 {
    unsafe { sys::SYS_fcntl(fd, cmd, arg) }
}

fn pipe2(flags: i32) -> [i32; 2] {
    let mut p = [-1i32; 2];
    let ret = unsafe { sys::SYS_pipe2(ptr(p.as_mut_ptr()), flags) };
    assert!(ret == 0, "pipe2: {}", show(ret));
    p
}

/// The text of the first `n` bytes of `buf`, or the error `n` stands for.
fn text(buf: &[u8], n: i64) -> String {
    if n < 0 {
        return show(n);
    }
    format!("{:?}", core::str::from_utf8(&buf[..n as usize]).unwrap_or("?"))
}

/// Reads everything a non-blocking pipe holds.
fn drain(fd: i32) -> String {
    let mut buf = [0u8; 256];
    let n = read(fd, &mut buf);
    text(&buf, n)
}

/// A WALI iovec `{u32 base, u32 len}` the kernel reads from.
fn iov(buf: &[u8]) -> [u32; 2] {
    [ptr(buf.as_ptr()) as u32, buf.len() as u32]
}

/// A WALI iovec the kernel writes into.
fn iov_mut(buf: &mut [u8]) -> [u32; 2] {
    [ptr(buf.as_mut_ptr()) as u32, buf.len() as u32]
}

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

fn open_in(dir: &str, name: &str, flags: i32) -> i32 {
    let path = cstr(&format!("{dir}/{name}"));
    let fd = unsafe { sys::SYS_open(ptr(path.as_ptr()), flags, 0o644) };
    assert!(fd >= 0, "open {name}: {}", show(fd));
    fd as i32
}

fn pipes() {
    let mut p = [-1i32; 2];
    say("pipe", unsafe { sys::SYS_pipe(ptr(p.as_mut_ptr())) });
    say("pipe write", write(p[1], b"through"));
    let mut buf = [0u8; 16];
    let n = read(p[0], &mut buf);
    println!("pipe read = {}", text(&buf, n));
    say("pipe F_GETFD", fcntl(p[0], F_GETFD, 0));
    close(p[0]);
    close(p[1]);

    let mut p = [-1i32; 2];
    let ret = unsafe { sys::SYS_pipe2(ptr(p.as_mut_ptr()), O_CLOEXEC | O_NONBLOCK) };
    say("pipe2 O_CLOEXEC|O_NONBLOCK", ret);
    say("pipe2 F_GETFD", fcntl(p[0], F_GETFD, 0));
    say("pipe2 F_GETFL read end", fcntl(p[0], F_GETFL, 0));
    say("pipe2 F_GETFL write end", fcntl(p[1], F_GETFL, 0));
    say("read empty nonblocking", read(p[0], &mut buf));
    say("write", write(p[1], b"hello pipe"));
    let mut avail = -1i32;
    let ret = unsafe { sys::SYS_ioctl(p[0], FIONREAD, ptr(&raw mut avail)) };
    println!("ioctl FIONREAD = {} avail={avail}", show(ret));
    println!("read = {}", drain(p[0]));
    say("ioctl FIONREAD bad ptr", unsafe { sys::SYS_ioctl(p[0], FIONREAD, WILD) });
    say("ioctl unknown _IO", unsafe { sys::SYS_ioctl(p[0], 0x1234, 0) });
    // _IOR('X', 0x77, int): encodes a size, still not a pipe request.
    let mut word = 0i32;
    say("ioctl unknown _IOR", unsafe { sys::SYS_ioctl(p[0], 0x8004_5877u32 as i32, ptr(&raw mut word)) });
    say("ioctl bad fd", unsafe { sys::SYS_ioctl(-1, FIONREAD, ptr(&raw mut avail)) });
    say("pipe2 bogus flags", unsafe { sys::SYS_pipe2(ptr(p.as_mut_ptr()), 0x1) });
    say("pipe2 bad ptr", unsafe { sys::SYS_pipe2(WILD, 0) });
    close(p[0]);
    close(p[1]);
}

fn vectored(dir: &str) {
    let p = pipe2(O_NONBLOCK);
    let (a, b, c) = (b"ab", b"cde", b"fghi");
    let out = [iov(a), iov(b), iov(c)];
    say("writev 3 iovecs", unsafe { sys::SYS_writev(p[1], ptr(out.as_ptr()), 3) });
    let (mut x, mut y, mut z) = ([0u8; 4], [0u8; 2], [0u8; 10]);
    let ins = [iov_mut(&mut x), iov_mut(&mut y), iov_mut(&mut z)];
    let n = unsafe { sys::SYS_readv(p[0], ptr(ins.as_ptr()), 3) };
    println!("readv 3 iovecs = {} {} {} {}", show(n), text(&x, 4), text(&y, 2), text(&z, 3));
    say("readv iovcnt 0", unsafe { sys::SYS_readv(p[0], ptr(ins.as_ptr()), 0) });

    // Exactly UIO_MAXIOV entries is allowed.
    let bytes: Vec<u8> = (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    let many: Vec<[u32; 2]> = bytes.chunks(1).map(iov).collect();
    say("writev 1024 iovecs", unsafe { sys::SYS_writev(p[1], ptr(many.as_ptr()), 1024) });
    let mut back = vec![0u8; 2048];
    let n = read(p[0], &mut back);
    println!("read back = {} matches={}", show(n), n == 1024 && back[..1024] == bytes[..]);

    // A NULL base with length 0 is ignored, as the kernel does.
    let ok = b"ok";
    let mixed = [[0u32, 0], iov(ok)];
    say("writev NULL empty entry", unsafe { sys::SYS_writev(p[1], ptr(mixed.as_ptr()), 2) });
    println!("read = {}", drain(p[0]));

    // pread/pwrite vectors on a file; the file offset does not move.
    let fd = open_in(dir, "vec.txt", O_RDWR | O_CREAT | O_TRUNC);
    say("write file", write(fd, b"0123456789"));
    let parts = [iov(b"AB"), iov(b"CD")];
    say("pwritev at 3", unsafe { extra::SYS_pwritev(fd, ptr(parts.as_ptr()), 2, 3) });
    say("lseek cur", unsafe { sys::SYS_lseek(fd, 0, 1) });
    let (mut s, mut t) = ([0u8; 3], [0u8; 4]);
    let ins = [iov_mut(&mut s), iov_mut(&mut t)];
    let n = unsafe { extra::SYS_preadv(fd, ptr(ins.as_ptr()), 2, 2) };
    println!("preadv at 2 = {} {} {}", show(n), text(&s, 3), text(&t, 4));
    let ins = [iov_mut(&mut s), iov_mut(&mut t)];
    let n = unsafe { extra::SYS_preadv(fd, ptr(ins.as_ptr()), 2, 8) };
    println!("preadv at 8 = {} {}", show(n), text(&s, n.min(3)));
    let tail = [iov(b"end")];
    say("pwritev at 12", unsafe { extra::SYS_pwritev(fd, ptr(tail.as_ptr()), 1, 12) });
    say("preadv offset -1", unsafe { extra::SYS_preadv(fd, ptr(ins.as_ptr()), 2, -1) });
    say("pwritev on pipe", unsafe { extra::SYS_pwritev(p[1], ptr(tail.as_ptr()), 1, 0) });
    close(fd);
    close(p[0]);
    close(p[1]);
}

fn readiness() {
    let p = pipe2(O_NONBLOCK);
    // struct pollfd {int fd; short events; short revents;}
    let pfd = |fd, events| PollFd { fd, events, revents: -1 };
    let mut fds = [pfd(p[0], POLLIN), pfd(p[1], POLLOUT)];
    let n = unsafe { sys::SYS_poll(ptr(fds.as_mut_ptr()), 1, 0) };
    println!("poll empty pipe = {} revents={}", show(n), fds[0].revents);
    let n = unsafe { sys::SYS_poll(ptr(fds.as_mut_ptr()), 2, 0) };
    println!("poll both ends = {} revents={},{}", show(n), fds[0].revents, fds[1].revents);
    write(p[1], b"x");
    fds[0].revents = -1;
    let n = unsafe { sys::SYS_poll(ptr(fds.as_mut_ptr()), 2, 0) };
    println!("poll after write = {} revents={},{}", show(n), fds[0].revents, fds[1].revents);

    // struct timespec {i64 sec; i64 nsec;}
    let mut ts = [0i64; 2];
    fds[0].revents = -1;
    let n = unsafe { sys::SYS_ppoll(ptr(fds.as_mut_ptr()), 1, ptr(ts.as_mut_ptr()), 0, 8) };
    println!("ppoll no mask = {} revents={}", show(n), fds[0].revents);
    // Block SIGUSR1 (bit 9) during the wait.
    let mask: u64 = 1 << 9;
    fds[0].revents = -1;
    let n = unsafe { sys::SYS_ppoll(ptr(fds.as_mut_ptr()), 1, ptr(ts.as_mut_ptr()), ptr(&mask), 8) };
    println!("ppoll with mask = {} revents={}", show(n), fds[0].revents);
    say("ppoll mask size 4", unsafe { sys::SYS_ppoll(ptr(fds.as_mut_ptr()), 1, ptr(ts.as_mut_ptr()), ptr(&mask), 4) });
    // fd_set for select: 1024 bits.
    let set_of = |fd: i32| {
        let mut s = [0u64; 16];
        s[fd as usize / 64] |= 1 << (fd % 64);
        s
    };
    let has = |s: &[u64; 16], fd: i32| s[fd as usize / 64] & (1 << (fd % 64)) != 0;
    let nfds = p[0].max(p[1]) + 1;
    let mut tv = [0i64; 2];
    println!("read = {}", drain(p[0]));

    let mut rs = set_of(p[0]);
    let n = unsafe { sys::SYS_select(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(tv.as_mut_ptr())) };
    println!("select empty pipe = {} readable={}", show(n), has(&rs, p[0]));
    let mut ws = set_of(p[1]);
    let n = unsafe { sys::SYS_select(nfds, 0, ptr(ws.as_mut_ptr()), 0, ptr(tv.as_mut_ptr())) };
    println!("select write end = {} writable={}", show(n), has(&ws, p[1]));
    write(p[1], b"y");
    let mut rs = set_of(p[0]);
    let n = unsafe { sys::SYS_select(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(tv.as_mut_ptr())) };
    println!("select after write = {} readable={}", show(n), has(&rs, p[0]));

    let mut rs = set_of(p[0]);
    let n = unsafe { sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), 0) };
    println!("pselect6 no mask = {} readable={}", show(n), has(&rs, p[0]));
    // WALI's sixth argument: {u32 sigset ptr in an 8-byte slot, u64 size}.
    let sm: [u64; 2] = [ptr(&mask) as u32 as u64, 8];
    let mut rs = set_of(p[0]);
    let n = unsafe { sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), ptr(&sm)) };
    println!("pselect6 with mask = {} readable={}", show(n), has(&rs, p[0]));
    // A NULL sigset inside the struct means no mask change.
    let null_set: [u64; 2] = [0, 8];
    let mut rs = set_of(p[0]);
    let n = unsafe { sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), ptr(&null_set)) };
    println!("pselect6 NULL sigset = {} readable={}", show(n), has(&rs, p[0]));
    let bad_size: [u64; 2] = [ptr(&mask) as u32 as u64, 4];
    let mut rs = set_of(p[0]);
    say("pselect6 mask size 4", unsafe {
        sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), ptr(&bad_size))
    });
    let wild_set: [u64; 2] = [WILD as u32 as u64, 8];
    say("pselect6 sigset beyond memory", unsafe {
        sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), ptr(&wild_set))
    });
    say("pselect6 struct beyond memory", unsafe {
        sys::SYS_pselect6(nfds, ptr(rs.as_mut_ptr()), 0, 0, ptr(ts.as_mut_ptr()), WILD)
    });
    say("select fd_set beyond memory", unsafe { sys::SYS_select(nfds, WILD, 0, 0, ptr(tv.as_mut_ptr())) });
    println!("read = {}", drain(p[0]));
    close(p[0]);
    close(p[1]);
}

/// Events from an epoll wait: 12-byte packed `{u32 events, u64 data}`,
/// sorted by data because the kernel's ready-list order is not ABI.
fn events(buf: &[u8], n: i64) -> String {
    if n < 0 {
        return show(n);
    }
    let mut evs: Vec<(u64, u32)> = buf
        .chunks_exact(12)
        .take(n as usize)
        .map(|e| {
            let events = u32::from_le_bytes(e[0..4].try_into().unwrap());
            (u64::from_le_bytes(e[4..12].try_into().unwrap()), events)
        })
        .collect();
    evs.sort();
    let mut s = format!("{n}");
    for (data, ev) in evs {
        s += &format!(" {{data={data:#x} events={ev:#x}}}");
    }
    s
}

fn event(events: u32, data: u64) -> [u8; 12] {
    let mut e = [0u8; 12];
    e[0..4].copy_from_slice(&events.to_le_bytes());
    e[4..12].copy_from_slice(&data.to_le_bytes());
    e
}

fn epoll() {
    let ep = unsafe { sys::SYS_epoll_create1(O_CLOEXEC) };
    println!("epoll_create1 = {}", fd_or_err(ep));
    let ep = ep as i32;
    say("epoll F_GETFD", fcntl(ep, F_GETFD, 0));
    let efd = unsafe { sys::SYS_eventfd2(0, O_NONBLOCK) } as i32;
    let p = pipe2(O_NONBLOCK);
    let ctl = |op: i32, fd: i32, ev: &[u8; 12]| unsafe { sys::SYS_epoll_ctl(ep, op, fd, ptr(ev.as_ptr())) };
    say("epoll_ctl add pipe read", ctl(EPOLL_CTL_ADD, p[0], &event(EPOLLIN, 0x1122_3344_5566_7788)));
    say("epoll_ctl add eventfd", ctl(EPOLL_CTL_ADD, efd, &event(EPOLLIN, 2)));
    say("epoll_ctl add pipe write", ctl(EPOLL_CTL_ADD, p[1], &event(EPOLLOUT, 3)));
    say("epoll_ctl add again", ctl(EPOLL_CTL_ADD, p[0], &event(EPOLLIN, 0)));
    say("epoll_ctl event beyond memory", unsafe { sys::SYS_epoll_ctl(ep, EPOLL_CTL_MOD, p[0], WILD) });
    say("epoll_ctl event across end", unsafe { sys::SYS_epoll_ctl(ep, EPOLL_CTL_MOD, p[0], (mem_end() - 8) as i32) });
    say("epoll_ctl on itself", ctl(EPOLL_CTL_ADD, ep, &event(EPOLLIN, 0)));

    let mut buf = [0u8; 12 * 8];
    let wait = |buf: &mut [u8], max: i32| unsafe { sys::SYS_epoll_pwait(ep, ptr(buf.as_mut_ptr()), max, 0, 0, 8) };
    let n = wait(&mut buf, 8);
    println!("epoll_pwait one ready = {}", events(&buf, n));
    write(p[1], b"z");
    let three: u64 = 3;
    write(efd, &three.to_le_bytes());
    let n = wait(&mut buf, 8);
    println!("epoll_pwait three ready = {}", events(&buf, n));
    let mask: u64 = 1 << 9;
    let n = unsafe { sys::SYS_epoll_pwait(ep, ptr(buf.as_mut_ptr()), 8, 0, ptr(&mask), 8) };
    println!("epoll_pwait with mask = {}", events(&buf, n));
    let n = unsafe { extra::SYS_epoll_wait(ep, ptr(buf.as_mut_ptr()), 8, 0) };
    println!("epoll_wait = {}", events(&buf, n));
    let n = unsafe { extra::SYS_epoll_wait(ep, ptr(buf.as_mut_ptr()), 2, 0) };
    // Which two of the three is up to the kernel.
    say("epoll_wait max 2", n);
    say("epoll_wait max 0", unsafe { extra::SYS_epoll_wait(ep, ptr(buf.as_mut_ptr()), 0, 0) });
    say("epoll_pwait events beyond memory", unsafe { sys::SYS_epoll_pwait(ep, WILD, 8, 0, 0, 8) });
    say("epoll_ctl del pipe write", unsafe { sys::SYS_epoll_ctl(ep, EPOLL_CTL_DEL, p[1], 0) });
    say("epoll_ctl mod pipe read", ctl(EPOLL_CTL_MOD, p[0], &event(EPOLLIN, 1)));
    let n = unsafe { extra::SYS_epoll_wait(ep, ptr(buf.as_mut_ptr()), 8, 0) };
    println!("epoll_wait after del/mod = {}", events(&buf, n));
    say("epoll_wait bad fd", unsafe { extra::SYS_epoll_wait(-1, ptr(buf.as_mut_ptr()), 8, 0) });
    close(ep);
    close(efd);
    close(p[0]);
    close(p[1]);
}

fn eventfd() {
    let efd = unsafe { sys::SYS_eventfd2(0, O_NONBLOCK) };
    println!("eventfd2 = {}", fd_or_err(efd));
    let efd = efd as i32;
    let three: u64 = 3;
    say("eventfd write 3", write(efd, &three.to_le_bytes()));
    say("eventfd write 4", write(efd, &4u64.to_le_bytes()));
    let mut v = [0u8; 8];
    let n = read(efd, &mut v);
    println!("eventfd read = {} value={}", show(n), u64::from_le_bytes(v));
    say("eventfd read again", read(efd, &mut v));
    say("eventfd write 3", write(efd, &three.to_le_bytes()));
    let n = read(efd, &mut v);
    println!("eventfd read = {} value={}", show(n), u64::from_le_bytes(v));
    say("eventfd short write", write(efd, &v[..4]));
    say("eventfd short read", read(efd, &mut v[..4]));
    close(efd);

    let sem = unsafe { sys::SYS_eventfd2(0, O_NONBLOCK | EFD_SEMAPHORE) } as i32;
    say("semaphore write 3", write(sem, &three.to_le_bytes()));
    for _ in 0..4 {
        v = [0; 8];
        let n = read(sem, &mut v);
        println!("semaphore read = {} value={}", show(n), u64::from_le_bytes(v));
    }
    close(sem);
    say("eventfd2 bogus flags", unsafe { sys::SYS_eventfd2(0, 2) });
}

fn dups() {
    let p = pipe2(O_NONBLOCK);
    for fd in [200, 201, 202] {
        say(&format!("F_GETFD {fd} before"), fcntl(fd, F_GETFD, 0));
    }
    let d = unsafe { sys::SYS_dup(p[1]) };
    println!("dup = {}", fd_or_err(d));
    write(d as i32, b"via dup");
    println!("read = {}", drain(p[0]));
    close(d as i32);
    say("dup2 to 200", unsafe { sys::SYS_dup2(p[1], 200) });
    let same = unsafe { sys::SYS_dup2(p[1], p[1]) };
    println!("dup2 same fd returns it = {}", same == p[1] as i64);
    say("dup3 same fd", unsafe { sys::SYS_dup3(p[1], p[1], 0) });
    say("dup3 to 201 O_CLOEXEC", unsafe { sys::SYS_dup3(p[1], 201, O_CLOEXEC) });
    say("dup3 bogus flags", unsafe { sys::SYS_dup3(p[1], 203, 4) });
    say("F_GETFD 200", fcntl(200, F_GETFD, 0));
    say("F_GETFD 201", fcntl(201, F_GETFD, 0));
    say("F_DUPFD_CLOEXEC from 200", fcntl(p[1], F_DUPFD_CLOEXEC, 200));
    say("F_GETFD 202", fcntl(202, F_GETFD, 0));
    say("F_SETFD 202 0", fcntl(202, F_SETFD, 0));
    say("F_GETFD 202", fcntl(202, F_GETFD, 0));
    write(202, b"2");
    write(201, b"1");
    write(200, b"0");
    println!("read = {}", drain(p[0]));
    say("dup -1", unsafe { sys::SYS_dup(-1) });
    say("dup2 from -1", unsafe { sys::SYS_dup2(-1, 203) });
    for fd in [200, 201, 202] {
        close(fd);
    }

    // File status flags.
    say("F_GETFL", fcntl(p[0], F_GETFL, 0));
    say("F_SETFL 0", fcntl(p[0], F_SETFL, 0));
    say("F_GETFL", fcntl(p[0], F_GETFL, 0));
    say("F_SETFL O_NONBLOCK", fcntl(p[0], F_SETFL, O_NONBLOCK as i64));
    say("F_GETFL", fcntl(p[0], F_GETFL, 0));
    let mut buf = [0u8; 4];
    say("read empty nonblocking", read(p[0], &mut buf));
    say("fcntl bad fd", fcntl(-1, F_GETFD, 0));
    say("fcntl bogus cmd", fcntl(p[0], 9999, 0));
    close(p[0]);
    close(p[1]);
}

/// `struct flock`, 32 bytes as on x86_64.
#[repr(C)]
#[derive(Clone, Copy)]
struct Flock {
    ty: i16,
    whence: i16,
    start: i64,
    len: i64,
    pid: i32,
}

const _: () = assert!(core::mem::size_of::<Flock>() == 32);

fn flock_of(ty: i16, start: i64, len: i64) -> Flock {
    Flock { ty, whence: 0, start, len, pid: 0 }
}

fn lk(fd: i32, cmd: i32, fl: &mut Flock) -> i64 {
    fcntl(fd, cmd, ptr(fl as *mut Flock) as i64)
}

/// A GETLK answer; the owner pid is our own (the host's) or -1 for OFD locks.
fn lock_info(ret: i64, fl: &Flock, me: i64) -> String {
    let ty = match fl.ty {
        F_RDLCK => "F_RDLCK",
        F_WRLCK => "F_WRLCK",
        F_UNLCK => "F_UNLCK",
        _ => "?",
    };
    let pid = match fl.pid as i64 {
        p if p == me => "self".into(),
        p => format!("{p}"),
    };
    format!("{} type={ty} start={} len={} pid={pid}", show(ret), fl.start, fl.len)
}

fn locks(dir: &str) {
    let me = unsafe { sys::SYS_getpid() };
    let a = open_in(dir, "locks.txt", O_RDWR | O_CREAT | O_TRUNC);
    let b = open_in(dir, "locks.txt", O_RDWR);
    say("write", write(a, b"locked region\n"));

    say("F_SETLK write 0..10", lk(a, F_SETLK, &mut flock_of(F_WRLCK, 0, 10)));
    // A process's own POSIX locks never conflict with each other.
    let mut q = flock_of(F_WRLCK, 0, 10);
    let r = lk(a, F_GETLK, &mut q);
    println!("F_GETLK own lock = {}", lock_info(r, &q, me));
    // An OFD lock is owned by the open file description, so it does.
    let mut q = flock_of(F_WRLCK, 5, 10);
    let r = lk(b, F_OFD_GETLK, &mut q);
    println!("F_OFD_GETLK = {}", lock_info(r, &q, me));
    say("F_OFD_SETLK write 0..10", lk(b, F_OFD_SETLK, &mut flock_of(F_WRLCK, 0, 10)));
    say("F_OFD_SETLK read 20..30", lk(b, F_OFD_SETLK, &mut flock_of(F_RDLCK, 20, 10)));
    let mut q = flock_of(F_WRLCK, 20, 10);
    let r = lk(a, F_GETLK, &mut q);
    println!("F_GETLK vs OFD = {}", lock_info(r, &q, me));
    say("F_SETLK write 20..30", lk(a, F_SETLK, &mut flock_of(F_WRLCK, 20, 10)));
    say("F_SETLK read 20..30", lk(a, F_SETLK, &mut flock_of(F_RDLCK, 20, 10)));
    say("F_SETLKW unlock 0..10", lk(a, F_SETLKW, &mut flock_of(F_UNLCK, 0, 10)));
    say("F_OFD_SETLK write 0..10", lk(b, F_OFD_SETLK, &mut flock_of(F_WRLCK, 0, 10)));
    let mut q = flock_of(F_RDLCK, 0, 0);
    let r = lk(a, F_GETLK, &mut q);
    println!("F_GETLK whole file = {}", lock_info(r, &q, me));
    let mut q = flock_of(F_WRLCK, 0, 10);
    q.pid = 1;
    say("F_OFD_GETLK nonzero pid", lk(b, F_OFD_GETLK, &mut q));
    say("F_SETLK bad type", lk(a, F_SETLK, &mut flock_of(7, 0, 1)));
    say("F_GETLK beyond memory", fcntl(a, F_GETLK, WILD as i64));
    say("F_OFD_GETLK across end", fcntl(b, F_OFD_GETLK, (mem_end() - 16) as i64));

    let flock = |fd: i32, op: i32| unsafe { sys::SYS_flock(fd, op) };
    say("flock a LOCK_EX", flock(a, LOCK_EX));
    say("flock b LOCK_EX|LOCK_NB", flock(b, LOCK_EX | LOCK_NB));
    say("flock a LOCK_UN", flock(a, LOCK_UN));
    say("flock b LOCK_EX|LOCK_NB", flock(b, LOCK_EX | LOCK_NB));
    say("flock bogus op", flock(b, 0));
    say("flock bad fd", flock(-1, LOCK_EX));
    close(a);
    close(b);
}

fn errors() {
    let p = pipe2(O_NONBLOCK);
    let mut buf = [0u8; 8];
    let one = [iov_mut(&mut buf)];
    let end = mem_end();
    say("readv iovcnt -1", unsafe { sys::SYS_readv(p[0], ptr(one.as_ptr()), -1) });
    say("readv iovcnt 1025", unsafe { sys::SYS_readv(p[0], ptr(one.as_ptr()), 1025) });
    // The descriptor is checked before the vector, as the kernel does.
    say("readv fd -1 iovcnt -1", unsafe { sys::SYS_readv(-1, ptr(one.as_ptr()), -1) });
    say("readv write end iovec array beyond memory", unsafe { sys::SYS_readv(p[1], WILD, 1) });
    say("preadv offset -1 iovcnt 1025", unsafe { extra::SYS_preadv(p[0], ptr(one.as_ptr()), 1025, -1) });
    let wild = [[WILD as u32, 8]];
    say("writev entry beyond memory", unsafe { sys::SYS_writev(p[1], ptr(wild.as_ptr()), 1) });
    write(p[1], b"q");
    say("readv entry beyond memory", unsafe { sys::SYS_readv(p[0], ptr(wild.as_ptr()), 1) });
    let across = [[end - 4, 8]];
    say("readv entry across end", unsafe { sys::SYS_readv(p[0], ptr(across.as_ptr()), 1) });
    say("readv iovec array beyond memory", unsafe { sys::SYS_readv(p[0], WILD, 2) });
    say("readv iovec array across end", unsafe { sys::SYS_readv(p[0], (end - 8) as i32, 2) });
    println!("read = {}", drain(p[0]));
    say("poll array beyond memory", unsafe { sys::SYS_poll(WILD, 2, 0) });
    say("poll array across end", unsafe { sys::SYS_poll((end - 4) as i32, 1, 0) });
    say("read fd -1", read(-1, &mut buf));
    say("write fd -1", write(-1, b"x"));
    say("read fd 100000", read(100000, &mut buf));
    say("read buffer beyond memory", unsafe { sys::SYS_read(p[0], WILD, 8) });
    let ev = event(EPOLLIN, 0);
    let ep = unsafe { sys::SYS_epoll_create1(0) } as i32;
    say("epoll_ctl event beyond memory", unsafe { sys::SYS_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], WILD) });
    say("epoll_ctl bad fd", unsafe { sys::SYS_epoll_ctl(ep, EPOLL_CTL_ADD, -1, ptr(ev.as_ptr())) });
    close(ep);
    close(p[0]);
    close(p[1]);
}

fn main() -> i32 {
    let argv = args();
    let Some(dir) = argv.get(1) else {
        println!("usage: io SCRATCH_DIR");
        return 2;
    };
    pipes();
    vectored(dir);
    readiness();
    epoll();
    eventfd();
    dups();
    locks(dir);
    errors();
    0
}

entry!(main);
