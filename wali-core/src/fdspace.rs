//! Guest and host descriptors share the process's one kernel fd table, so
//! they live in separate ranges. The guest's are below [`limit`]: the soft
//! `RLIMIT_NOFILE` is set to it, so the kernel gives the guest no
//! descriptor at or above it (open, pipe, accept, `SCM_RIGHTS`...), and
//! decoding answers `-EBADF` to any fd argument at or above it. The host's
//! own descriptors (audit log, compiled-module files, shared counters) are
//! moved to the range above as they are opened, close-on-exec.
//!
//! Order at startup: [`prepare`] (before the host opens anything), then
//! [`set_limit`], host files through [`to_host`], then [`seal`] just
//! before guest code runs.

use anyhow::{Result, bail};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// Descriptors kept free above the guest's range for the host.
const HOST_RESERVE: u64 = 64;

static LIMIT: AtomicI32 = AtomicI32::new(i32::MAX);

/// The first descriptor number the guest may not use.
#[inline]
pub fn limit() -> i32 {
    LIMIT.load(Ordering::Relaxed)
}

fn nofile() -> libc::rlimit {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: writes the local struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    rl
}

fn set_nofile(soft: u64, hard: u64) -> std::io::Result<()> {
    let rl = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: reads the local struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The largest range a guest gets without asking (`open_files`). The
/// host's descriptors sit just above the range, and the kernel sizes the
/// process's descriptor table to hold them (natively a table grows only as
/// descriptors are opened): every start grows it and every fork copies it.
/// With the 20 000 inherited here a fork took 68 µs more than with 1024;
/// containers often allow 1 048 576, an 8 MiB table to clear at every
/// start and copy at every fork.
pub const DEFAULT_RANGE: u64 = 4096;

/// Lifts the soft descriptor limit to the hard one so host descriptors can
/// be placed high. Returns the guest's default range: the soft limit the
/// process started with, at most [`DEFAULT_RANGE`].
pub fn prepare() -> u64 {
    let rl = nofile();
    let _ = set_nofile(rl.rlim_max, rl.rlim_max);
    rl.rlim_cur.min(DEFAULT_RANGE)
}

/// Fixes the guest's range to `0..wanted`, less if the hard limit leaves no
/// room for the host above it. Returns the range's end.
pub fn set_limit(wanted: u64) -> i32 {
    let hard = nofile().rlim_max;
    let end = wanted.min(hard.saturating_sub(HOST_RESERVE)).clamp(16, i32::MAX as u64 - HOST_RESERVE) as i32;
    LIMIT.store(end, Ordering::Relaxed);
    end
}

/// Moves a host descriptor above the guest's range (close-on-exec).
pub fn to_host<F: From<OwnedFd> + Into<OwnedFd>>(fd: F) -> std::io::Result<F> {
    let fd: OwnedFd = fd.into();
    let base = limit();
    if base == i32::MAX || fd.as_raw_fd() >= base {
        return Ok(fd.into());
    }
    // SAFETY: duplicates a descriptor we own; the copy is owned below.
    let dup = || unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, base) };
    let mut high = dup();
    if high < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Sealed already (a module the WASI shim links late): lift the soft
        // limit for the one call. Guest code has not started a thread yet.
        let rl = nofile();
        set_nofile(rl.rlim_max, rl.rlim_max)?;
        high = dup();
        set_nofile(rl.rlim_cur, rl.rlim_max)?;
    }
    if high < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `high` was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(high) }.into())
}

/// Takes a descriptor a previous waligate handed across execve (with
/// close-on-exec cleared for it): checks that it is open and makes it
/// close-on-exec again.
pub fn take(fd: std::os::fd::RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: only sets a flag, and fails for a descriptor that is not open.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor is open and was handed to us to own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// [`take`]s a handed-over descriptor the host keeps, into the host's range.
pub fn adopt(fd: std::os::fd::RawFd) -> std::io::Result<OwnedFd> {
    to_host(take(fd)?)
}

/// Checks that no host descriptor is left in the guest's range and lowers
/// the soft limit to the range's end, so the kernel keeps the guest there.
/// Host descriptors are close-on-exec; descriptors inherited from whoever
/// started waligate (stdio, a shell's redirections) are the guest's.
pub fn seal() -> Result<()> {
    let end = limit();
    if end == i32::MAX {
        return Ok(());
    }
    for fd in open_below(end) {
        // SAFETY: F_GETFD only queries.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if (3..end).contains(&fd) && flags >= 0 && flags & libc::FD_CLOEXEC != 0 {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
            bail!("host descriptor {fd} ({}) is inside the guest's range", target.display());
        }
    }
    set_nofile(end as u64, nofile().rlim_max)?;
    Ok(())
}

