//! Kernel errno values as the guest sees them: a syscall returns `-errno`.

/// A positive Linux errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(libc::EPERM);
    pub const EBADF: Errno = Errno(libc::EBADF);
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENAMETOOLONG: Errno = Errno(libc::ENAMETOOLONG);
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    pub const E2BIG: Errno = Errno(libc::E2BIG);
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    pub const EINTR: Errno = Errno(libc::EINTR);

    /// The value a syscall returns to the guest for this error.
    pub fn ret(self) -> i64 {
        -(self.0 as i64)
    }

    /// The errno of the last failed libc call on this thread.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
    }
}

/// Result of a guest-memory or argument operation that fails with an errno.
pub type SysResult<T> = Result<T, Errno>;

/// Converts a libc-style return (`-1` and `errno`) into a raw kernel return.
pub fn from_libc(ret: i64) -> i64 {
    if ret == -1 { Errno::last().ret() } else { ret }
}
