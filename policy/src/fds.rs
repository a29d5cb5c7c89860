//! What each guest descriptor was opened for. The kernel already refuses a
//! write through a read-only descriptor, but it lets the owner change a
//! file's metadata through any descriptor (fchmod, fchown, futimens,
//! fsetxattr...). With `fs` grants, such calls need the access the grants
//! gave where the descriptor was opened.

use crate::access::{READ, WRITE};
use std::collections::HashMap;
use std::sync::Mutex;

/// Syscalls that create, copy or close descriptors.
pub fn changes_table(syscall: &str) -> bool {
    matches!(syscall, "open" | "openat" | "openat2" | "creat" | "dup" | "dup2" | "dup3" | "fcntl" | "close")
}

/// The descriptor argument of an fd-based call and the access it needs.
pub fn fd_use(syscall: &str, has_path: impl Fn(usize) -> bool) -> Option<(usize, u8)> {
    match syscall {
        "fchmod" | "fchown" | "fsetxattr" | "fremovexattr" | "ftruncate" | "fallocate" => Some((0, WRITE)),
        // utimensat with a NULL path is futimens.
        "utimensat" if !has_path(1) => Some((0, WRITE)),
        "fchdir" | "getdents" | "getdents64" => Some((0, READ)),
        _ => None,
    }
}

#[derive(Default)]
pub struct FdAccess {
    /// fd -> access the grants give where it was opened. Descriptors not
    /// opened by path (stdio, pipes, sockets) are absent and unrestricted.
    map: Mutex<HashMap<i32, u8>>,
}

const F_DUPFD: u64 = 0;
const F_DUPFD_CLOEXEC: u64 = 1030;

impl FdAccess {
    pub fn allows(&self, fd: i32, need: u8) -> bool {
        self.map.lock().map_or(true, |m| m.get(&fd).is_none_or(|p| p & need == need))
    }

    /// Updates the table after a successful call. `opened` is the access
    /// granted at the path an open call named.
    pub fn observe(&self, syscall: &str, args: &[u64; 6], ret: i64, opened: Option<u8>) {
        let Ok(mut m) = self.map.lock() else { return };
        let fd = |i: usize| args[i] as i32;
        let copy = |m: &mut HashMap<i32, u8>, from: i32, to: i32| match m.get(&from).copied() {
            Some(p) => m.insert(to, p),
            None => m.remove(&to),
        };
        match syscall {
            "open" | "openat" | "openat2" | "creat" => match opened {
                Some(p) => m.insert(ret as i32, p),
                None => m.remove(&(ret as i32)),
            },
            "dup" => copy(&mut m, fd(0), ret as i32),
            "dup2" | "dup3" => copy(&mut m, fd(0), fd(1)),
            "fcntl" if matches!(args[1], F_DUPFD | F_DUPFD_CLOEXEC) => copy(&mut m, fd(0), ret as i32),
            "close" => m.remove(&fd(0)),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_keep_their_access_through_dup_and_close() {
        let t = FdAccess::default();
        t.observe("openat", &[0; 6], 5, Some(READ));
        assert!(t.allows(5, READ));
        assert!(!t.allows(5, WRITE));
        t.observe("dup2", &[5, 9, 0, 0, 0, 0], 9, None);
        assert!(!t.allows(9, WRITE));
        t.observe("close", &[5, 0, 0, 0, 0, 0], 0, None);
        assert!(t.allows(5, WRITE));
        assert!(t.allows(0, WRITE), "stdio is unrestricted");
    }
}
