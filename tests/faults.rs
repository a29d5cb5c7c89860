//! Hostile arguments come back as the kernel's errno, and the host lives.

mod common;
use common::*;
use std::ffi::CString;

/// The errno the kernel gives this process for `open(path, O_RDONLY)`.
fn native_open_errno(path: &str) -> i32 {
    let c = CString::new(path).unwrap();
    // SAFETY: a valid C string; the fd, if any, is closed.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
    if fd >= 0 {
        unsafe { libc::close(fd) };
        return 0;
    }
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

#[test]
fn bad_pointers_lengths_fds_and_flags() {
    // The host's own answers, with no policy in the way.
    let r = capture(waligate().args(["run", "--policy", "unrestricted"]).arg(guest("faults")));
    let expected = [
        "read ok = 64",
        "read NULL = -EFAULT",
        "read NULL len 0 = 0",
        "read straddling end = -EFAULT",
        "read ending at end = 8",
        "read past end = -EFAULT",
        "read len u32::MAX = -EFAULT",
        "write wrapping = -EFAULT",
        "getrandom huge = -EFAULT",
        "getcwd huge = -EFAULT",
        "open path past end = -EFAULT",
        "open NULL path = -EFAULT",
        "open unterminated = -EFAULT",
        "open 4095-byte path = -ENOENT",
        "open 4096-byte path = -ENAMETOOLONG",
        "fstat struct past end = -EFAULT",
        "stat NULL buffer = -EFAULT",
        "uname past end = -EFAULT",
        "clock_gettime past end = -EFAULT",
        "nanosleep bad req = -EFAULT",
        "futex bad address = -EFAULT",
        "rt_sigaction bad act = -EFAULT",
        "rt_sigaction bad sigsetsize = -EINVAL",
        "rt_sigaction signal 0 = -EINVAL",
        "rt_sigaction SIGKILL = -EINVAL",
        "sigaltstack bad ptr = -EFAULT",
        "read fd -5 = -EBADF",
        "close fd -1 = -EBADF",
        "fstat fd 1<<30 = -EBADF",
        "dup2 to huge fd = -EBADF",
        "pipe2 bogus flags = -EINVAL",
        "eventfd2 bogus flags = -EINVAL",
        "socket bogus type = -EINVAL",
        "clock_gettime bogus clock = -EINVAL",
        "unknown syscall = -ENOSYS",
        "execve a directory = -EACCES",
        "thread spawn bad entry = -EINVAL",
        "host alive = true",
    ];
    assert_eq!(r.stdout, expected.join("\n") + "\n");
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn path_length_limits_match_the_kernel() {
    // The guest's boundary results above are the kernel's own for the same paths.
    let longest = "a/".repeat(2047) + "a";
    assert_eq!(native_open_errno(&longest), libc::ENOENT);
    assert_eq!(native_open_errno(&(longest + "a")), libc::ENAMETOOLONG);
}

#[test]
fn pages_of_a_truncated_mapping_are_efault_not_a_host_crash() {
    let dir = scratch();
    let d = dir.path().to_str().unwrap();
    let r = capture(waligate().args(["run", "--dir", d]).arg(guest("truncated")).arg(d));
    assert_eq!(
        r.stdout,
        "mmap ok = true\nftruncate = 0\nopen path in vanished page = -EFAULT\nsigaltstack from vanished page = -EFAULT\n\
         rt_sigaction into vanished page = -EFAULT\nwrite from vanished page = -EFAULT\nhost alive = true\n"
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}
