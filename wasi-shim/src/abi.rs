//! WASI preview1 constants and struct layouts.

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

/// Linux `struct stat` (x86_64) fields the shim reads.
pub struct Stat(pub [u8; 144]);

impl Stat {
    pub fn new() -> Stat {
        Stat([0; 144])
    }
    fn u64_at(&self, o: usize) -> u64 {
        u64::from_le_bytes(self.0[o..o + 8].try_into().unwrap_or_default())
    }
    pub fn dev(&self) -> u64 {
        self.u64_at(0)
    }
    pub fn ino(&self) -> u64 {
        self.u64_at(8)
    }
    pub fn nlink(&self) -> u64 {
        self.u64_at(16)
    }
    pub fn mode(&self) -> u32 {
        u32::from_le_bytes(self.0[24..28].try_into().unwrap_or_default())
    }
    pub fn size(&self) -> u64 {
        self.u64_at(48)
    }
    fn time(&self, o: usize) -> u64 {
        self.u64_at(o).wrapping_mul(1_000_000_000).wrapping_add(self.u64_at(o + 8))
    }
    pub fn filetype(&self) -> u8 {
        filetype_of_mode(self.mode())
    }
    /// The WASI `filestat` (64 bytes).
    pub fn to_filestat(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev().to_le_bytes());
        b[8..16].copy_from_slice(&self.ino().to_le_bytes());
        b[16] = self.filetype();
        b[24..32].copy_from_slice(&self.nlink().to_le_bytes());
        b[32..40].copy_from_slice(&self.size().to_le_bytes());
        b[40..48].copy_from_slice(&self.time(72).to_le_bytes());
        b[48..56].copy_from_slice(&self.time(88).to_le_bytes());
        b[56..64].copy_from_slice(&self.time(104).to_le_bytes());
        b
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
