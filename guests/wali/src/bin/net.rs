//! Sockets over loopback, single-threaded: TCP and UDP on 127.0.0.1, UDP on
//! ::1, a unix socketpair passing a descriptor, and the error paths of the
//! address, msghdr and option conversions. Ports and fds vary from run to
//! run, so only facts about them are printed.
#![no_std]
#![no_main]

use wali_guest::{String, Vec, entry, format, println, ptr, show, sys::*};

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_NONBLOCK: i32 = 0o4000;
const SOCK_CLOEXEC: i32 = 0o2000000;
const SOL_SOCKET: i32 = 1;
const SO_REUSEADDR: i32 = 2;
const SO_RCVBUF: i32 = 8;
const SCM_RIGHTS: u32 = 1;
const MSG_TRUNC: i32 = 0x20;
const MSG_DONTWAIT: i32 = 0x40;
const SHUT_WR: i32 = 1;
const F_GETFD: i32 = 1;
const F_GETFL: i32 = 3;
const O_NONBLOCK: i64 = 0o4000;
const POLLIN: u16 = 1;

/// `show`, plus the socket errnos the shared table does not name.
fn sh(ret: i64) -> String {
    match -ret {
        90 => "-EMSGSIZE".into(),
        92 => "-ENOPROTOOPT".into(),
        99 => "-EADDRNOTAVAIL".into(),
        _ => show(ret),
    }
}

/// The current end of linear memory, read right before each use.
fn end() -> i32 {
    (core::arch::wasm32::memory_size(0) * 65536) as i32
}

/// A socket address in a buffer as large as `sockaddr_storage`.
#[derive(Clone, Copy, PartialEq)]
struct Addr {
    bytes: [u8; 128],
    len: u32,
}