/// Ranges up to this size (the usual default soft limit) can be checked
/// with one poll(2); poll's cost grows with the range, a listing of
/// `/proc/self/fd`'s with the open descriptors.
const POLL_MAX: i32 = 1024;

/// A process seldom has a descriptor this high open when it starts:
/// counting looks below it first.
const FEW: i32 = 64;

/// The open descriptors below `end`: counted, else polled, else listed.
fn open_below(end: i32) -> Vec<i32> {
    counted(end).or_else(|| polled(end)).unwrap_or_else(|| listed(end))
}

fn polled(end: i32) -> Option<Vec<i32>> {
    (end <= POLL_MAX).then(|| poll_open(0..end)).flatten()
}

/// The open descriptors in `range` (at most the soft limit's length).
/// poll(2) marks each closed one POLLNVAL without waiting (no events asked,
/// no timeout): over 1024 descriptors it costs a fifth of a process's
/// first listing of `/proc/self/fd`, whose entries procfs builds on demand.
fn poll_open(range: std::ops::Range<i32>) -> Option<Vec<i32>> {
    let mut fds: Vec<libc::pollfd> = range.map(|fd| libc::pollfd { fd, events: 0, revents: 0 }).collect();
    // SAFETY: the array is ours and its length; the soft limit, lifted by
    // `prepare`, is at least that.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    (ret >= 0).then(|| fds.iter().filter(|p| p.revents & libc::POLLNVAL == 0).map(|p| p.fd).collect())
}

/// The open descriptors below `end` without polling or listing the whole
/// range: those below FEW (else POLL_MAX), if none is open from there to
/// `end`. Since Linux 6.2 the size of `/proc/self/fd` is the number of open
/// descriptors; when it equals those polled low plus the host's just above
/// `end` (where `to_host` puts them), nothing is open in between. `None`
/// when that cannot be shown (an older kernel says 0; the count changed
/// meanwhile; descriptors elsewhere).
fn counted(end: i32) -> Option<Vec<i32>> {
    let open = || std::fs::metadata("/proc/self/fd").ok().map(|m| m.len());
    let before = open()?;
    let host = poll_open(end..end.saturating_add(HOST_RESERVE as i32))?.len() as u64;
    let low = [FEW, POLL_MAX].into_iter().find_map(|below| {
        let low = poll_open(0..below.min(end))?;
        (low.len() as u64 + host == before).then_some(low)
    })?;
    (open()? == before).then_some(low)
}

fn listed(end: i32) -> Vec<i32> {
    // Listed first, so the listing's own descriptor is closed when checked.
    // A waligate started by a guest's execve runs in its parent's Landlock
    // domain, which may hide /proc: the check is then skipped (the host's
    // files are opened through `to_host` regardless).
    match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).filter(|&fd| fd < end).collect(),
        Err(e) => {
            tracing::debug!("cannot list /proc/self/fd ({e}): host descriptor check skipped");
            Vec::new()
        }
    }
}

/// Whether `fd` may be named by the guest (AT_FDCWD and other negative
/// values are left to the kernel, which refuses those that mean nothing).
#[inline]
pub fn guest_may_use(fd: i32) -> bool {
    fd < limit()
}

/// Files of the host's the guest may not open by any path (its audit log,
/// its policy file): `(st_dev, st_ino)`.
static HOST_FILES: std::sync::RwLock<Vec<(u64, u64)>> = std::sync::RwLock::new(Vec::new());

fn identity(fd: i32) -> Option<libc::stat> {
    // SAFETY: fstat writes the local struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st)
}

/// Puts a host file out of the guest's reach: a descriptor the guest opens
/// on it, by whatever path or link, is refused.
pub fn protect(meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(mut files) = HOST_FILES.write() {
        files.push((meta.dev(), meta.ino()));
    }
}

