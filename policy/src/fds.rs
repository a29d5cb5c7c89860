//! What the policy remembers about guest descriptors.
//!
//! **Access.** The kernel already refuses a write through a read-only
//! descriptor, but it lets the owner change a file's metadata through any
//! descriptor (fchmod, fchown, futimens, fsetxattr...). With `fs` grants,
//! such calls need the access the grants gave where the descriptor was
//! opened.
//!
//! **Directory paths.** A path relative to a directory descriptor is judged
//! where that directory is, which the kernel tells through
//! `/proc/self/fd/N`. Reading that link on every call is most of what a
//! stat of a directory entry costs, so once the embedder says the kernel
//! enforces the same grants (Landlock, [`FdAccess::enable_dir_cache`]) the
//! answer is kept per descriptor, always as the kernel gave it (never as
//! the engine resolved an open, which a racing symlink swap could make
//! wrong). An entry is dropped or not trusted when it could be stale:
//!
//! - the descriptor number is reused: every call that closes or replaces a
//!   descriptor (close, dup2, an open returning that number...) drops its
//!   entry once carried out, and an entry read while such a call was under
//!   way is not stored;
//! - the directory may have moved: every rename (and chroot) by any process
//!   of the guest (threads, and fork children, which share the counter
//!   through a shared mapping) makes every entry older than it stale;
//! - something the policy does not see may move it: once any process of
//!   the guest calls execve (a new waligate, or a native program, would
//!   rename without telling), the cache is off for good.
//!
//! What no cache can see is a rename by an unrelated process; a stale path
//! then misplaces the directory as a `/proc` read racing with that rename
//! would, for longer. That is why the cache needs the embedder's word:
//! Landlock judges every access by where the file really is, against the
//! same grants, so a stale path cannot reach outside them.

use crate::access::{READ, WRITE};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};

/// Syscalls that create, copy or close descriptors.
pub fn changes_table(syscall: &str) -> bool {
    matches!(syscall, "open" | "openat" | "openat2" | "creat" | "dup" | "dup2" | "dup3" | "fcntl" | "close")
}

