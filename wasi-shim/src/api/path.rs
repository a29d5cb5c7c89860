//! path_* functions: every path is resolved beneath its directory
//! descriptor by the kernel (see `resolve`).

use super::ret;
use crate::abi::{LOOKUP_SYMLINK_FOLLOW, Stat, fdflags, oflags, rights};
use crate::app;
use crate::errno::{ENOTDIR, WasiResult, check};
use crate::fds::{self, Entry};
use crate::resolve::{self, O_DIRECTORY, O_NOFOLLOW, Path};
use crate::sys;

#[unsafe(no_mangle)]
pub extern "C" fn path_open(
    dirfd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u32,
    fd_out: u32,
) -> i32 {
    ret((|| {
        let dir = fds::with_rights(dirfd, rights::PATH_OPEN)?;
        let path = Path::from_app(path, path_len)?;
        let (oflags, fdflags) = (oflags as u16, fdflags as u16);
        let write = rights_base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0;
        let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
        let mut flags = match (read, write) {
            (_, false) => 0,    // O_RDONLY
            (false, true) => 1, // O_WRONLY
            (true, true) => 2,  // O_RDWR
        };
        if oflags & oflags::CREAT != 0 {
            flags |= 0o100;
        }
        if oflags & oflags::EXCL != 0 {
            flags |= 0o200;
        }
        if oflags & oflags::TRUNC != 0 {
            flags |= 0o1000;
        }
        if oflags & oflags::DIRECTORY != 0 {
            flags |= O_DIRECTORY;
        }
        if fdflags & fdflags::APPEND != 0 {
            flags |= 0o2000;
        }
        if fdflags & fdflags::NONBLOCK != 0 {
            flags |= 0o4000;
        }
        if fdflags & fdflags::SYNC != 0 {
            flags |= 0o4010000;
        } else if fdflags & fdflags::DSYNC != 0 {
            flags |= 0o10000;
        }
        if dirflags & LOOKUP_SYMLINK_FOLLOW == 0 {
            flags |= O_NOFOLLOW;
        }
        let host = resolve::open_beneath(dir.host, &path, flags, 0o666)?;
        let mut st = Stat::new();
        if let Err(e) = check(unsafe { sys::SYS_fstat(host, st.0.as_mut_ptr()) }) {
            unsafe { sys::SYS_close(host) };
            return Err(e);
        }
        let filetype = st.filetype();
        if oflags & oflags::DIRECTORY != 0 && filetype != crate::abi::filetype::DIRECTORY {
            unsafe { sys::SYS_close(host) };
            return Err(ENOTDIR);
        }
        // Rights: at most what was asked, what the directory passes on, and
        // what this kind of file can do.
        let kind = if filetype == crate::abi::filetype::DIRECTORY { rights::DIRECTORY } else { rights::FILE };
        let entry = Entry {
            host,
            filetype,
            rights_base: rights_base & dir.rights_inheriting & kind,
            rights_inheriting: rights_inheriting & dir.rights_inheriting,
            preopen: None,
        };
        match fds::insert(entry) {
            Ok(fd) => app::write_u32(fd_out, fd),
            Err(e) => {
                unsafe { sys::SYS_close(host) };
                Err(e)
            }
        }
    })())
}
