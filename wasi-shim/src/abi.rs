//! WASI preview1 constants and struct layouts.

#[allow(dead_code)] // the complete WASI list
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// Rights bits.
#[allow(dead_code)] // the complete WASI list
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;

    /// What a regular file can do.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// What a directory can do.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;
}

pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
}

pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// Linux `struct stat` (x86_64), for the file type.
pub struct Stat(pub [u8; 144]);

impl Stat {
    pub fn new() -> Stat {
        Stat([0; 144])
    }
    pub fn mode(&self) -> u32 {
        u32::from_le_bytes(self.0[24..28].try_into().unwrap_or_default())
    }
    pub fn size(&self) -> u64 {
        u64::from_le_bytes(self.0[48..56].try_into().unwrap_or_default())
    }
}

pub fn filetype_of_mode(mode: u32) -> u8 {
    match mode & 0o170000 {
        0o040000 => filetype::DIRECTORY,
        0o100000 => filetype::REGULAR_FILE,
        0o120000 => filetype::SYMBOLIC_LINK,
        0o020000 => filetype::CHARACTER_DEVICE,
        0o060000 => filetype::BLOCK_DEVICE,
        0o140000 => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// Linux `struct statx`, as wasmtime-wasi sees a file through std's
/// `Metadata` (which is statx-based).
pub struct Statx(pub [u8; 256]);

pub const STATX_BASIC_STATS: u32 = 0x7ff;
pub const STATX_BTIME: u32 = 0x800;

impl Statx {
    pub fn new() -> Statx {
        Statx([0; 256])
    }
    fn u32_at(&self, o: usize) -> u32 {
        u32::from_le_bytes(self.0[o..o + 4].try_into().unwrap_or_default())
    }
    fn u64_at(&self, o: usize) -> u64 {
        u64::from_le_bytes(self.0[o..o + 8].try_into().unwrap_or_default())
    }
    pub fn mode(&self) -> u32 {
        u16::from_le_bytes([self.0[28], self.0[29]]) as u32
    }
    pub fn filetype(&self) -> u8 {
        filetype_of_mode(self.mode())
    }
    pub fn size(&self) -> u64 {
        self.u64_at(40)
    }
    /// glibc's `makedev`, as std computes `st_dev` from statx.
    pub fn dev(&self) -> u64 {
        let (ma, mi) = (self.u32_at(136) as u64, self.u32_at(140) as u64);
        ((ma & 0xfff) << 8) | ((ma & 0xffff_f000) << 32) | (mi & 0xff) | ((mi & 0xffff_ff00) << 12)
    }
    pub fn ino(&self) -> u64 {
        self.u64_at(32)
    }
    /// A timestamp in WASI nanoseconds: 0 when missing or before the epoch
    /// (std gives no `SystemTime` since the epoch), EOVERFLOW past u64.
    fn time(&self, o: usize) -> Result<u64, crate::errno::Errno> {
        let (s, ns) = (self.u64_at(o) as i64, self.u32_at(o + 8) as u64);
        if s < 0 {
            return Ok(0);
        }
        (s as u64).checked_mul(1_000_000_000).and_then(|t| t.checked_add(ns)).ok_or(crate::errno::EOVERFLOW)
    }
    /// The WASI `filestat` (64 bytes) exactly as wasmtime-wasi fills it:
    /// device 1, the inode a hash of (dev, ino), `ctim` the birth time.
    pub fn to_filestat(&self) -> Result<[u8; 64], crate::errno::Errno> {
        let ctim = if self.u32_at(0) & STATX_BTIME != 0 { self.time(80)? } else { 0 };
        Ok(filestat(
            1,
            metadata_hash(self.dev(), self.ino()),
            self.filetype(),
            self.u32_at(16) as u64,
            self.size(),
            [self.time(64)?, self.time(112)?, ctim],
        ))
    }
}

/// Lays out a WASI `filestat`.
pub fn filestat(dev: u64, ino: u64, ft: u8, nlink: u64, size: u64, times: [u64; 3]) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&dev.to_le_bytes());
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16] = ft;
    b[24..32].copy_from_slice(&nlink.to_le_bytes());
    b[32..40].copy_from_slice(&size.to_le_bytes());
    for (i, t) in times.iter().enumerate() {
        b[40 + 8 * i..48 + 8 * i].copy_from_slice(&t.to_le_bytes());
    }
    b
}

/// wasmtime-wasi's inode number: std's `DefaultHasher` (SipHash-1-3 with
/// zero keys) over the `(dev, ino)` pair.
pub fn metadata_hash(dev: u64, ino: u64) -> u64 {
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&dev.to_ne_bytes());
    m[8..].copy_from_slice(&ino.to_ne_bytes());
    siphash13(&m)
}

fn siphash13(msg: &[u8; 16]) -> u64 {
    let mut v = [0x736f6d6570736575u64, 0x646f72616e646f6d, 0x6c7967656e657261, 0x7465646279746573];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let words = [
        u64::from_le_bytes(msg[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(msg[8..].try_into().unwrap_or_default()),
        16u64 << 56,
    ];
    for m in words {
        v[3] ^= m;
        round(&mut v);
        v[0] ^= m;
    }
    v[2] ^= 0xff;
    for _ in 0..3 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}