/// Syscalls after which a directory may have another path (or paths
/// another meaning).
pub fn moves_paths(syscall: &str) -> bool {
    matches!(syscall, "rename" | "renameat" | "renameat2" | "chroot")
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
struct Table {
    /// fd -> access the grants give where it was opened. Descriptors not
    /// opened by path (stdio, pipes, sockets) are absent and unrestricted.
    access: HashMap<i32, u8>,
    /// fd -> (rename generation when read, its path as the kernel gave it).
    dirs: HashMap<i32, (u64, PathBuf)>,
}

/// Shared by every process of the guest (a `MAP_SHARED` page inherited
/// across fork).
#[repr(C)]
struct Shared {
    /// Renames begun or finished by any process of the guest.
    renames: AtomicU64,
    /// Some process of the guest called execve.
    off: AtomicBool,
}

#[derive(Default)]
pub struct FdAccess {
    table: Mutex<Table>,
    /// Descriptor-table changes begun in this process.
    changes: AtomicU64,
    /// Set when the directory cache is on.
    shared: OnceLock<&'static Shared>,
}

const F_DUPFD: u64 = 0;
const F_DUPFD_CLOEXEC: u64 = 1030;

impl FdAccess {
    pub fn allows(&self, fd: i32, need: u8) -> bool {
        self.table.lock().map_or(true, |t| t.access.get(&fd).is_none_or(|p| p & need == need))
    }

    /// Turns the directory-path cache on (see the module comment); the
    /// caller vouches that the kernel enforces the grants too. Call before
    /// the guest starts, so that its fork children share the counters.
    pub fn enable_dir_cache(&self) {
        // SAFETY: a fresh anonymous shared mapping, zeroed by the kernel
        // (all-zero atomics are valid), never unmapped.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Shared>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if page != libc::MAP_FAILED {
            let _ = self.shared.set(unsafe { &*page.cast::<Shared>() });
        }
    }

    /// Whether the directory-path cache is in use.
    pub fn caches_dirs(&self) -> bool {
        self.shared.get().is_some_and(|s| !s.off.load(SeqCst))
    }

    /// The path of the directory `fd` names, as `/proc/self/fd/N` says
    /// (from the cache when that is on and the entry is current).
    pub fn dir_path(&self, fd: i32) -> Option<PathBuf> {
        let Some(shared) = self.shared.get().filter(|s| !s.off.load(SeqCst)) else {
            return crate::paths::fd_path(fd);
        };
        let renames = shared.renames.load(SeqCst);
        if let Ok(t) = self.table.lock()
            && let Some((seen, path)) = t.dirs.get(&fd)
            && *seen == renames
        {
            return Some(path.clone());
        }
        let changes = self.changes.load(SeqCst);
        let path = crate::paths::fd_path(fd)?;
        if let Ok(mut t) = self.table.lock()
            // Nothing began meanwhile that could make the answer stale.
            && self.changes.load(SeqCst) == changes
            && shared.renames.load(SeqCst) == renames
            && !shared.off.load(SeqCst)
        {
            t.dirs.insert(fd, (renames, path.clone()));
        }
        Some(path)
    }

    /// Called before a call is carried out (whatever the decision: a
    /// refused call changes nothing, and counting it is harmless).
    pub fn before(&self, syscall: &str) {
        if changes_table(syscall) {
            self.changes.fetch_add(1, SeqCst);
        }
        let Some(shared) = self.shared.get() else { return };
        if moves_paths(syscall) {
            shared.renames.fetch_add(1, SeqCst);
        }
        if syscall == "execve" {
            shared.off.store(true, SeqCst);
        }
    }

    /// Updates the table after a call was carried out (`ret` its result).
    /// `opened` is the access granted at the path an open call named.
    pub fn observe(&self, syscall: &str, args: &[u64; 6], ret: i64, opened: Option<u8>) {
        if moves_paths(syscall)
            && let Some(shared) = self.shared.get()
        {
            shared.renames.fetch_add(1, SeqCst);
        }
        let Ok(mut t) = self.table.lock() else { return };
        let fd = |i: usize| args[i] as i32;
        // close releases the number even when it reports an error.
        if syscall == "close" {
            t.access.remove(&fd(0));
            t.dirs.remove(&fd(0));
            return;
        }
        if ret < 0 {
            return;
        }
        let Table { access, dirs } = &mut *t;
        let mut copy = |from: i32, to: i32| {
            dirs.remove(&to);
            match access.get(&from).copied() {
                Some(p) => access.insert(to, p),
                None => access.remove(&to),
            };
        };
        match syscall {
            "open" | "openat" | "openat2" | "creat" => {
                dirs.remove(&(ret as i32));
                match opened {
                    Some(p) => access.insert(ret as i32, p),
                    None => access.remove(&(ret as i32)),
                };
            }
            "dup" => copy(fd(0), ret as i32),
            "dup2" | "dup3" => copy(fd(0), fd(1)),
            "fcntl" if matches!(args[1], F_DUPFD | F_DUPFD_CLOEXEC) => copy(fd(0), ret as i32),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

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

    fn cached(t: &FdAccess, fd: i32) -> Option<PathBuf> {
        let t = t.table.lock().unwrap();
        t.dirs.get(&fd).map(|(_, p)| p.clone())
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("policy-fds-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a")).unwrap();
        d.canonicalize().unwrap()
    }

    #[test]
    fn directory_paths_are_read_from_proc_until_the_cache_is_on() {
        let d = tempdir("off");
        let dir = std::fs::File::open(d.join("a")).unwrap();
        let fd = dir.as_raw_fd();
        let t = FdAccess::default();
        assert_eq!(t.dir_path(fd), Some(d.join("a")));
        assert_eq!(cached(&t, fd), None);
        // Moved: the answer follows the directory.
        std::fs::rename(d.join("a"), d.join("b")).unwrap();
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn cached_paths_are_dropped_on_reuse_rename_and_execve() {
        let d = tempdir("on");
        let dir = std::fs::File::open(d.join("a")).unwrap();
        let fd = dir.as_raw_fd();
        let t = FdAccess::default();
        t.enable_dir_cache();
        assert!(t.caches_dirs());
        assert_eq!(t.dir_path(fd), Some(d.join("a")));
        assert_eq!(cached(&t, fd), Some(d.join("a")));

        // A rename by the guest: the entry is not trusted, the kernel is asked again.
        t.before("renameat2");
        std::fs::rename(d.join("a"), d.join("b")).unwrap();
        t.observe("renameat2", &[0; 6], 0, None);
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        assert_eq!(cached(&t, fd), Some(d.join("b")));

        // The number closed (even with an error) or replaced: dropped.
        t.observe("close", &[fd as u64, 0, 0, 0, 0, 0], -4, None);
        assert_eq!(cached(&t, fd), None);
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        t.observe("dup2", &[0, fd as u64, 0, 0, 0, 0], fd as i64, None);
        assert_eq!(cached(&t, fd), None);
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        t.observe("openat", &[0; 6], fd as i64, Some(READ));
        assert_eq!(cached(&t, fd), None);

        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        assert_eq!(cached(&t, fd), Some(d.join("b")));

        // After an execve attempt nothing is cached any more.
        t.observe("close", &[fd as u64, 0, 0, 0, 0, 0], 0, None);
        t.before("execve");
        assert!(!t.caches_dirs());
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        assert_eq!(cached(&t, fd), None);
        drop(dir);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_rename_in_a_fork_child_reaches_the_parent() {
        let d = tempdir("fork");
        let dir = std::fs::File::open(d.join("a")).unwrap();
        let fd = dir.as_raw_fd();
        let t = FdAccess::default();
        t.enable_dir_cache();
        assert_eq!(t.dir_path(fd), Some(d.join("a")));
        let from = std::ffi::CString::new(d.join("a").into_os_string().into_encoded_bytes()).unwrap();
        let to = std::ffi::CString::new(d.join("b").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: the child only touches atomics and makes raw syscalls.
        match unsafe { libc::fork() } {
            0 => unsafe {
                t.before("rename");
                libc::_exit(libc::rename(from.as_ptr(), to.as_ptr()));
            },
            child => {
                let mut status = 0;
                // SAFETY: waits for our own child.
                assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
                assert_eq!(status, 0);
            }
        }
        assert_eq!(t.dir_path(fd), Some(d.join("b")));
        drop(dir);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
