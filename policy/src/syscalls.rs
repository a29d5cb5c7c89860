//! Syscall names the policy language knows (the WALI specification's list)
//! and the groups that keep policy files short.

use std::collections::HashMap;
use std::sync::OnceLock;

const SPEC: &str = include_str!("../../wali-core/spec/syscalls.tsv");

/// The specification's rows: names in x86_64 number order, and by name
/// their index and x86_64 number (looked up per syscall when a policy is
/// loaded and its filter built, so not a scan of the table each time).
struct Spec {
    names: Vec<&'static str>,
    by_name: HashMap<&'static str, (usize, Option<i64>)>,
}

fn spec() -> &'static Spec {
    static SPEC_ROWS: OnceLock<Spec> = OnceLock::new();
    SPEC_ROWS.get_or_init(|| {
        let mut names = Vec::new();
        let mut by_name = HashMap::new();
        for line in SPEC.lines().skip(1) {
            let mut cols = line.split('\t');
            let Some(name) = cols.next().and_then(|c| c.strip_prefix("SYS_")) else { continue };
            by_name.entry(name).or_insert((names.len(), cols.next().and_then(|n| n.parse().ok())));
            names.push(name);
        }
        Spec { names, by_name }
    })
}

/// Every syscall name, without `SYS_`, in x86_64 number order.
pub fn names() -> &'static [&'static str] {
    &spec().names
}

/// Argument names of `name` from the specification's C prototype
/// (`int dirfd, char* pathname` gives `dirfd`, `pathname`); empty if unknown.
pub fn arg_names(name: &str) -> Vec<&'static str> {
    let prefixed = format!("SYS_{name}");
    SPEC.lines()
        .find_map(|l| {
            let mut cols = l.split('\t');
            (cols.next() == Some(prefixed.as_str())).then(|| cols.nth(6).unwrap_or(""))
        })
        .map(|c| c.split(',').filter_map(|p| p.trim().rsplit([' ', '*']).next()).filter(|n| !n.is_empty()).collect())
        .unwrap_or_default()
}

/// The x86_64 number of `name`, from the specification's table.
pub fn number(name: &str) -> Option<i64> {
    spec().by_name.get(name)?.1
}

/// Index of `name` in [`names`].
pub fn index(name: &str) -> Option<usize> {
    spec().by_name.get(name).map(|&(i, _)| i)
}

