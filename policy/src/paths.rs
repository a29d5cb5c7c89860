//! Resolving a path argument the way the kernel will: relative to the
//! working directory or a directory fd, through `..` and symlinks
//! (including /proc magic links), so that a grant check sees where the
//! call really lands. The kernel-level backstop for races is Landlock.
//! Where a directory descriptor points comes from `/proc/self/fd`, or from
//! the policy's cache of those answers (see [`crate::fds`]).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Most symlinks followed in one resolution (the kernel's limit).
const MAX_LINKS: usize = 40;

/// Whether looking at a path failed because it names nothing there (the
/// kernel fails the guest's call alike), not because it could not look.
fn names_nothing(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG))
}

/// Where descriptor `fd` points, as the kernel says (`/proc/self/fd/N`).
pub fn fd_path(fd: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
}

/// The directory `dirfd` names: the working directory for `AT_FDCWD`.
pub fn base(dirfd: Option<i32>) -> Option<PathBuf> {
    base_with(dirfd, fd_path)
}

/// As [`base`], with `dir` telling where a descriptor points.
pub fn base_with(dirfd: Option<i32>, dir: impl FnOnce(i32) -> Option<PathBuf>) -> Option<PathBuf> {
    match dirfd {
        None | Some(AT_FDCWD) => std::env::current_dir().ok(),
        Some(fd) => dir(fd),
    }
}

const AT_FDCWD: i32 = -100;

/// Resolves `path` (relative to `dirfd`). Components that do not exist are
/// kept as written; the last one is not followed when `follow` is false.
/// `None` when the base directory cannot be known, links loop, or a
/// component cannot be looked at (it could be a link).
pub fn resolve(dirfd: Option<i32>, path: &[u8], follow: bool) -> Option<PathBuf> {
    resolve_with(dirfd, path, follow, fd_path)
}

/// As [`resolve`], with `dir` telling where a descriptor points.
pub fn resolve_with(
    dirfd: Option<i32>,
    path: &[u8],
    follow: bool,
    dir: impl FnOnce(i32) -> Option<PathBuf>,
) -> Option<PathBuf> {
    let path = Path::new(OsStr::from_bytes(path));
    let start = if path.is_absolute() { PathBuf::from("/") } else { base_with(dirfd, dir)? };
    let mut pending: Vec<PathBuf> = vec![path.to_path_buf()];
    let mut out = start;
    let mut links = 0;
    // Work through components, splicing in symlink targets as they appear.
    while let Some(p) = pending.pop() {
        let mut comps = p.components().peekable();
        while let Some(c) = comps.next() {
            let last = comps.peek().is_none() && pending.is_empty();
            match c {
                Component::RootDir => out = PathBuf::from("/"),
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(name) => {
                    let next = out.join(name);
                    // A last component that is not followed needs no look.
                    let may_follow = follow || !last;
                    match may_follow.then(|| std::fs::symlink_metadata(&next)) {
                        Some(Ok(m)) if m.file_type().is_symlink() => {
                            links += 1;
                            if links > MAX_LINKS {
                                return None;
                            }
                            let target = std::fs::read_link(&next).ok()?;
                            let rest: PathBuf = comps.collect();
                            if !rest.as_os_str().is_empty() {
                                pending.push(rest);
                            }
                            pending.push(target);
                            break;
                        }
                        // Missing components are kept as written; one that
                        // cannot be looked at may be a link: not resolved.
                        Some(Err(e)) if !names_nothing(&e) => return None,
                        _ => out = next,
                    }
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotdot_and_symlinks_resolve() {
        let d = tempdir();
        std::fs::create_dir(d.join("in")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("in/out")).unwrap();
        std::os::unix::fs::symlink("../in", d.join("in/self")).unwrap();
        let r = |p: &str, f| resolve(None, d.join(p).as_os_str().as_bytes(), f).unwrap();
        assert_eq!(r("in/../in/x", true), d.join("in/x"));
        assert_eq!(r("in/out/passwd", true), PathBuf::from("/etc/passwd"));
        assert_eq!(r("in/out", false), d.join("in/out"));
        assert_eq!(r("in/out", true), PathBuf::from("/etc"));
        assert_eq!(r("in/self/self/new", true), d.join("in/new"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loops_fail() {
        let d = tempdir();
        std::os::unix::fs::symlink("b", d.join("a")).unwrap();
        std::os::unix::fs::symlink("a", d.join("b")).unwrap();
        assert_eq!(resolve(None, d.join("a").as_os_str().as_bytes(), true), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn tempdir() -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("policy-paths-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.canonicalize().unwrap()
    }
}