/// Whether a call that changes files names one of the host's files by a
/// path argument (the path itself or what it links to): such calls
/// (truncate, chmod, unlink, rename, link... of the audit log) are refused
/// with `-EACCES`. Opens are vetted by what they opened instead
/// ([`vet_opened`]).
pub fn names_host_file(call: &crate::decode::Call<'_>) -> bool {
    use crate::table::Arg;
    // A slice scan first: most calls (getpid, read...) take no path.
    if !call.sys.args.contains(&Arg::Path) || !changes_files(call.sys.name) {
        return false;
    }
    let Ok(files) = HOST_FILES.read() else { return false };
    if files.is_empty() {
        return false;
    }
    let args = call.sys.args;
    (0..args.len()).filter(|&i| args[i] == Arg::Path).any(|i| {
        let Some(path) = call.path(i) else { return false };
        // A path's directory is the descriptor argument just before it.
        let dirfd = if i > 0 && args[i - 1] == Arg::Fd { call.raw[i - 1] as i32 } else { libc::AT_FDCWD };
        let is_host = |flags: i32| {
            // SAFETY: fstatat writes the local struct; the path is a C string.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            if unsafe { libc::fstatat(dirfd, path.as_ptr(), &mut st, flags) } != 0 {
                // A path that names nothing (the call fails alike) is no
                // host file; one the host may not look at might be.
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                return (!names_nothing(errno)).then_some((true, false));
            }
            Some((files.contains(&(st.st_dev, st.st_ino)), st.st_mode & libc::S_IFMT == libc::S_IFLNK))
        };
        match is_host(libc::AT_SYMLINK_NOFOLLOW) {
            Some((true, _)) => true,
            // Through a symlink only for calls that follow it (following
            // one reads it, which a call on the link itself would not).
            Some((false, true)) if follows_last_link(call) => is_host(0).is_some_and(|(host, _)| host),
            _ => false,
        }
    })
}

/// Errors that say a path names nothing: the kernel fails a guest's call on
/// it the same way.
fn names_nothing(errno: i32) -> bool {
    matches!(errno, libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG)
}

/// Path calls that change a file or its name (looking at one, as stat
/// does, harms nothing and is left alone).
fn changes_files(name: &str) -> bool {
    matches!(
        name,
        "truncate"
            | "chmod"
            | "fchmodat"
            | "chown"
            | "lchown"
            | "fchownat"
            | "utime"
            | "utimes"
            | "utimensat"
            | "futimesat"
            | "rename"
            | "renameat"
            | "renameat2"
            | "link"
            | "linkat"
            | "unlink"
            | "unlinkat"
            | "rmdir"
            | "symlink"
            | "symlinkat"
            | "setxattr"
            | "lsetxattr"
            | "removexattr"
            | "lremovexattr"
            | "mknod"
            | "mknodat"
    )
}

/// Whether a path call acts on what a final symlink points to.
fn follows_last_link(call: &crate::decode::Call<'_>) -> bool {
    let flags = || call.raw[call.sys.args.len() - 1] as i32;
    match call.sys.name {
        "truncate" | "chmod" | "chown" | "utime" | "utimes" | "setxattr" | "removexattr" => true,
        "fchownat" | "utimensat" | "fchmodat" => flags() & libc::AT_SYMLINK_NOFOLLOW == 0,
        "linkat" => flags() & libc::AT_SYMLINK_FOLLOW != 0,
        _ => false,
    }
}

/// Entries of a `/proc/PID` (or `/proc/PID/task/TID`) directory that would
/// reach a process's memory, descriptors, environment or address-space
/// layout, or change how the kernel treats it.
const PROC_ENTRIES: &[&str] = &[
    "mem",
    "maps",
    "smaps",
    "smaps_rollup",
    "numa_maps",
    "pagemap",
    "clear_refs",
    "environ",
    "auxv",
    "syscall",
    "stack",
    "fd",
    "fdinfo",
    "map_files",
    "root",
    "cwd",
    "exe",
    "coredump_filter",
    "oom_adj",
    "oom_score_adj",
    "timerslack_ns",
    "uid_map",
    "gid_map",
    "setgroups",
    "attr",
];

const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Whether a path in procfs (as `/proc/self/fd/N` reads back) names one of
/// [`PROC_ENTRIES`] of some process or thread.
pub fn is_sensitive_proc_path(path: &[u8]) -> bool {
    let mut parts = path.split(|&b| b == b'/').filter(|p| !p.is_empty()).skip(1);
    let numeric = |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    if !numeric(parts.next()) {
        return false;
    }
    let mut entry = parts.next();
    if entry == Some(b"task".as_slice()) {
        if !numeric(parts.next()) {
            return false;
        }
        entry = parts.next();
    }
    entry.is_some_and(|e| PROC_ENTRIES.iter().any(|s| s.as_bytes() == e))
}

