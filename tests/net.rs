//! Sockets over loopback (guest `net`): TCP, UDP, IPv6, a unix socketpair
//! passing a descriptor, and hostile socket arguments. Results that depend
//! on the kernel or its configuration (errnos, SO_RCVBUF doubling, whether
//! ::1 exists) are computed by doing the same calls natively here.

mod common;
use common::*;

use libc::{c_int, c_void, sockaddr, socklen_t};
use std::mem::{size_of, zeroed};

fn errno_name(e: i32) -> String {
    let names = [
        (libc::EAGAIN, "EAGAIN"),
        (libc::EINVAL, "EINVAL"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBADF, "EBADF"),
        (libc::ENOTSOCK, "ENOTSOCK"),
        (libc::ENOTCONN, "ENOTCONN"),
        (libc::ECONNREFUSED, "ECONNREFUSED"),
        (libc::EAFNOSUPPORT, "EAFNOSUPPORT"),
        (libc::EOPNOTSUPP, "EOPNOTSUPP"),
        (libc::ENOPROTOOPT, "ENOPROTOOPT"),
        (libc::EMSGSIZE, "EMSGSIZE"),
        (libc::EADDRNOTAVAIL, "EADDRNOTAVAIL"),
    ];
    match names.iter().find(|(n, _)| *n == e) {
        Some((_, s)) => s.to_string(),
        None => format!("errno {e}"),
    }
}

/// A native result as the guest prints it: the value or `-ENAME`.
fn show(ret: impl Into<i64>) -> String {
    let ret = ret.into();
    if ret < 0 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap();
        format!("-{}", errno_name(e))
    } else {
        ret.to_string()
    }
}

fn loopback4() -> libc::sockaddr_in {
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    a.sin_family = libc::AF_INET as u16;
    a.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
    a
}

fn sa<T>(a: &T) -> *const sockaddr {
    a as *const T as *const sockaddr
}

/// The end of a readable page followed by an inaccessible one: the native
/// stand-in for the end of the guest's linear memory.
struct Edge(*mut u8);

impl Edge {
    fn new() -> Edge {
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            assert_eq!(libc::mprotect(p.cast::<u8>().add(4096).cast(), 4096, libc::PROT_NONE), 0);
            Edge(p.cast())
        }
    }

    fn at<T>(&self, off: isize) -> *mut T {
        unsafe { self.0.offset(4096 + off).cast() }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.0.cast(), 8192) };
    }
}

/// Kernel-dependent lines of the TCP, UDP, IPv6 and unix sections.
struct Native {
    nothing_pending: String,
    peer_before_connect: String,
    rcvbuf: String,
    shutdown_bogus: String,
    shutdown_unconnected: String,
    accept_unlistened: String,
    accept_bogus_flags: String,
    closed_port: String,
    bind_v6: String,
    socketpair_inet: String,
}

fn native() -> Native {
    unsafe {
        let lo = loopback4();
        let l = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
        assert_eq!(libc::bind(l, sa(&lo), 16), 0);
        assert_eq!(libc::listen(l, 4), 0);
        let nothing_pending = show(libc::accept4(l, std::ptr::null_mut(), std::ptr::null_mut(), 0));
        let accept_bogus_flags = show(libc::accept4(l, std::ptr::null_mut(), std::ptr::null_mut(), 1));

        let c = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let mut any: libc::sockaddr_storage = zeroed();
        let mut len = size_of::<libc::sockaddr_storage>() as socklen_t;
        let peer_before_connect = show(libc::getpeername(c, &mut any as *mut _ as *mut sockaddr, &mut len));
        let size: c_int = 65536;
        let p = &size as *const c_int as *const c_void;
        assert_eq!(libc::setsockopt(c, libc::SOL_SOCKET, libc::SO_RCVBUF, p, 4), 0);
        let (mut v, mut vlen): (c_int, socklen_t) = (0, 4);
        let vp = &mut v as *mut c_int as *mut c_void;
        assert_eq!(libc::getsockopt(c, libc::SOL_SOCKET, libc::SO_RCVBUF, vp, &mut vlen), 0);
        let rcvbuf = format!("{v}");
        let shutdown_bogus = show(libc::shutdown(c, 7));
        let shutdown_unconnected = show(libc::shutdown(c, libc::SHUT_WR));
        let accept_unlistened = show(libc::accept4(c, std::ptr::null_mut(), std::ptr::null_mut(), 0));

        let t = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let mut gone = lo;
        let mut glen = 16;
        assert_eq!(libc::bind(t, sa(&lo), 16), 0);
        libc::getsockname(t, &mut gone as *mut _ as *mut sockaddr, &mut glen);
        libc::close(t);
        let closed_port = show(libc::connect(c, sa(&gone), 16));

        let u = libc::socket(libc::AF_INET6, libc::SOCK_DGRAM, 0);
        let mut six: libc::sockaddr_in6 = zeroed();
        six.sin6_family = libc::AF_INET6 as u16;
        six.sin6_addr.s6_addr[15] = 1;
        let bind_v6 = show(libc::bind(u, sa(&six), 28));

        let mut sv = [-1; 2];
        let socketpair_inet = show(libc::socketpair(libc::AF_INET, libc::SOCK_STREAM, 0, sv.as_mut_ptr()));
        for fd in [l, c, u] {
            libc::close(fd);
        }
        Native {
            nothing_pending,
            peer_before_connect,
            rcvbuf,
            shutdown_bogus,
            shutdown_unconnected,
            accept_unlistened,
            accept_bogus_flags,
            closed_port,
            bind_v6,
            socketpair_inet,
        }
    }
}

