//! Which arguments of a syscall are paths, relative to which directory
//! descriptor, and what access each needs. This is what `fs` grants are
//! checked against.

use crate::constants::constant;

/// Kinds of access a grant gives, as bits.
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
/// Adding or removing directory entries (create, unlink, rename, link).
pub const CREATE: u8 = 4;
pub const EXEC: u8 = 8;

pub fn perm_names(p: u8) -> String {
    let names = [(READ, "read"), (WRITE, "write"), (CREATE, "create"), (EXEC, "exec")];
    names.iter().filter(|(b, _)| p & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("+")
}

/// One path argument of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathUse {
    /// Argument holding the directory fd the path is relative to, if any.
    pub dirfd: Option<usize>,
    /// Argument holding the path.
    pub path: usize,
    pub perms: u8,
    /// Whether a symlink in the last component is followed.
    pub follow: bool,
}

const fn at(dirfd: usize, path: usize, perms: u8, follow: bool) -> PathUse {
    PathUse { dirfd: Some(dirfd), path, perms, follow }
}

const fn cwd(path: usize, perms: u8, follow: bool) -> PathUse {
    PathUse { dirfd: None, path, perms, follow }
}

/// The access an open with `flags` needs, and whether it follows a final
/// symlink.
pub fn open_perms(flags: u64) -> (u8, bool) {
    let c = |n| constant(n).unwrap_or(0);
    let mut p = match flags & 3 {
        0 => READ,
        1 => WRITE,
        _ => READ | WRITE,
    };
    if flags & c("O_TRUNC") != 0 {
        p |= WRITE;
    }
    if flags & c("O_CREAT") != 0 {
        p |= CREATE;
    }
    let o_path = c("O_PATH");
    if flags & o_path == o_path {
        p = READ;
    }
    let nofollow = flags & c("O_NOFOLLOW") != 0 || flags & (c("O_CREAT") | c("O_EXCL")) == c("O_CREAT") | c("O_EXCL");
    (p, !nofollow)
}

/// `AT_SYMLINK_NOFOLLOW` in a flags argument.
fn follows(flags: u64) -> bool {
    flags & 0x100 == 0
}

/// The path arguments of syscall `name` called with `args`.
pub fn path_uses(name: &str, args: &[u64; 6]) -> Vec<PathUse> {
    match name {
        "open" => {
            let (p, f) = open_perms(args[1]);
            vec![cwd(0, p, f)]
        }
        "openat" => {
            let (p, f) = open_perms(args[2]);
            vec![at(0, 1, p, f)]
        }
        // The open_how flags are in a struct the engine reads (see
        // `Policy::resolve`); until then, everything open can do.
        "openat2" => vec![at(0, 1, READ | WRITE | CREATE, true)],
        "creat" => vec![cwd(0, WRITE | CREATE, true)],
        "stat" | "access" | "chdir" | "statfs" | "getxattr" | "listxattr" | "chroot" => {
            vec![cwd(0, READ, true)]
        }
        "lstat" | "readlink" | "lgetxattr" | "llistxattr" => vec![cwd(0, READ, false)],
        "newfstatat" => vec![at(0, 1, READ, follows(args[3]))],
        "statx" => vec![at(0, 1, READ, follows(args[2]))],
        "faccessat" | "faccessat2" => vec![at(0, 1, READ, true)],
        "readlinkat" => vec![at(0, 1, READ, false)],
        "inotify_add_watch" => vec![at(0, 1, READ, true)],
        "truncate" | "chmod" | "chown" | "utimes" | "utime" | "setxattr" | "removexattr" => {
            vec![cwd(0, WRITE, true)]
        }
        "lchown" | "lsetxattr" | "lremovexattr" => vec![cwd(0, WRITE, false)],
        "fchmodat" => vec![at(0, 1, WRITE, true)],
        "fchownat" => vec![at(0, 1, WRITE, follows(args[4]))],
        "utimensat" => vec![at(0, 1, WRITE, follows(args[3]))],
        "futimesat" => vec![at(0, 1, WRITE, true)],
        "mkdir" | "rmdir" | "unlink" | "mknod" => vec![cwd(0, CREATE, false)],
        "mkdirat" | "unlinkat" | "mknodat" => vec![at(0, 1, CREATE, false)],
        "rename" => vec![cwd(0, CREATE, false), cwd(1, CREATE, false)],
        "renameat" | "renameat2" => vec![at(0, 1, CREATE, false), at(2, 3, CREATE, false)],
        // A hard link makes the old file reachable from the new place, so
        // the old file must already be readable and writable where it is.
        "link" => vec![cwd(0, READ | WRITE, false), cwd(1, CREATE, false)],
        "linkat" => vec![at(0, 1, READ | WRITE, args[4] & 0x400 != 0), at(2, 3, CREATE, false)],
        // A symlink's target is only text; it is checked when used.
        "symlink" => vec![cwd(1, CREATE, false)],
        "symlinkat" => vec![at(1, 2, CREATE, false)],
        "execve" => vec![cwd(0, EXEC | READ, true)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_decide_access() {
        let args = |flags: u64| [(-100i64) as u64, 0, flags, 0, 0, 0];
        assert_eq!(path_uses("openat", &args(0)), vec![at(0, 1, READ, true)]);
        assert_eq!(path_uses("openat", &args(0o1101)), vec![at(0, 1, WRITE | CREATE, true)]);
        assert_eq!(path_uses("openat", &args(0o302)), vec![at(0, 1, READ | WRITE | CREATE, false)]);
        assert_eq!(perm_names(READ | CREATE), "read+create");
    }
}
