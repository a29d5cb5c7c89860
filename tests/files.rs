//! Files and directories through the WALI host, checked against the
//! disk afterwards.

mod common;
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn file_and_directory_operations() {
    let dir = scratch();
    let r = run("files", &[dir.path().to_str().unwrap()]);
    let expected = [
        "chdir = 0",
        "getcwd is dir = true",
        "getcwd small buffer = -ERANGE",
        "openat create = true",
        "write = 12",
        "pwrite64 = 5",
        "lseek end = 12",
        "fstat = 0 size 12 mode 644",
        "read write-only fd = -EBADF",
        "close = 0",
        "close again = -EBADF",
        "read = 12 \"hello WORLD\\n\"",
        "pread64 = 5 \"WORLD\"",
        "lseek set = 6",
        "read after seek = 5 \"WORLD\"",
        "lseek bad whence = -EINVAL",
        "write read-only fd = -EBADF",
        "fadvise = 0",
        "stat = 0 size 12 nlink 1",
        "newfstatat = 0 size 12",
        "statx = 0 size 12",
        "access R_OK = 0",
        "access missing = -ENOENT",
        "faccessat W_OK = 0",
        "faccessat2 W_OK = 0",
        "ftruncate = 0",
        "fsync = 0",
        "fdatasync = 0",
        "size after ftruncate = 5",
        "rename = 0",
        "stat old name = -ENOENT",
        "link = 0",
        "nlink = 2",
        "symlink = 0",
        "readlink = 5 \"b.txt\"",
        "lstat = 0 is link true",
        "mkdir = 0",
        "mkdir again = -EEXIST",
        "mkdirat = 0",
        "rmdir non-empty = -ENOTEMPTY",
        "unlinkat dir = 0",
        "listing = [\".\", \"..\", \"b.txt\", \"c.txt\", \"d\", \"s\"]",
        "chmod = 0",
        "mode = 600",
        "fchmodat = 0 mode 640",
        "utimensat = 0 mtime 1000000000",
        "fchdir = 0",
        "getcwd ends in /d = true",
        "unlink = 0",
        "unlink symlink = 0",
        "renameat2 = 0",
        "read via dirfd = 5 \"hello\"",
        "statfs = 0",
        "fstatfs = 0",
        "open file as dir = -ENOTDIR",
        "open missing = -ENOENT",
        "listing = [\".\", \"..\", \"d\"]",
    ];
    assert_eq!(r.stdout, expected.join("\n") + "\n");
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));

    // What the guest left behind is exactly what it reported.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["d"]);
    let x = dir.path().join("d/x");
    assert_eq!(std::fs::read(&x).unwrap(), b"hello");
    let meta = std::fs::metadata(&x).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), 1_000_000_000);
}