/// Vets a descriptor the guest just opened: refused (closed, `-EACCES`) if
/// it is one of the host's files or a sensitive procfs entry. Checking what
/// was opened, not the path asked for, leaves no link or race to exploit.
pub fn vet_opened(fd: i32) -> Result<(), crate::errno::Errno> {
    let refuse = || {
        // SAFETY: closes the descriptor the guest's call just created.
        unsafe { libc::close(fd) };
        Err(crate::errno::Errno(libc::EACCES))
    };
    // What cannot be identified is not handed over: it could be anything.
    let Some(st) = identity(fd) else { return refuse() };
    let host = HOST_FILES.read().is_ok_and(|f| f.contains(&(st.st_dev, st.st_ino)));
    // procfs, like every virtual file system, has an anonymous device; one
    // whose type cannot be read is checked as procfs would be.
    let proc = !host && libc::major(st.st_dev) == 0 && {
        // SAFETY: fstatfs writes the local struct.
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::fstatfs(fd, &mut fs) } == 0;
        !ok || fs.f_type == PROC_SUPER_MAGIC
    };
    let sensitive = proc
        && std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .map_or(true, |p| is_sensitive_proc_path(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str())));
    if host || sensitive {
        return refuse();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_sensitive_proc_path as sensitive;

    #[test]
    fn sensitive_proc_entries_of_any_process_or_thread() {
        assert!(sensitive(b"/proc/1/mem"));
        assert!(sensitive(b"/proc/42/fd"));
        assert!(sensitive(b"/proc/42/fd/3"));
        assert!(sensitive(b"/proc/42/task/43/environ"));
        assert!(!sensitive(b"/proc/42/status"));
        assert!(!sensitive(b"/proc/42/task/43/stat"));
        assert!(!sensitive(b"/proc/cpuinfo"));
        assert!(!sensitive(b"/proc/sys/kernel/mem"));
        assert!(!sensitive(b"/proc/42/task/x/mem"));
    }

    /// Both ways of finding open descriptors see one placed high (where
    /// concurrent tests do not reuse numbers), and neither sees it closed.
    #[test]
    fn poll_and_listing_agree_on_open_descriptors() {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: duplicates a descriptor we own; closed below.
        let high = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 900) };
        assert!(high >= 900);
        let polled = super::polled(1024).expect("poll over a default range");
        assert!(polled.contains(&high) && polled.contains(&file.as_raw_fd()));
        assert!(super::listed(1024).contains(&high));
        assert!(!super::listed(high).contains(&high), "the listing keeps to the range");
        // SAFETY: closes the duplicate made above.
        unsafe { libc::close(high) };
        assert!(!super::polled(1024).unwrap().contains(&high));
        assert!(!super::listed(1024).contains(&high));
        assert_eq!(super::polled(super::POLL_MAX + 1), None, "larger ranges are counted or listed");
    }

    /// Counting finds a large range's middle empty, and not when a
    /// descriptor is open there, and sees one above the first few (in a
    /// forked child: one thread, so no test opens or closes descriptors
    /// meanwhile).
    #[test]
    fn counting_sees_a_descriptor_in_the_middle_of_a_large_range() {
        use std::os::fd::AsRawFd;
        let end = 8000;
        let check = || {
            let file = std::fs::File::open("/dev/null").unwrap();
            let clear = super::counted(end).expect("nothing between the first descriptors and the end");
            assert!(clear.contains(&file.as_raw_fd()));
            // SAFETY: duplicates a descriptor we own; closed below.
            let middle = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 5000) };
            assert_eq!(middle, 5000);
            assert_eq!(super::counted(end), None);
            assert!(super::open_below(end).contains(&middle), "listed instead");
            // SAFETY: closes the duplicate made above.
            unsafe { libc::close(middle) };
            assert_eq!(super::counted(end), Some(clear.clone()));
            // One above the first few is found by the wider poll.
            // SAFETY: duplicates a descriptor we own; closed below.
            let above_few = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 500) };
            assert_eq!(above_few, 500);
            assert!(super::counted(end).expect("still nothing in the middle").contains(&above_few));
            // SAFETY: closes the duplicate made above.
            unsafe { libc::close(above_few) };
            assert_eq!(super::counted(end), Some(clear));
        };
        // SAFETY: the child runs `check` and leaves with _exit, never
        // returning into the test harness.
        match unsafe { libc::fork() } {
            0 => {
                let ok = std::panic::catch_unwind(check).is_ok();
                // SAFETY: ends the child without running the parent's exit handlers.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            pid => {
                let mut status = 0;
                // SAFETY: waits for the child forked above.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child status {status:#x}");
            }
        }
    }
}