impl Addr {
    fn v4(ip: [u8; 4], port: u16) -> Addr {
        let mut bytes = [0; 128];
        bytes[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
        bytes[2..4].copy_from_slice(&port.to_be_bytes());
        bytes[4..8].copy_from_slice(&ip);
        Addr { bytes, len: 16 }
    }

    fn v6_loopback() -> Addr {
        let mut bytes = [0; 128];
        bytes[..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
        bytes[23] = 1; // sin6_addr at 8..24 = ::1
        Addr { bytes, len: 28 }
    }

    fn empty() -> Addr {
        Addr { bytes: [0; 128], len: 128 }
    }

    fn p(&self) -> i32 {
        ptr(self.bytes.as_ptr())
    }

    fn family(&self) -> u16 {
        u16::from_le_bytes([self.bytes[0], self.bytes[1]])
    }

    fn port(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// The meaningful bytes only (the rest of the buffer is scratch).
    fn used(&self) -> &[u8] {
        &self.bytes[..(self.len as usize).min(128)]
    }
}

/// getsockname or getpeername into a fresh 128-byte buffer.
fn name(f: unsafe extern "C" fn(i32, i32, i32) -> i64, fd: i32) -> (i64, Addr) {
    let mut a = Addr::empty();
    let ret = unsafe { f(fd, ptr(a.bytes.as_mut_ptr()), ptr(&raw mut a.len)) };
    (ret, a)
}

fn describe(a: &Addr) -> String {
    let ip = match a.family() as i32 {
        AF_INET => {
            let b = &a.bytes[4..8];
            format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
        }
        AF_INET6 if a.bytes[8..24] == Addr::v6_loopback().bytes[8..24] => "::1".into(),
        _ => "?".into(),
    };
    format!("addrlen {} family {} addr {} port nonzero = {}", a.len, a.family(), ip, a.port() != 0)
}

fn socket(domain: i32, ty: i32) -> i32 {
    unsafe { SYS_socket(domain, ty, 0) as i32 }
}

fn close(fd: i32) -> i64 {
    unsafe { SYS_close(fd) }
}

/// Waits up to 5 s for `fd` to become readable, so the non-blocking
/// receives below never race the loopback delivery and never hang.
fn wait_readable(fd: i32) -> i64 {
    let mut pfd = [0u8; 8];
    pfd[..4].copy_from_slice(&fd.to_le_bytes());
    pfd[4..6].copy_from_slice(&POLLIN.to_le_bytes());
    unsafe { SYS_poll(ptr(pfd.as_mut_ptr()), 1, 5000) }
}

fn fd_flags(fd: i32) -> (bool, bool) {
    let fl = unsafe { SYS_fcntl(fd, F_GETFL, 0) };
    let fdfl = unsafe { SYS_fcntl(fd, F_GETFD, 0) };
    (fl & O_NONBLOCK != 0, fdfl & 1 != 0)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The 36-byte Wasm msghdr as nine words, with `{u32 base, u32 len}` iovecs.
struct Msg {
    words: [u32; 9],
    iov: Vec<[u32; 2]>,
}

impl Msg {
    fn new(name: Option<&mut Addr>, bufs: &mut [&mut [u8]]) -> Msg {
        let iov: Vec<[u32; 2]> = bufs.iter_mut().map(|b| [ptr(b.as_mut_ptr()) as u32, b.len() as u32]).collect();
        let mut words = [0u32; 9];
        if let Some(n) = name {
            words[0] = ptr(n.bytes.as_mut_ptr()) as u32;
            words[1] = n.len;
        }
        words[2] = ptr(iov.as_ptr()) as u32;
        words[3] = iov.len() as u32;
        Msg { words, iov }
    }

    fn control(&mut self, buf: &mut [u64]) {
        self.words[5] = ptr(buf.as_mut_ptr()) as u32;
        self.words[6] = (buf.len() * 8) as u32;
    }

    fn p(&mut self) -> i32 {
        self.words[2] = ptr(self.iov.as_ptr()) as u32;
        ptr(self.words.as_mut_ptr())
    }

    fn namelen(&self) -> u32 {
        self.words[1]
    }
    fn controllen(&self) -> u32 {
        self.words[6]
    }
    fn flags(&self) -> u32 {
        self.words[8]
    }
}

fn tcp() {
    let l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    println!("tcp socket ok = {}", l >= 0);
    let (nonblock, cloexec) = fd_flags(l);
    println!("listener O_NONBLOCK = {nonblock}, FD_CLOEXEC = {cloexec}");

    let one = 1i32;
    let r = unsafe { SYS_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, ptr(&one), 4) };
    println!("setsockopt SO_REUSEADDR = {}", sh(r));
    // An 8-byte buffer: the kernel writes 4 bytes and says so in optlen.
    let mut val = [0x5555_5555u32; 2];
    let mut len = 8u32;
    let r = unsafe { SYS_getsockopt(l, SOL_SOCKET, SO_REUSEADDR, ptr(val.as_mut_ptr()), ptr(&raw mut len)) };
    println!(
        "getsockopt SO_REUSEADDR = {} value {} optlen {} tail untouched = {}",
        sh(r),
        val[0],
        len,
        val[1] == 0x5555_5555
    );

    let any = Addr::v4([127, 0, 0, 1], 0);
    println!("bind 127.0.0.1:0 = {}", sh(unsafe { SYS_bind(l, any.p(), 16) }));
    let (r, laddr) = name(SYS_getsockname, l);
    println!("getsockname = {} {}", sh(r), describe(&laddr));
    println!("listen = {}", sh(unsafe { SYS_listen(l, 4) }));
    println!("accept4 with nothing pending = {}", sh(unsafe { SYS_accept4(l, 0, 0, 0) }));

    let c = socket(AF_INET, SOCK_STREAM);
    println!("getpeername before connect = {}", sh(name(SYS_getpeername, c).0));
    println!("connect = {}", sh(unsafe { SYS_connect(c, laddr.p(), laddr.len as i32) }));
    println!("poll listener = {}", sh(wait_readable(l)));
    let mut peer = Addr::empty();
    let a = unsafe { SYS_accept4(l, ptr(peer.bytes.as_mut_ptr()), ptr(&raw mut peer.len), SOCK_CLOEXEC) } as i32;
    println!("accept4 ok = {} peer {}", a >= 0, describe(&peer));
    let (nonblock, cloexec) = fd_flags(a);
    println!("accepted O_NONBLOCK = {nonblock}, FD_CLOEXEC = {cloexec}");
    let (_, caddr) = name(SYS_getsockname, c);
    println!("accept peer is the client = {}", peer.used() == caddr.used());
    let (r, p) = name(SYS_getpeername, c);
    println!("getpeername client = {} is the listener = {}", sh(r), p.used() == laddr.used());
    let (r, p) = name(SYS_getpeername, a);
    println!("getpeername accepted = {} is the client = {}", sh(r), p.used() == caddr.used());

    let r = unsafe { SYS_sendto(c, ptr(b"ping".as_ptr()), 4, 0, 0, 0) };
    println!("sendto tcp = {}", sh(r));
    wait_readable(a);
    let mut buf = [0u8; 64];
    let mut from = Addr::empty();
    let r = unsafe {
        SYS_recvfrom(a, ptr(buf.as_mut_ptr()), 64, MSG_DONTWAIT, ptr(from.bytes.as_mut_ptr()), ptr(&raw mut from.len))
    };
    // Stream sockets report no source address.
    println!("recvfrom tcp = {} {:?} addrlen {}", sh(r), text(&buf[..r.max(0) as usize]), from.len);

    let (mut x, mut y) = (*b"pong ", *b"back");
    let mut m = Msg::new(None, &mut [&mut x[..], &mut y[..]]);
    println!("sendmsg tcp 2 iovecs = {}", sh(unsafe { SYS_sendmsg(a, m.p(), 0) }));
    wait_readable(c);
    let (mut x, mut y) = ([0u8; 4], [0u8; 16]);
    let mut src = Addr::empty();
    let mut m = Msg::new(Some(&mut src), &mut [&mut x[..], &mut y[..]]);
    m.words[8] = 0xdead; // msg_flags is output only
    let r = unsafe { SYS_recvmsg(c, m.p(), MSG_DONTWAIT) };
    println!(
        "recvmsg tcp = {} {:?}+{:?} namelen {} flags {:#x}",
        sh(r),
        text(&x),
        text(&y[..(r.max(4) - 4) as usize]),
        m.namelen(),
        m.flags()
    );

    let size = 65536i32;
    let r = unsafe { SYS_setsockopt(c, SOL_SOCKET, SO_RCVBUF, ptr(&size), 4) };
    println!("setsockopt SO_RCVBUF 65536 = {}", sh(r));
    let (mut v, mut len) = (0i32, 4u32);
    let r = unsafe { SYS_getsockopt(c, SOL_SOCKET, SO_RCVBUF, ptr(&raw mut v), ptr(&raw mut len)) };
    println!("getsockopt SO_RCVBUF = {} value {v} optlen {len}", sh(r));

    println!("shutdown SHUT_WR = {}", sh(unsafe { SYS_shutdown(c, SHUT_WR) }));
    wait_readable(a);
    let r = unsafe { SYS_recvfrom(a, ptr(buf.as_mut_ptr()), 64, MSG_DONTWAIT, 0, 0) };
    println!("recvfrom after peer shutdown = {}", sh(r));
    println!("shutdown bogus how = {}", sh(unsafe { SYS_shutdown(c, 7) }));
    let u = socket(AF_INET, SOCK_STREAM);
    println!("shutdown unconnected = {}", sh(unsafe { SYS_shutdown(u, SHUT_WR) }));
    println!("accept4 on unlistened socket = {}", sh(unsafe { SYS_accept4(u, 0, 0, 0) }));
    println!("accept4 bogus flags = {}", sh(unsafe { SYS_accept4(l, 0, 0, 1) }));

    // A port that was just bound and released has no listener.
    let t = socket(AF_INET, SOCK_STREAM);
    unsafe { SYS_bind(t, any.p(), 16) };
    let (_, gone) = name(SYS_getsockname, t);
    close(t);
    let r = unsafe { SYS_connect(u, gone.p(), 16) };
    println!("connect to closed port = {}", sh(r));

    let closed = [close(u), close(a), close(c), close(l)];
    println!("close tcp sockets = {closed:?}");
}

fn udp() {
    let r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
    let s = socket(AF_INET, SOCK_DGRAM);
    println!("udp sockets ok = {}", r >= 0 && s >= 0);
    let any = Addr::v4([127, 0, 0, 1], 0);
    let b = unsafe { [SYS_bind(r, any.p(), 16), SYS_bind(s, any.p(), 16)] };
    println!("bind both = {b:?}");
    let (_, raddr) = name(SYS_getsockname, r);
    let (_, saddr) = name(SYS_getsockname, s);
    println!("receiver {}", describe(&raddr));

    let (mut x, mut y) = (*b"hello, ", *b"datagram world");
    let mut to = raddr;
    let mut m = Msg::new(Some(&mut to), &mut [&mut x[..], &mut y[..]]);
    println!("sendmsg udp with msg_name = {}", sh(unsafe { SYS_sendmsg(s, m.p(), 0) }));
    wait_readable(r);
    // 10 bytes of room for a 21-byte datagram: the rest is cut off.
    let (mut x, mut y) = ([0u8; 4], [0u8; 6]);
    let mut src = Addr::empty();
    let mut m = Msg::new(Some(&mut src), &mut [&mut x[..], &mut y[..]]);
    let ret = unsafe { SYS_recvmsg(r, m.p(), MSG_DONTWAIT) };
    let (namelen, flags) = (m.namelen(), m.flags());
    src.len = namelen;
    println!(
        "recvmsg udp = {} {:?}+{:?} namelen {} from sender = {} flags {:#x} MSG_TRUNC = {}",
        sh(ret),
        text(&x),
        text(&y),
        namelen,
        src.used() == saddr.used(),
        flags,
        flags as i32 & MSG_TRUNC != 0
    );

    // With MSG_TRUNC the call returns the datagram's real length.
    let r2 = unsafe { SYS_sendto(s, ptr(b"abc".as_ptr()), 3, 0, raddr.p(), 16) };
    println!("sendto udp = {}", sh(r2));
    wait_readable(r);
    let mut one = [0u8; 2];
    let mut m = Msg::new(None, &mut [&mut one[..]]);
    let ret = unsafe { SYS_recvmsg(r, m.p(), MSG_DONTWAIT | MSG_TRUNC) };
    println!("recvmsg MSG_TRUNC = {} {:?} namelen {} flags {:#x}", sh(ret), text(&one), m.namelen(), m.flags());

    // A 4-byte name buffer: the kernel fills 4 bytes, reports 16.
    unsafe { SYS_sendto(s, ptr(b"xyz".as_ptr()), 3, 0, raddr.p(), 16) };
    wait_readable(r);
    let mut small = Addr::empty();
    small.bytes = [0xee; 128];
    small.len = 4;
    let mut buf = [0u8; 8];
    let mut m = Msg::new(Some(&mut small), &mut [&mut buf[..]]);
    let ret = unsafe { SYS_recvmsg(r, m.p(), MSG_DONTWAIT) };
    println!(
        "recvmsg namelen 4 = {} namelen {} family {} rest untouched = {}",
        sh(ret),
        m.namelen(),
        small.family(),
        small.bytes[4..].iter().all(|&b| b == 0xee)
    );

    unsafe { SYS_sendto(s, ptr(b"xyz".as_ptr()), 3, 0, raddr.p(), 16) };
    wait_readable(r);
    let mut from = Addr::empty();
    let ret = unsafe {
        SYS_recvfrom(r, ptr(buf.as_mut_ptr()), 8, MSG_DONTWAIT, ptr(from.bytes.as_mut_ptr()), ptr(&raw mut from.len))
    };
    println!(
        "recvfrom udp = {} {:?} addrlen {} from sender = {}",
        sh(ret),
        text(&buf[..ret.max(0) as usize]),
        from.len,
        from.used() == saddr.used()
    );
    let mut m = Msg::new(None, &mut [&mut buf[..]]);
    let ret = unsafe { SYS_recvmsg(r, m.p(), MSG_DONTWAIT) };
    println!("recvmsg empty queue = {}", sh(ret));
    println!("close udp sockets = {:?}", [close(s), close(r)]);
}

fn ipv6() {
    let u = socket(AF_INET6, SOCK_DGRAM);
    let me = Addr::v6_loopback();
    let r = unsafe { SYS_bind(u, me.p(), 28) };
    println!("bind [::1]:0 = {}", sh(r));
    if r == 0 {
        let (r, a) = name(SYS_getsockname, u);
        println!("getsockname v6 = {} {}", sh(r), describe(&a));
        let s = unsafe { SYS_sendto(u, ptr(b"six".as_ptr()), 3, 0, a.p(), 28) };
        println!("sendto self v6 = {}", sh(s));
        wait_readable(u);
        let mut buf = [0u8; 8];
        let mut from = Addr::empty();
        let ret = unsafe {
            SYS_recvfrom(
                u,
                ptr(buf.as_mut_ptr()),
                8,
                MSG_DONTWAIT,
                ptr(from.bytes.as_mut_ptr()),
                ptr(&raw mut from.len),
            )
        };
        println!(
            "recvfrom v6 = {} {:?} addrlen {} from self = {}",
            sh(ret),
            text(&buf[..ret.max(0) as usize]),
            from.len,
            from.used() == a.used()
        );
    }
    println!("close v6 socket = {}", sh(close(u)));
}

fn unix() {
    let mut sv = [-1i32; 2];
    let r = unsafe { SYS_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ptr(sv.as_mut_ptr())) };
    println!("socketpair AF_UNIX = {} fds set = {}", sh(r), sv[0] >= 0 && sv[1] >= 0);
    let mut p = [-1i32; 2];
    unsafe { SYS_pipe2(ptr(p.as_mut_ptr()), 0) };

    // x86_64 cmsghdr {u64 len, i32 level, i32 type} + one fd = CMSG_LEN(4)
    // 20, CMSG_SPACE(4) 24: the control buffer is passed through unchanged.
    let mut ctl = [0u64; 3];
    ctl[0] = 20;
    ctl[1] = ((SCM_RIGHTS as u64) << 32) | SOL_SOCKET as u64;
    ctl[2] = p[1] as u32 as u64;
    let (mut x, mut y) = (*b"uni", *b"x");
    let mut m = Msg::new(None, &mut [&mut x[..], &mut y[..]]);
    m.control(&mut ctl);
    println!("sendmsg SCM_RIGHTS = {}", sh(unsafe { SYS_sendmsg(sv[0], m.p(), 0) }));
    close(p[1]);

    wait_readable(sv[1]);
    let mut buf = [0u8; 8];
    let mut ctl = [0u64; 8];
    let mut m = Msg::new(None, &mut [&mut buf[..]]);
    m.control(&mut ctl);
    let r = unsafe { SYS_recvmsg(sv[1], m.p(), MSG_DONTWAIT) };
    let (len, level, ty) = (ctl[0], ctl[1] as u32, (ctl[1] >> 32) as u32);
    let fd = ctl[2] as u32 as i32;
    println!(
        "recvmsg SCM_RIGHTS = {} {:?} controllen {} cmsg len {len} level {level} type {ty} fd ok = {}",
        sh(r),
        text(&buf[..r.max(0) as usize]),
        m.controllen(),
        fd >= 0
    );
    let w = unsafe { SYS_write(fd, ptr(b"passed".as_ptr()), 6) };
    close(fd);
    let n = unsafe { SYS_read(p[0], ptr(buf.as_mut_ptr()), 8) };
    println!("write via passed fd = {} read from pipe = {:?}", sh(w), text(&buf[..n.max(0) as usize]));
    // The kernel stores the reserved fd numbers before it finds out that
    // AF_INET has no socketpair, so this gets its own array.
    let mut scratch = [-1i32; 2];
    println!(
        "socketpair AF_INET = {}",
        sh(unsafe { SYS_socketpair(AF_INET, SOCK_STREAM, 0, ptr(scratch.as_mut_ptr())) })
    );
    let closed = [close(p[0]), close(sv[0]), close(sv[1])];
    println!("close unix fds = {closed:?}");
}

fn errors() {
    let s = socket(AF_INET, SOCK_DGRAM);
    let lo = Addr::v4([127, 0, 0, 1], 0);
    let l = |label: &str, r: i64| println!("{label} = {}", sh(r));
    l("socket bogus family", unsafe { SYS_socket(12345, SOCK_STREAM, 0) });
    l("socket bogus type", unsafe { SYS_socket(AF_INET, 99, 0) });
    l("bind addrlen 200", unsafe { SYS_bind(s, lo.p(), 200) });
    l("bind addrlen -1", unsafe { SYS_bind(s, lo.p(), -1) });
    l("bind addr straddling end", unsafe { SYS_bind(s, end() - 8, 16) });
    l("bind addr past end", unsafe { SYS_bind(s, end() + 64, 16) });
    l("connect addr straddling end", unsafe { SYS_connect(s, end() - 8, 16) });
    l("sendto addr straddling end", unsafe { SYS_sendto(s, ptr(b"x".as_ptr()), 1, 0, end() - 8, 16) });

    let mut p = [-1i32; 2];
    unsafe { SYS_pipe2(ptr(p.as_mut_ptr()), 0) };
    l("accept4 on a pipe", unsafe { SYS_accept4(p[0], 0, 0, 0) });
    l("accept on a pipe", unsafe { SYS_accept(p[0], 0, 0) });
    l("accept4 fd -1", unsafe { SYS_accept4(-1, 0, 0, 0) });
    l("getsockname on a pipe", name(SYS_getsockname, p[0]).0);
    close(p[0]);
    close(p[1]);

    let mut a = Addr::empty();
    l("getsockname addrlen ptr past end", unsafe { SYS_getsockname(s, a.p(), end() - 2) });
    let mut len = 16u32;
    l("getsockname addr straddling end", unsafe { SYS_getsockname(s, end() - 8, ptr(&raw mut len)) });
    len = u32::MAX;
    l("getsockname addrlen -1", unsafe { SYS_getsockname(s, ptr(a.bytes.as_mut_ptr()), ptr(&raw mut len)) });

    // A datagram waits before each receive, so natively the call gets as
    // far as copying out, which is where a bad buffer faults (and the
    // datagram is then dropped).
    unsafe { SYS_bind(s, lo.p(), 16) };
    let (_, me) = name(SYS_getsockname, s);
    let queue = || {
        unsafe { SYS_sendto(s, ptr(b"queued".as_ptr()), 6, 0, me.p(), 16) };
        wait_readable(s);
    };
    let mut buf = [0u8; 8];
    let mut m = Msg::new(None, &mut [&mut buf[..]]);
    queue();
    l("recvmsg msghdr past end", unsafe { SYS_recvmsg(s, end() + 16, MSG_DONTWAIT) });
    queue();
    l("recvmsg msghdr straddling end", unsafe { SYS_recvmsg(s, end() - 20, MSG_DONTWAIT) });
    l("sendmsg msghdr straddling end", unsafe { SYS_sendmsg(s, end() - 20, 0) });
    queue();
    m.iov[0] = [(end() - 4) as u32, 8];
    l("recvmsg iovec buffer straddling end", unsafe { SYS_recvmsg(s, m.p(), MSG_DONTWAIT) });
    queue();
    m.iov[0] = [ptr(buf.as_mut_ptr()) as u32, 8];
    m.words[0] = (end() - 4) as u32;
    m.words[1] = 16;
    l("recvmsg name straddling end", unsafe { SYS_recvmsg(s, m.p(), MSG_DONTWAIT) });

    let one = 1i32;
    l("setsockopt optlen 2", unsafe { SYS_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, ptr(&one), 2) });
    l("setsockopt optval past end", unsafe { SYS_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, end() - 2, 4) });
    let (mut v, mut len) = (0i32, 4u32);
    l("getsockopt unknown option", unsafe { SYS_getsockopt(s, SOL_SOCKET, 9999, ptr(&raw mut v), ptr(&raw mut len)) });
    l("getsockopt optlen ptr past end", unsafe {
        SYS_getsockopt(s, SOL_SOCKET, SO_REUSEADDR, ptr(&raw mut v), end() - 2)
    });
    len = 4;
    l("getsockopt optval straddling end", unsafe {
        SYS_getsockopt(s, SOL_SOCKET, SO_REUSEADDR, end() - 2, ptr(&raw mut len))
    });
    l("socketpair fds past end", unsafe { SYS_socketpair(AF_UNIX, SOCK_STREAM, 0, end() - 4) });
    l("close error socket", close(s));
}

fn main() -> i32 {
    tcp();
    udp();
    ipv6();
    unix();
    errors();
    0
}

entry!(main);
