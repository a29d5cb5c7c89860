//! WASI errno values and the mapping from Linux's.

pub type Errno = u16;
pub type WasiResult<T = ()> = Result<T, Errno>;

#[allow(dead_code)]
mod all {
    use super::Errno;
    pub const SUCCESS: Errno = 0;
    pub const E2BIG: Errno = 1;
    pub const EACCES: Errno = 2;
    pub const EADDRINUSE: Errno = 3;
    pub const EADDRNOTAVAIL: Errno = 4;
    pub const EAFNOSUPPORT: Errno = 5;
    pub const EAGAIN: Errno = 6;
    pub const EALREADY: Errno = 7;
    pub const EBADF: Errno = 8;
    pub const EBADMSG: Errno = 9;
    pub const EBUSY: Errno = 10;
    pub const ECANCELED: Errno = 11;
    pub const ECHILD: Errno = 12;
    pub const ECONNABORTED: Errno = 13;
    pub const ECONNREFUSED: Errno = 14;
    pub const ECONNRESET: Errno = 15;
    pub const EDEADLK: Errno = 16;
    pub const EDESTADDRREQ: Errno = 17;
    pub const EDOM: Errno = 18;
    pub const EDQUOT: Errno = 19;
    pub const EEXIST: Errno = 20;
    pub const EFAULT: Errno = 21;
    pub const EFBIG: Errno = 22;
    pub const EHOSTUNREACH: Errno = 23;
    pub const EIDRM: Errno = 24;
    pub const EILSEQ: Errno = 25;
    pub const EINPROGRESS: Errno = 26;
    pub const EINTR: Errno = 27;
    pub const EINVAL: Errno = 28;
    pub const EIO: Errno = 29;
    pub const EISCONN: Errno = 30;
    pub const EISDIR: Errno = 31;
    pub const ELOOP: Errno = 32;
    pub const EMFILE: Errno = 33;
    pub const EMLINK: Errno = 34;
    pub const EMSGSIZE: Errno = 35;
    pub const EMULTIHOP: Errno = 36;
    pub const ENAMETOOLONG: Errno = 37;
    pub const ENETDOWN: Errno = 38;
    pub const ENETRESET: Errno = 39;
    pub const ENETUNREACH: Errno = 40;
    pub const ENFILE: Errno = 41;
    pub const ENOBUFS: Errno = 42;
    pub const ENODEV: Errno = 43;
    pub const ENOENT: Errno = 44;
    pub const ENOEXEC: Errno = 45;
    pub const ENOLCK: Errno = 46;
    pub const ENOLINK: Errno = 47;
    pub const ENOMEM: Errno = 48;
    pub const ENOMSG: Errno = 49;
    pub const ENOPROTOOPT: Errno = 50;
    pub const ENOSPC: Errno = 51;
    pub const ENOSYS: Errno = 52;
    pub const ENOTCONN: Errno = 53;
    pub const ENOTDIR: Errno = 54;
    pub const ENOTEMPTY: Errno = 55;
    pub const ENOTRECOVERABLE: Errno = 56;
    pub const ENOTSOCK: Errno = 57;
    pub const ENOTSUP: Errno = 58;
    pub const ENOTTY: Errno = 59;
    pub const ENXIO: Errno = 60;
    pub const EOVERFLOW: Errno = 61;
    pub const EOWNERDEAD: Errno = 62;
    pub const EPERM: Errno = 63;
    pub const EPIPE: Errno = 64;
    pub const EPROTO: Errno = 65;
    pub const EPROTONOSUPPORT: Errno = 66;
    pub const EPROTOTYPE: Errno = 67;
    pub const ERANGE: Errno = 68;
    pub const EROFS: Errno = 69;
    pub const ESPIPE: Errno = 70;
    pub const ESRCH: Errno = 71;
    pub const ESTALE: Errno = 72;
    pub const ETIMEDOUT: Errno = 73;
    pub const ETXTBSY: Errno = 74;
    pub const EXDEV: Errno = 75;
    pub const ENOTCAPABLE: Errno = 76;
}
pub use all::*;

/// Linux errno (positive) to WASI errno.
pub fn from_linux(e: i64) -> Errno {
    match e {
        1 => 63,   // EPERM
        2 => 44,   // ENOENT
        3 => 71,   // ESRCH
        4 => 27,   // EINTR
        5 => 29,   // EIO
        6 => 60,   // ENXIO
        7 => 1,    // E2BIG
        8 => 45,   // ENOEXEC
        9 => 8,    // EBADF
        10 => 12,  // ECHILD
        11 => 6,   // EAGAIN
        12 => 48,  // ENOMEM
        13 => 2,   // EACCES
        14 => 21,  // EFAULT
        16 => 10,  // EBUSY
        17 => 20,  // EEXIST
        18 => 75,  // EXDEV
        19 => 43,  // ENODEV
        20 => 54,  // ENOTDIR
        21 => 31,  // EISDIR
        22 => 28,  // EINVAL
        23 => 41,  // ENFILE
        24 => 33,  // EMFILE
        25 => 59,  // ENOTTY
        26 => 74,  // ETXTBSY
        27 => 22,  // EFBIG
        28 => 51,  // ENOSPC
        29 => 70,  // ESPIPE
        30 => 69,  // EROFS
        31 => 34,  // EMLINK
        32 => 64,  // EPIPE
        33 => 18,  // EDOM
        34 => 68,  // ERANGE
        35 => 16,  // EDEADLK
        36 => 37,  // ENAMETOOLONG
        37 => 46,  // ENOLCK
        38 => 52,  // ENOSYS
        39 => 55,  // ENOTEMPTY
        40 => 32,  // ELOOP
        42 => 49,  // ENOMSG
        43 => 24,  // EIDRM
        61 => 47,  // ENODATA -> ENOLINK is closest in WASI's list
        71 => 65,  // EPROTO
        74 => 9,   // EBADMSG
        75 => 61,  // EOVERFLOW
        84 => 25,  // EILSEQ
        88 => 57,  // ENOTSOCK
        89 => 17,  // EDESTADDRREQ
        90 => 35,  // EMSGSIZE
        91 => 67,  // EPROTOTYPE
        92 => 50,  // ENOPROTOOPT
        93 => 66,  // EPROTONOSUPPORT
        95 => 58,  // EOPNOTSUPP
        97 => 5,   // EAFNOSUPPORT
        98 => 3,   // EADDRINUSE
        99 => 4,   // EADDRNOTAVAIL
        100 => 38, // ENETDOWN
        101 => 40, // ENETUNREACH
        102 => 39, // ENETRESET
        103 => 13, // ECONNABORTED
        104 => 15, // ECONNRESET
        105 => 42, // ENOBUFS
        106 => 30, // EISCONN
        107 => 53, // ENOTCONN
        110 => 73, // ETIMEDOUT
        111 => 14, // ECONNREFUSED
        113 => 23, // EHOSTUNREACH
        114 => 7,  // EALREADY
        115 => 26, // EINPROGRESS
        116 => 72, // ESTALE
        122 => 19, // EDQUOT
        125 => 11, // ECANCELED
        130 => 62, // EOWNERDEAD
        131 => 56, // ENOTRECOVERABLE
        _ => EIO,
    }
}

/// A raw WALI result: its value, or the WASI errno.
pub fn check(ret: i64) -> WasiResult<i64> {
    if (-4095..0).contains(&ret) { Err(from_linux(-ret)) } else { Ok(ret) }
}
