//! The sock_* calls. With no argument: on descriptors that are not
//! sockets (errnos only). `wasi_sock echo`: stdin is a connected socket;
//! receive, answer, shut down. `wasi_sock accept`: stdin is a listening
//! socket; accept one connection and echo on it.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn sock_accept(fd: u32, flags: u32, out: *mut u32) -> i32;
    fn sock_recv(fd: u32, iovs: *const u32, n: u32, flags: u32, nread: *mut u32, roflags: *mut u16) -> i32;
    fn sock_send(fd: u32, iovs: *const u32, n: u32, flags: u32, nwritten: *mut u32) -> i32;
    fn sock_shutdown(fd: u32, how: u32) -> i32;
}

fn recv(fd: u32, bufs: &mut [&mut [u8]], flags: u32) -> (i32, u32, u16) {
    let iovs: Vec<u32> = bufs.iter_mut().flat_map(|b| [b.as_mut_ptr() as u32, b.len() as u32]).collect();
    let (mut n, mut ro) = (0xdead, 0xbeef);
    let r = unsafe { sock_recv(fd, iovs.as_ptr(), bufs.len() as u32, flags, &mut n, &mut ro) };
    (r, n, ro)
}

fn send(fd: u32, bufs: &[&[u8]], flags: u32) -> (i32, u32) {
    let iovs: Vec<u32> = bufs.iter().flat_map(|b| [b.as_ptr() as u32, b.len() as u32]).collect();
    let mut n = 0xdead;
    let r = unsafe { sock_send(fd, iovs.as_ptr(), bufs.len() as u32, flags, &mut n) };
    (r, n)
}

fn echo(fd: u32) {
    let (mut a, mut b) = ([0u8; 3], [0u8; 16]);
    let (r, n, ro) = recv(fd, &mut [&mut a, &mut b], 0);
    let got = [&a[..], &b[..]].concat();
    println!("sock_recv = {r}, {n} bytes, roflags {ro}: {:?}", String::from_utf8_lossy(&got[..n as usize]));
    let (r, n) = send(fd, &[b"pong: ", &got[..n as usize]], 0);
    println!("sock_send = {r}, {n} bytes");
    println!("sock_shutdown(WR) = {}", unsafe { sock_shutdown(fd, 2) });
    let (r, n, ro) = recv(fd, &mut [&mut b], 0);
    println!("sock_recv at end = {r}, {n} bytes, roflags {ro}");
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("echo") => return echo(0),
        Some("accept") => {
            let mut fd = 0xdead;
            let r = unsafe { sock_accept(0, 0, &mut fd) };
            println!("sock_accept = {r}, fd {fd}");
            echo(fd);
            println!("sock_shutdown(RD|WR) on the listener = {}", unsafe { sock_shutdown(0, 3) });
            return;
        }
        // Flag arguments with unknown bits (they trap).
        Some("bad-accept") => println!("{}", unsafe { sock_accept(99, 0x40, &mut 0) }),
        Some("bad-recv") => println!("{:?}", recv(99, &mut [&mut [0u8; 8]], 4)),
        Some("bad-send") => println!("{:?}", send(99, &[b"x"], 0x10000)),
        Some("bad-shutdown") => println!("{}", unsafe { sock_shutdown(99, 4) }),
        _ => {}
    }
    if std::env::args().len() > 1 {
        return;
    }
    // 0: stdin, 1: stdout, 3: the preopened directory, 99: not open.
    for fd in [0, 1, 3, 99] {
        let mut out = 0xdead;
        println!("sock_accept({fd}) = {}", unsafe { sock_accept(fd, 0, &mut out) });
        let mut buf = [0u8; 8];
        println!("sock_recv({fd}) = {:?}", recv(fd, &mut [&mut buf], 0));
        println!("sock_send({fd}) = {:?}", send(fd, &[b"x"], 0));
        for how in [0, 1, 3] {
            println!("sock_shutdown({fd}, {how}) = {}", unsafe { sock_shutdown(fd, how) });
        }
    }
    // siflags is a plain u16 with no flags defined: any value is accepted.
    println!("sock_send flags 0xffff = {:?}", send(99, &[b"x"], 0xffff));
}