/// Named groups of syscalls, usable as `@name` wherever a syscall is.
pub const GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "basic",
        "what every program needs to start and end: memory, exit, its own identity, time, randomness",
        &[
            "brk",
            "mmap",
            "munmap",
            "mremap",
            "mprotect",
            "madvise",
            "exit",
            "exit_group",
            "getpid",
            "gettid",
            "set_tid_address",
            "getrandom",
            "clock_gettime",
            "clock_getres",
            "sched_yield",
            "rt_sigprocmask",
            "rt_sigaction",
            "sigaltstack",
            "uname",
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getppid",
            "getrlimit",
            "prlimit64",
            "futex",
            "close",
            "ioctl",
        ],
    ),
    (
        "file-read",
        "reading files and directories, and querying metadata",
        &[
            "read",
            "pread64",
            "readv",
            "preadv",
            "open",
            "openat",
            "openat2",
            "stat",
            "fstat",
            "lstat",
            "newfstatat",
            "statx",
            "access",
            "faccessat",
            "faccessat2",
            "readlink",
            "readlinkat",
            "getdents",
            "getdents64",
            "lseek",
            "close",
            "getcwd",
            "chdir",
            "fchdir",
            "statfs",
            "fstatfs",
            "fadvise",
            "readahead",
            "getxattr",
            "lgetxattr",
            "fgetxattr",
            "listxattr",
            "llistxattr",
            "flistxattr",
            "dup",
            "dup2",
            "dup3",
            "fcntl",
            "flock",
        ],
    ),
    (
        "file-write",
        "writing, creating, renaming and removing files and directories",
        &[
            "write",
            "pwrite64",
            "writev",
            "pwritev",
            "ftruncate",
            "truncate",
            "fsync",
            "fdatasync",
            "sync",
            "syncfs",
            "sync_file_range",
            "fallocate",
            "rename",
            "renameat",
            "renameat2",
            "mkdir",
            "mkdirat",
            "rmdir",
            "unlink",
            "unlinkat",
            "link",
            "linkat",
            "symlink",
            "symlinkat",
            "chmod",
            "fchmod",
            "fchmodat",
            "chown",
            "fchown",
            "fchownat",
            "lchown",
            "utimensat",
            "utimes",
            "futimesat",
            "utime",
            "creat",
            "mknod",
            "mknodat",
            "setxattr",
            "lsetxattr",
            "fsetxattr",
            "removexattr",
            "lremovexattr",
            "fremovexattr",
            "copy_file_range",
            "sendfile",
            "umask",
        ],
    ),
    (
        "io",
        "pipes, polling and event descriptors",
        &[
            "pipe",
            "pipe2",
            "poll",
            "ppoll",
            "select",
            "pselect6",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "eventfd",
            "eventfd2",
            "splice",
            "tee",
            "inotify_init",
            "inotify_init1",
            "inotify_add_watch",
            "inotify_rm_watch",
            "memfd_create",
        ],
    ),
    (
        "network",
        "sockets",
        &[
            "socket",
            "socketpair",
            "connect",
            "accept",
            "accept4",
            "bind",
            "listen",
            "getsockname",
            "getpeername",
            "setsockopt",
            "getsockopt",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "shutdown",
        ],
    ),
    (
        "process",
        "creating, replacing, waiting for and identifying processes",
        &[
            "fork",
            "vfork",
            "clone",
            "clone3",
            "execve",
            "execveat",
            "wait4",
            "waitid",
            "setsid",
            "setpgid",
            "getpgid",
            "getsid",
            "getpgrp",
            "prctl",
            "getresuid",
            "getresgid",
            "getgroups",
            "setuid",
            "setgid",
            "setreuid",
            "setregid",
            "setresuid",
            "setresgid",
            "setgroups",
            "setfsuid",
            "setfsgid",
            "getrusage",
            "setrlimit",
            "getpriority",
            "setpriority",
            "sched_getaffinity",
            "sched_setaffinity",
            "getcpu",
            "capget",
            "sysinfo",
            "times",
            "pidfd_open",
        ],
    ),
    (
        "signal",
        "signal dispositions, masks, delivery and timers",
        &[
            "rt_sigaction",
            "rt_sigprocmask",
            "rt_sigpending",
            "rt_sigsuspend",
            "rt_sigtimedwait",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
            "sigaltstack",
            "kill",
            "tkill",
            "tgkill",
            "pause",
            "alarm",
            "setitimer",
            "getitimer",
            "signalfd",
            "signalfd4",
            "pidfd_send_signal",
        ],
    ),
    (
        "time",
        "clocks, sleeping and timers",
        &[
            "clock_gettime",
            "clock_getres",
            "clock_nanosleep",
            "nanosleep",
            "gettimeofday",
            "time",
            "times",
            "timerfd_create",
            "timerfd_settime",
            "timerfd_gettime",
            "timer_settime",
            "timer_gettime",
            "timer_getoverrun",
            "timer_delete",
        ],
    ),
    (
        "memory",
        "the guest's own memory",
        &[
            "brk",
            "mmap",
            "munmap",
            "mremap",
            "mprotect",
            "msync",
            "madvise",
            "mlock",
            "munlock",
            "mlock2",
            "mlockall",
            "munlockall",
        ],
    ),
    (
        "admin",
        "administering the machine or reaching other processes: never for an untrusted guest",
        &[
            "ptrace",
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "swapon",
            "swapoff",
            "reboot",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "bpf",
            "perf_event_open",
            "add_key",
            "request_key",
            "keyctl",
            "settimeofday",
            "clock_settime",
            "adjtimex",
            "clock_adjtime",
            "sethostname",
            "setdomainname",
            "acct",
            "quotactl",
            "quotactl_fd",
            "process_vm_readv",
            "process_vm_writev",
            "kcmp",
            "pidfd_getfd",
            "unshare",
            "setns",
            "userfaultfd",
            "open_by_handle_at",
            "name_to_handle_at",
            "fanotify_init",
            "iopl",
            "ioperm",
            "syslog",
            "vhangup",
            "personality",
            "mount_setattr",
            "open_tree",
            "move_mount",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "seccomp",
            "landlock_create_ruleset",
            "landlock_add_rule",
            "landlock_restrict_self",
        ],
    ),
];

/// The members of group `name` (without `@`).
pub fn group(name: &str) -> Option<&'static [&'static str]> {
    GROUPS.iter().find(|(g, _, _)| *g == name).map(|(_, _, m)| *m)
}

/// The closest known name to `wrong`, for "did you mean" hints.
pub fn suggest<'a>(wrong: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(wrong, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_member_is_a_syscall() {
        for (g, _, members) in GROUPS {
            for m in *members {
                assert!(index(m).is_some(), "@{g}: {m}");
            }
        }
        assert_eq!(names().len(), 362);
    }

    #[test]
    fn numbers_and_indexes_are_the_tables() {
        assert_eq!(
            (number("read"), number("openat"), number("landlock_restrict_self")),
            (Some(0), Some(257), Some(446))
        );
        assert_eq!((number("no_such_call"), index("no_such_call")), (None, None));
        for (i, name) in names().iter().enumerate() {
            assert_eq!(index(name), Some(i), "{name}");
        }
    }

    #[test]
    fn argument_names_come_from_the_spec() {
        assert_eq!(arg_names("openat"), ["dirfd", "pathname", "flags", "mode"]);
        assert!(arg_names("getpid").is_empty());
        assert!(arg_names("no_such_call").is_empty());
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("opnat", names().iter().copied()), Some("openat"));
        assert_eq!(suggest("wirte", names().iter().copied()), Some("write"));
        assert_eq!(suggest("zzzzzzzzzz", names().iter().copied()), None);
    }
}