/// The guest's error section, done natively in the same order with the
/// same kinds of bad pointers (ending in or past an inaccessible page).
fn native_errors() -> String {
    let mut out = String::new();
    let mut l = |label: &str, ret: i64| {
        let r = show(ret);
        out.push_str(&format!("{label} = {r}\n"));
    };
    unsafe {
        let e = Edge::new();
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let lo = loopback4();
        let x = b"x".as_ptr().cast::<c_void>();
        l("socket bogus family", libc::socket(12345, libc::SOCK_STREAM, 0).into());
        l("socket bogus type", libc::socket(libc::AF_INET, 99, 0).into());
        l("bind addrlen 200", libc::bind(s, sa(&lo), 200).into());
        l("bind addrlen -1", libc::bind(s, sa(&lo), u32::MAX).into());
        l("bind addr straddling end", libc::bind(s, e.at(-8), 16).into());
        l("bind addr past end", libc::bind(s, e.at(64), 16).into());
        l("connect addr straddling end", libc::connect(s, e.at(-8), 16).into());
        l("sendto addr straddling end", libc::sendto(s, x, 1, 0, e.at(-8), 16) as i64);

        let mut p = [-1; 2];
        assert_eq!(libc::pipe(p.as_mut_ptr()), 0);
        let null = std::ptr::null_mut();
        l("accept4 on a pipe", libc::accept4(p[0], null, null.cast(), 0).into());
        l("accept on a pipe", libc::accept(p[0], null, null.cast()).into());
        l("accept4 fd -1", libc::accept4(-1, null, null.cast(), 0).into());
        let mut a: libc::sockaddr_storage = zeroed();
        let ap = &mut a as *mut _ as *mut sockaddr;
        let mut len: socklen_t = 128;
        l("getsockname on a pipe", libc::getsockname(p[0], ap, &mut len).into());
        libc::close(p[0]);
        libc::close(p[1]);

        l("getsockname addrlen ptr past end", libc::getsockname(s, ap, e.at(-2)).into());
        len = 16;
        l("getsockname addr straddling end", libc::getsockname(s, e.at(-8), &mut len).into());
        len = u32::MAX;
        l("getsockname addrlen -1", libc::getsockname(s, ap, &mut len).into());

        assert_eq!(libc::bind(s, sa(&lo), 16), 0);
        let mut me = lo;
        len = 16;
        libc::getsockname(s, &mut me as *mut _ as *mut sockaddr, &mut len);
        let queue = || {
            libc::sendto(s, b"queued".as_ptr().cast(), 6, 0, sa(&me), 16);
        };
        let mut buf = [0u8; 8];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: 8 };
        let mut m: libc::msghdr = zeroed();
        m.msg_iov = &mut iov;
        m.msg_iovlen = 1;
        let dw = libc::MSG_DONTWAIT;
        queue();
        l("recvmsg msghdr past end", libc::recvmsg(s, e.at(16), dw) as i64);
        queue();
        l("recvmsg msghdr straddling end", libc::recvmsg(s, e.at(-20), dw) as i64);
        l("sendmsg msghdr straddling end", libc::sendmsg(s, e.at(-20), 0) as i64);
        queue();
        (*m.msg_iov).iov_base = e.at(-4);
        l("recvmsg iovec buffer straddling end", libc::recvmsg(s, &mut m, dw) as i64);
        queue();
        (*m.msg_iov).iov_base = buf.as_mut_ptr().cast();
        m.msg_name = e.at(-4);
        m.msg_namelen = 16;
        l("recvmsg name straddling end", libc::recvmsg(s, &mut m, dw) as i64);

        let one: c_int = 1;
        let op = &one as *const c_int as *const c_void;
        let (sol, reuse) = (libc::SOL_SOCKET, libc::SO_REUSEADDR);
        l("setsockopt optlen 2", libc::setsockopt(s, sol, reuse, op, 2).into());
        l("setsockopt optval past end", libc::setsockopt(s, sol, reuse, e.at(-2), 4).into());
        let mut v: c_int = 0;
        let vp = &mut v as *mut c_int as *mut c_void;
        len = 4;
        l("getsockopt unknown option", libc::getsockopt(s, sol, 9999, vp, &mut len).into());
        l("getsockopt optlen ptr past end", libc::getsockopt(s, sol, reuse, vp, e.at(-2)).into());
        len = 4;
        l("getsockopt optval straddling end", libc::getsockopt(s, sol, reuse, e.at(-2), &mut len).into());
        l("socketpair fds past end", libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, e.at(-4)).into());
        l("close error socket", libc::close(s).into());
    }
    out
}

#[test]
fn sockets_over_loopback() {
    let n = native();
    let v6 = if n.bind_v6 == "0" {
        "getsockname v6 = 0 addrlen 28 family 10 addr ::1 port nonzero = true\n\
         sendto self v6 = 3\n\
         recvfrom v6 = 3 \"six\" addrlen 28 from self = true\n"
    } else {
        ""
    };
    let expected = format!(
        "tcp socket ok = true
listener O_NONBLOCK = true, FD_CLOEXEC = true
setsockopt SO_REUSEADDR = 0
getsockopt SO_REUSEADDR = 0 value 1 optlen 4 tail untouched = true
bind 127.0.0.1:0 = 0
getsockname = 0 addrlen 16 family 2 addr 127.0.0.1 port nonzero = true
listen = 0
accept4 with nothing pending = {}
getpeername before connect = {}
connect = 0
poll listener = 1
accept4 ok = true peer addrlen 16 family 2 addr 127.0.0.1 port nonzero = true
accepted O_NONBLOCK = false, FD_CLOEXEC = true
accept peer is the client = true
getpeername client = 0 is the listener = true
getpeername accepted = 0 is the client = true
sendto tcp = 4
recvfrom tcp = 4 \"ping\" addrlen 0
sendmsg tcp 2 iovecs = 9
recvmsg tcp = 9 \"pong\"+\" back\" namelen 0 flags 0x0
setsockopt SO_RCVBUF 65536 = 0
getsockopt SO_RCVBUF = 0 value {} optlen 4
shutdown SHUT_WR = 0
recvfrom after peer shutdown = 0
shutdown bogus how = {}
shutdown unconnected = {}
accept4 on unlistened socket = {}
accept4 bogus flags = {}
connect to closed port = {}
close tcp sockets = [0, 0, 0, 0]
udp sockets ok = true
bind both = [0, 0]
receiver addrlen 16 family 2 addr 127.0.0.1 port nonzero = true
sendmsg udp with msg_name = 21
recvmsg udp = 10 \"hell\"+\"o, dat\" namelen 16 from sender = true flags 0x20 MSG_TRUNC = true
sendto udp = 3
recvmsg MSG_TRUNC = 3 \"ab\" namelen 0 flags 0x20
recvmsg namelen 4 = 3 namelen 16 family 2 rest untouched = true
recvfrom udp = 3 \"xyz\" addrlen 16 from sender = true
recvmsg empty queue = -EAGAIN
close udp sockets = [0, 0]
bind [::1]:0 = {}
{v6}close v6 socket = 0
socketpair AF_UNIX = 0 fds set = true
sendmsg SCM_RIGHTS = 4
recvmsg SCM_RIGHTS = 4 \"unix\" controllen 24 cmsg len 20 level 1 type 1 fd ok = true
write via passed fd = 6 read from pipe = \"passed\"
socketpair AF_INET = {}
close unix fds = [0, 0, 0]
{}",
        n.nothing_pending,
        n.peer_before_connect,
        n.rcvbuf,
        n.shutdown_bogus,
        n.shutdown_unconnected,
        n.accept_unlistened,
        n.accept_bogus_flags,
        n.closed_port,
        n.bind_v6,
        n.socketpair_inet,
        native_errors(),
    );
    // The host's own answers, with no policy in the way (the default
    // profile's loopback-only network is tested in tests/policy.rs).
    let r = capture(waligate().args(["run", "--policy", "unrestricted"]).arg(guest("net")));
    assert_eq!(r.stdout, expected);
    assert_eq!(r.stderr, "");
    assert_eq!(r.status, 0);
}

/// The native side agrees with what the transcript's fixed lines assume,
/// so a kernel that behaved differently would show up here first.
#[test]
fn native_udp_truncation_matches_transcript() {
    unsafe {
        let lo = loopback4();
        let r = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        assert_eq!(libc::bind(r, sa(&lo), 16), 0);
        let mut to = lo;
        let mut len: socklen_t = 16;
        libc::getsockname(r, &mut to as *mut _ as *mut sockaddr, &mut len);
        let sent = libc::sendto(s, b"hello, datagram world".as_ptr().cast(), 21, 0, sa(&to), 16);
        assert_eq!(sent, 21);
        let (mut x, mut y) = ([0u8; 4], [0u8; 6]);
        let mut iov = [
            libc::iovec { iov_base: x.as_mut_ptr().cast(), iov_len: 4 },
            libc::iovec { iov_base: y.as_mut_ptr().cast(), iov_len: 6 },
        ];
        let mut name: libc::sockaddr_storage = zeroed();
        let mut m: libc::msghdr = zeroed();
        m.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
        m.msg_namelen = 128;
        m.msg_iov = iov.as_mut_ptr();
        m.msg_iovlen = 2;
        let got = libc::recvmsg(r, &mut m, 0);
        assert_eq!((got, &x, &y, m.msg_namelen, m.msg_flags), (10, b"hell", b"o, dat", 16, libc::MSG_TRUNC));
        libc::close(r);
        libc::close(s);
    }
}
