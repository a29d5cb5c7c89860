//! The WALI syscall table: one row of data per syscall, saying how each
//! argument is decoded and how the call is carried out. Everything else
//! (linking, policy, audit, documentation) is driven by these rows.

use crate::emu;
use crate::emu::Emu;
use Arg::*;
use Imp::*;
use Why::*;

/// How one argument is decoded from the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Signed scalar (`int`, `long`, `pid_t`, `off_t`): sign-extended.
    Int,
    /// Unsigned 32-bit scalar (`size_t`, `unsigned`, `mode_t`, `uid_t`).
    UInt,
    /// A file descriptor.
    Fd,
    /// NUL-terminated path or name, copied into host memory (NULL allowed).
    Path,
    /// Input struct of this many bytes, copied into host memory.
    In(u32),
    /// Input bytes whose length is argument `i` (at most a page), copied.
    CopyIn(u8),
    /// Output struct of this many bytes, written by the kernel in place.
    Out(u32),
    /// Struct of this many bytes read and written by the kernel in place.
    InOut(u32),
    /// Input buffer whose length is argument `i`, passed in place.
    BufIn(u8),
    /// Output buffer whose length is argument `i`, written in place.
    BufOut(u8),
    /// Socket address whose length is argument `i`, copied in.
    AddrIn(u8),
    /// Output buffer whose capacity is the `u32` that argument `i` points to.
    LenOut(u8),
    /// Like `LenOut` for a socket address: the kernel writes at most 128 bytes.
    AddrOut(u8),
    /// `socklen_t *`: copied in, updated by the kernel in the copy, and
    /// copied back after a successful call (so no other thread can change
    /// the length between the bounds check and the kernel's use).
    Len,
    /// Array of `count = argument i` elements of `size` bytes, in place.
    Array(u8, u32),
    /// `fd_set` covering argument 0's number of descriptors, in place.
    FdSet,
    /// sendmsg's Wasm msghdr: its destination address (`msg_name`) is
    /// copied out for the gate; the emulation converts the rest.
    Msghdr,
    /// Guest address used by the memory emulation (never translated).
    Addr,
    /// Pointer the syscall's emulation converts itself.
    Raw,
}

impl Arg {
    /// Whether decoding leaves this argument where it is: a scalar, a
    /// bounds-checked pointer the kernel uses in place, or an address the
    /// emulation converts itself. Nothing is copied, and no guest memory is
    /// read to size it.
    pub const fn in_place(self) -> bool {
        matches!(self, Int | UInt | Fd | Out(_) | InOut(_) | BufIn(_) | BufOut(_) | Addr | Raw)
    }
}

/// How a syscall is carried out.
#[derive(Clone, Copy)]
pub enum Imp {
    /// Passed to the kernel with translated arguments.
    Kernel,
    /// Carried out by host code (layout conversion, emulation).
    Emulated(Emu),
    /// Deliberately answered `-ENOSYS`.
    Nosys(Why),
}

/// Why a syscall is answered `-ENOSYS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// It would act on the engine's own address space, threads or runtime.
    HostInternals,
    /// It administers the whole machine, not a process.
    SystemAdmin,
    /// It reaches into other processes' memory or descriptors.
    CrossProcess,
    /// Process creation beyond fork, vfork and execve.
    Process,
    /// Its pointer layout needs a conversion the host does not provide yet.
    Unconverted,
}

impl Why {
    pub fn describe(self) -> &'static str {
        match self {
            HostInternals => "would act on the engine's own address space, threads or runtime",
            SystemAdmin => "administers the machine, not the process",
            CrossProcess => "reaches into other processes' memory or descriptors",
            Process => "process creation other than fork, vfork and execve is not available",
            Unconverted => "its pointer layout has no conversion yet",
        }
    }
}

/// One row of the table.
pub struct Syscall {
    /// musl's name without the `SYS_` prefix (`fadvise`, `newfstatat`).
    pub name: &'static str,
    /// x86_64 syscall number.
    pub nr: i64,
    pub args: &'static [Arg],
    pub imp: Imp,
}

impl Syscall {
    /// Whether every argument is in place (see [`Arg::in_place`]): decoding
    /// copies nothing, so a call the gate always allows can take the direct
    /// path (`dispatch::direct`).
    pub fn in_place(&self) -> bool {
        self.args.iter().all(|a| a.in_place())
    }
}

const fn k(name: &'static str, nr: i64, args: &'static [Arg]) -> Syscall {
    Syscall { name, nr, args, imp: Kernel }
}

const fn e(name: &'static str, nr: i64, args: &'static [Arg], f: Emu) -> Syscall {
    Syscall { name, nr, args, imp: Emulated(f) }
}

const fn no(name: &'static str, nr: i64, why: Why) -> Syscall {
    Syscall { name, nr, args: &[], imp: Nosys(why) }
}

use libc::*;

/// Every syscall the host knows, in x86_64 number order.
pub static SYSCALLS: &[Syscall] = &[
    k("read", SYS_read, &[Fd, BufOut(2), UInt]),
    k("write", SYS_write, &[Fd, BufIn(2), UInt]),
    k("open", SYS_open, &[Path, Int, UInt]),
    k("close", SYS_close, &[Fd]),
    k("stat", SYS_stat, &[Path, Out(144)]),
    k("fstat", SYS_fstat, &[Fd, Out(144)]),
    k("lstat", SYS_lstat, &[Path, Out(144)]),
    k("poll", SYS_poll, &[Array(1, 8), Int, Int]),
    k("lseek", SYS_lseek, &[Fd, Int, Int]),
    e("mmap", SYS_mmap, &[Addr, UInt, Int, Int, Fd, Int], emu::mm::mmap),
    e("mprotect", SYS_mprotect, &[Addr, UInt, Int], emu::mm::mprotect),
    e("munmap", SYS_munmap, &[Addr, UInt], emu::mm::munmap),
    e("brk", SYS_brk, &[Addr], emu::mm::brk),
    e("rt_sigaction", SYS_rt_sigaction, &[Int, Raw, Raw, UInt], emu::signal::rt_sigaction),
    e("rt_sigprocmask", SYS_rt_sigprocmask, &[Int, Raw, BufOut(3), UInt], emu::signal::rt_sigprocmask),
    no("rt_sigreturn", SYS_rt_sigreturn, HostInternals),
    e("ioctl", SYS_ioctl, &[Fd, UInt, Raw], emu::ctl::ioctl),
    k("pread64", SYS_pread64, &[Fd, BufOut(2), UInt, Int]),
    k("pwrite64", SYS_pwrite64, &[Fd, BufIn(2), UInt, Int]),
    e("readv", SYS_readv, &[Fd, Raw, Int], emu::iov::readv),
    e("writev", SYS_writev, &[Fd, Raw, Int], emu::iov::writev),
    k("access", SYS_access, &[Path, Int]),
    k("pipe", SYS_pipe, &[Out(8)]),
    k("select", SYS_select, &[Int, FdSet, FdSet, FdSet, InOut(16)]),
    k("sched_yield", SYS_sched_yield, &[]),
    e("mremap", SYS_mremap, &[Addr, UInt, UInt, Int, Addr], emu::mm::mremap),
    e("msync", SYS_msync, &[Addr, UInt, Int], emu::mm::msync),
    no("mincore", SYS_mincore, Unconverted),
    e("madvise", SYS_madvise, &[Addr, UInt, Int], emu::mm::madvise),
    no("shmget", SYS_shmget, HostInternals),
    no("shmat", SYS_shmat, HostInternals),
    no("shmctl", SYS_shmctl, HostInternals),
    k("dup", SYS_dup, &[Fd]),
    k("dup2", SYS_dup2, &[Fd, Fd]),
    k("pause", SYS_pause, &[]),
    k("nanosleep", SYS_nanosleep, &[In(16), Out(16)]),
    k("getitimer", SYS_getitimer, &[Int, Out(32)]),
    k("alarm", SYS_alarm, &[UInt]),
    k("setitimer", SYS_setitimer, &[Int, In(32), Out(32)]),
    k("getpid", SYS_getpid, &[]),
    k("sendfile", SYS_sendfile, &[Fd, Fd, InOut(8), UInt]),
    k("socket", SYS_socket, &[Int, Int, Int]),
    k("connect", SYS_connect, &[Fd, AddrIn(2), UInt]),
    k("accept", SYS_accept, &[Fd, AddrOut(2), Len]),
    k("sendto", SYS_sendto, &[Fd, BufIn(2), UInt, Int, AddrIn(5), UInt]),
    k("recvfrom", SYS_recvfrom, &[Fd, BufOut(2), UInt, Int, AddrOut(5), Len]),
    e("sendmsg", SYS_sendmsg, &[Fd, Msghdr, Int], emu::iov::sendmsg),
    e("recvmsg", SYS_recvmsg, &[Fd, Raw, Int], emu::iov::recvmsg),
    k("shutdown", SYS_shutdown, &[Fd, Int]),
    k("bind", SYS_bind, &[Fd, AddrIn(2), UInt]),
    k("listen", SYS_listen, &[Fd, Int]),
    k("getsockname", SYS_getsockname, &[Fd, AddrOut(2), Len]),
    k("getpeername", SYS_getpeername, &[Fd, AddrOut(2), Len]),
    k("socketpair", SYS_socketpair, &[Int, Int, Int, Out(8)]),
    k("setsockopt", SYS_setsockopt, &[Fd, Int, Int, CopyIn(4), UInt]),
    k("getsockopt", SYS_getsockopt, &[Fd, Int, Int, LenOut(4), Len]),
    e("clone", SYS_clone, &[Raw, Raw, Raw, Raw, Raw], emu::process::clone),
    e("fork", SYS_fork, &[], emu::process::fork),
    e("vfork", SYS_vfork, &[], emu::process::fork),
    e("execve", SYS_execve, &[Path, Raw, Raw], emu::process::execve),
    e("exit", SYS_exit, &[Int], emu::process::exit),
    k("wait4", SYS_wait4, &[Int, Out(4), Int, Out(144)]),
    e("kill", SYS_kill, &[Int, Int], emu::kill::kill),
    k("uname", SYS_uname, &[Out(390)]),
    no("semget", SYS_semget, Unconverted),
    no("semop", SYS_semop, Unconverted),
    no("semctl", SYS_semctl, Unconverted),
    no("shmdt", SYS_shmdt, HostInternals),
    no("msgget", SYS_msgget, Unconverted),
    no("msgsnd", SYS_msgsnd, Unconverted),
    no("msgrcv", SYS_msgrcv, Unconverted),
    no("msgctl", SYS_msgctl, Unconverted),
    e("fcntl", SYS_fcntl, &[Fd, Int, Raw], emu::ctl::fcntl),
    k("flock", SYS_flock, &[Fd, Int]),
    k("fsync", SYS_fsync, &[Fd]),
    k("fdatasync", SYS_fdatasync, &[Fd]),
    k("truncate", SYS_truncate, &[Path, Int]),
    k("ftruncate", SYS_ftruncate, &[Fd, Int]),
    k("getdents", SYS_getdents, &[Fd, BufOut(2), UInt]),
    k("getcwd", SYS_getcwd, &[BufOut(1), UInt]),
    k("chdir", SYS_chdir, &[Path]),
    k("fchdir", SYS_fchdir, &[Fd]),
    k("rename", SYS_rename, &[Path, Path]),
    k("mkdir", SYS_mkdir, &[Path, UInt]),
    k("rmdir", SYS_rmdir, &[Path]),
    k("creat", SYS_creat, &[Path, UInt]),
    k("link", SYS_link, &[Path, Path]),
    k("unlink", SYS_unlink, &[Path]),
    k("symlink", SYS_symlink, &[Path, Path]),
    k("readlink", SYS_readlink, &[Path, BufOut(2), UInt]),
    k("chmod", SYS_chmod, &[Path, UInt]),
    k("fchmod", SYS_fchmod, &[Fd, UInt]),
    k("chown", SYS_chown, &[Path, UInt, UInt]),
    k("fchown", SYS_fchown, &[Fd, UInt, UInt]),
    k("lchown", SYS_lchown, &[Path, UInt, UInt]),
    k("umask", SYS_umask, &[UInt]),
    k("gettimeofday", SYS_gettimeofday, &[Out(16), Out(8)]),
    e("getrlimit", SYS_getrlimit, &[Int, Out(16)], emu::rlimit::getrlimit),
    k("getrusage", SYS_getrusage, &[Int, Out(144)]),
    k("sysinfo", SYS_sysinfo, &[Out(112)]),
    k("times", SYS_times, &[Out(32)]),
    no("ptrace", SYS_ptrace, CrossProcess),
    k("getuid", SYS_getuid, &[]),
    k("syslog", SYS_syslog, &[Int, BufOut(2), Int]),
    k("getgid", SYS_getgid, &[]),
    k("setuid", SYS_setuid, &[UInt]),
    k("setgid", SYS_setgid, &[UInt]),
    k("geteuid", SYS_geteuid, &[]),
    k("getegid", SYS_getegid, &[]),
    k("setpgid", SYS_setpgid, &[Int, Int]),
    k("getppid", SYS_getppid, &[]),
    k("getpgrp", SYS_getpgrp, &[]),
    k("setsid", SYS_setsid, &[]),
    k("setreuid", SYS_setreuid, &[UInt, UInt]),
    k("setregid", SYS_setregid, &[UInt, UInt]),
    k("getgroups", SYS_getgroups, &[Int, Array(0, 4)]),
    k("setgroups", SYS_setgroups, &[Int, Array(0, 4)]),
    k("setresuid", SYS_setresuid, &[UInt, UInt, UInt]),
    k("getresuid", SYS_getresuid, &[Out(4), Out(4), Out(4)]),
    k("setresgid", SYS_setresgid, &[UInt, UInt, UInt]),
    k("getresgid", SYS_getresgid, &[Out(4), Out(4), Out(4)]),
    k("getpgid", SYS_getpgid, &[Int]),
    k("setfsuid", SYS_setfsuid, &[UInt]),
    k("setfsgid", SYS_setfsgid, &[UInt]),
    k("getsid", SYS_getsid, &[Int]),
    k("capget", SYS_capget, &[InOut(8), Out(24)]),
    k("capset", SYS_capset, &[InOut(8), In(24)]),
    k("rt_sigpending", SYS_rt_sigpending, &[BufOut(1), UInt]),
    k("rt_sigtimedwait", SYS_rt_sigtimedwait, &[BufIn(3), Out(128), In(16), UInt]),
    e("rt_sigqueueinfo", SYS_rt_sigqueueinfo, &[Int, Int, In(128)], emu::kill::to_process),
    e("rt_sigsuspend", SYS_rt_sigsuspend, &[Raw, UInt], emu::signal::rt_sigsuspend),
    e("sigaltstack", SYS_sigaltstack, &[Raw, Raw], emu::signal::sigaltstack),
    k("utime", SYS_utime, &[Path, In(16)]),
    k("mknod", SYS_mknod, &[Path, UInt, UInt]),
    no("uselib", SYS_uselib, SystemAdmin),
    no("personality", SYS_personality, HostInternals),
    no("ustat", SYS_ustat, SystemAdmin),
    k("statfs", SYS_statfs, &[Path, Out(120)]),
    k("fstatfs", SYS_fstatfs, &[Fd, Out(120)]),
    no("sysfs", SYS_sysfs, SystemAdmin),
    k("getpriority", SYS_getpriority, &[Int, Int]),
    k("setpriority", SYS_setpriority, &[Int, Int, Int]),
    k("sched_setparam", SYS_sched_setparam, &[Int, In(4)]),
    k("sched_getparam", SYS_sched_getparam, &[Int, Out(4)]),
    k("sched_setscheduler", SYS_sched_setscheduler, &[Int, Int, In(4)]),
    k("sched_getscheduler", SYS_sched_getscheduler, &[Int]),
    k("sched_get_priority_max", SYS_sched_get_priority_max, &[Int]),
    k("sched_get_priority_min", SYS_sched_get_priority_min, &[Int]),
    k("sched_rr_get_interval", SYS_sched_rr_get_interval, &[Int, Out(16)]),
    k("mlock", SYS_mlock, &[BufIn(1), UInt]),
    k("munlock", SYS_munlock, &[BufIn(1), UInt]),
    e("mlockall", SYS_mlockall, &[Int], emu::mm::mlockall),
    e("munlockall", SYS_munlockall, &[], emu::mm::munlockall),
    no("vhangup", SYS_vhangup, SystemAdmin),
    no("modify_ldt", SYS_modify_ldt, HostInternals),
    no("pivot_root", SYS_pivot_root, SystemAdmin),
    no("_sysctl", SYS__sysctl, SystemAdmin),
    e("prctl", SYS_prctl, &[Int, Raw, Int, Int, Int], emu::ctl::prctl),
    no("arch_prctl", SYS_arch_prctl, HostInternals),
    no("adjtimex", SYS_adjtimex, SystemAdmin),
    e("setrlimit", SYS_setrlimit, &[Int, In(16)], emu::rlimit::setrlimit),
    k("chroot", SYS_chroot, &[Path]),
    k("sync", SYS_sync, &[]),
    no("acct", SYS_acct, SystemAdmin),
    no("settimeofday", SYS_settimeofday, SystemAdmin),
    no("mount", SYS_mount, SystemAdmin),
    no("umount2", SYS_umount2, SystemAdmin),
    no("swapon", SYS_swapon, SystemAdmin),
    no("swapoff", SYS_swapoff, SystemAdmin),
    no("reboot", SYS_reboot, SystemAdmin),
    no("sethostname", SYS_sethostname, SystemAdmin),
    no("setdomainname", SYS_setdomainname, SystemAdmin),
    no("iopl", SYS_iopl, SystemAdmin),
    no("ioperm", SYS_ioperm, SystemAdmin),
    no("create_module", 174, SystemAdmin),
    no("init_module", SYS_init_module, SystemAdmin),
    no("delete_module", SYS_delete_module, SystemAdmin),
    no("get_kernel_syms", 177, SystemAdmin),
    no("query_module", 178, SystemAdmin),
    no("quotactl", SYS_quotactl, SystemAdmin),
    no("nfsservctl", SYS_nfsservctl, SystemAdmin),
    no("getpmsg", SYS_getpmsg, SystemAdmin),
    no("putpmsg", SYS_putpmsg, SystemAdmin),
    no("afs_syscall", SYS_afs_syscall, SystemAdmin),
    no("tuxcall", SYS_tuxcall, SystemAdmin),
    no("security", SYS_security, SystemAdmin),
    k("gettid", SYS_gettid, &[]),
    k("readahead", SYS_readahead, &[Fd, Int, UInt]),
    k("setxattr", SYS_setxattr, &[Path, Path, BufIn(3), UInt, Int]),
    k("lsetxattr", SYS_lsetxattr, &[Path, Path, BufIn(3), UInt, Int]),
    k("fsetxattr", SYS_fsetxattr, &[Fd, Path, BufIn(3), UInt, Int]),
    k("getxattr", SYS_getxattr, &[Path, Path, BufOut(3), UInt]),
    k("lgetxattr", SYS_lgetxattr, &[Path, Path, BufOut(3), UInt]),
    k("fgetxattr", SYS_fgetxattr, &[Fd, Path, BufOut(3), UInt]),
    k("listxattr", SYS_listxattr, &[Path, BufOut(2), UInt]),
    k("llistxattr", SYS_llistxattr, &[Path, BufOut(2), UInt]),
    k("flistxattr", SYS_flistxattr, &[Fd, BufOut(2), UInt]),
    k("removexattr", SYS_removexattr, &[Path, Path]),
    k("lremovexattr", SYS_lremovexattr, &[Path, Path]),
    k("fremovexattr", SYS_fremovexattr, &[Fd, Path]),
    e("tkill", SYS_tkill, &[Int, Int], emu::kill::tkill),
    k("time", SYS_time, &[Out(8)]),
    e("futex", SYS_futex, &[Raw, Int, Int, Raw, Raw, Int], emu::ctl::futex),
    k("sched_setaffinity", SYS_sched_setaffinity, &[Int, UInt, BufIn(1)]),
    k("sched_getaffinity", SYS_sched_getaffinity, &[Int, UInt, BufOut(1)]),
    no("set_thread_area", SYS_set_thread_area, HostInternals),
    no("io_setup", SYS_io_setup, Unconverted),
    no("io_destroy", SYS_io_destroy, Unconverted),
    no("io_getevents", SYS_io_getevents, Unconverted),
    no("io_submit", SYS_io_submit, Unconverted),
    no("io_cancel", SYS_io_cancel, Unconverted),
    no("get_thread_area", SYS_get_thread_area, HostInternals),
    no("lookup_dcookie", SYS_lookup_dcookie, SystemAdmin),
    k("epoll_create", SYS_epoll_create, &[Int]),
    no("epoll_ctl_old", SYS_epoll_ctl_old, Unconverted),
    no("epoll_wait_old", SYS_epoll_wait_old, Unconverted),
    no("remap_file_pages", SYS_remap_file_pages, HostInternals),
    k("getdents64", SYS_getdents64, &[Fd, BufOut(2), UInt]),
    e("set_tid_address", SYS_set_tid_address, &[Raw], emu::process::set_tid_address),
    no("restart_syscall", SYS_restart_syscall, HostInternals),
    no("semtimedop", SYS_semtimedop, Unconverted),
    k("fadvise", SYS_fadvise64, &[Fd, Int, Int, Int]),
    no("timer_create", SYS_timer_create, Unconverted),
    k("timer_settime", SYS_timer_settime, &[Int, Int, In(32), Out(32)]),
    k("timer_gettime", SYS_timer_gettime, &[Int, Out(32)]),
    k("timer_getoverrun", SYS_timer_getoverrun, &[Int]),
    k("timer_delete", SYS_timer_delete, &[Int]),
    no("clock_settime", SYS_clock_settime, SystemAdmin),
    e("clock_gettime", SYS_clock_gettime, &[Int, Out(16)], emu::process::clock_gettime),
    k("clock_getres", SYS_clock_getres, &[Int, Out(16)]),
    k("clock_nanosleep", SYS_clock_nanosleep, &[Int, Int, In(16), Out(16)]),
    e("exit_group", SYS_exit_group, &[Int], emu::process::exit_group),
    k("epoll_wait", SYS_epoll_wait, &[Fd, Array(2, 12), Int, Int]),
    k("epoll_ctl", SYS_epoll_ctl, &[Fd, Int, Fd, In(12)]),
    e("tgkill", SYS_tgkill, &[Int, Int, Int], emu::kill::to_process),
    k("utimes", SYS_utimes, &[Path, In(32)]),
    no("vserver", SYS_vserver, SystemAdmin),
    no("mbind", SYS_mbind, HostInternals),
    no("set_mempolicy", SYS_set_mempolicy, HostInternals),
    no("get_mempolicy", SYS_get_mempolicy, HostInternals),
    no("mq_open", SYS_mq_open, Unconverted),
    no("mq_unlink", SYS_mq_unlink, Unconverted),
    no("mq_timedsend", SYS_mq_timedsend, Unconverted),
    no("mq_timedreceive", SYS_mq_timedreceive, Unconverted),
    no("mq_notify", SYS_mq_notify, Unconverted),
    no("mq_getsetattr", SYS_mq_getsetattr, Unconverted),
    no("kexec_load", SYS_kexec_load, SystemAdmin),
    k("waitid", SYS_waitid, &[Int, Int, Out(128), Int, Out(144)]),
    no("add_key", SYS_add_key, SystemAdmin),
    no("request_key", SYS_request_key, SystemAdmin),
    no("keyctl", SYS_keyctl, SystemAdmin),
    k("ioprio_set", SYS_ioprio_set, &[Int, Int, Int]),
    k("ioprio_get", SYS_ioprio_get, &[Int, Int]),
    k("inotify_init", SYS_inotify_init, &[]),
    k("inotify_add_watch", SYS_inotify_add_watch, &[Fd, Path, UInt]),
    k("inotify_rm_watch", SYS_inotify_rm_watch, &[Fd, Int]),
    no("migrate_pages", SYS_migrate_pages, HostInternals),
    k("openat", SYS_openat, &[Fd, Path, Int, UInt]),
    k("mkdirat", SYS_mkdirat, &[Fd, Path, UInt]),
    k("mknodat", SYS_mknodat, &[Fd, Path, UInt, UInt]),
    k("fchownat", SYS_fchownat, &[Fd, Path, UInt, UInt, Int]),
    k("futimesat", SYS_futimesat, &[Fd, Path, In(32)]),
    k("newfstatat", SYS_newfstatat, &[Fd, Path, Out(144), Int]),
    k("unlinkat", SYS_unlinkat, &[Fd, Path, Int]),
    k("renameat", SYS_renameat, &[Fd, Path, Fd, Path]),
    k("linkat", SYS_linkat, &[Fd, Path, Fd, Path, Int]),
    k("symlinkat", SYS_symlinkat, &[Path, Fd, Path]),
    k("readlinkat", SYS_readlinkat, &[Fd, Path, BufOut(3), UInt]),
    k("fchmodat", SYS_fchmodat, &[Fd, Path, UInt, Int]),
    k("faccessat", SYS_faccessat, &[Fd, Path, Int, Int]),
    e("pselect6", SYS_pselect6, &[Int, FdSet, FdSet, FdSet, InOut(16), Raw], emu::iov::pselect6),
    k("ppoll", SYS_ppoll, &[Array(1, 8), Int, InOut(16), BufIn(4), UInt]),
    no("unshare", SYS_unshare, HostInternals),
    no("set_robust_list", SYS_set_robust_list, HostInternals),
    no("get_robust_list", SYS_get_robust_list, HostInternals),
    k("splice", SYS_splice, &[Fd, InOut(8), Fd, InOut(8), UInt, UInt]),
    k("tee", SYS_tee, &[Fd, Fd, UInt, UInt]),
    k("sync_file_range", SYS_sync_file_range, &[Fd, Int, Int, UInt]),
    no("vmsplice", SYS_vmsplice, Unconverted),
    no("move_pages", SYS_move_pages, HostInternals),
    k("utimensat", SYS_utimensat, &[Fd, Path, In(32), Int]),
    k("epoll_pwait", SYS_epoll_pwait, &[Fd, Array(2, 12), Int, Int, BufIn(5), UInt]),
    k("signalfd", SYS_signalfd, &[Fd, BufIn(2), UInt]),
    k("timerfd_create", SYS_timerfd_create, &[Int, Int]),
    k("eventfd", SYS_eventfd, &[UInt]),
    k("fallocate", SYS_fallocate, &[Fd, Int, Int, Int]),
    k("timerfd_settime", SYS_timerfd_settime, &[Fd, Int, In(32), Out(32)]),
    k("timerfd_gettime", SYS_timerfd_gettime, &[Fd, Out(32)]),
    k("accept4", SYS_accept4, &[Fd, AddrOut(2), Len, Int]),
    k("signalfd4", SYS_signalfd4, &[Fd, BufIn(2), UInt, Int]),
    k("eventfd2", SYS_eventfd2, &[UInt, Int]),
    k("epoll_create1", SYS_epoll_create1, &[Int]),
    k("dup3", SYS_dup3, &[Fd, Fd, Int]),
    k("pipe2", SYS_pipe2, &[Out(8), Int]),
    k("inotify_init1", SYS_inotify_init1, &[Int]),
    e("preadv", SYS_preadv, &[Fd, Raw, Int, Int], emu::iov::preadv),
    e("pwritev", SYS_pwritev, &[Fd, Raw, Int, Int], emu::iov::pwritev),
    e("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, &[Int, Int, Int, In(128)], emu::kill::to_process),
    no("perf_event_open", SYS_perf_event_open, SystemAdmin),
    no("recvmmsg", SYS_recvmmsg, Unconverted),
    no("fanotify_init", SYS_fanotify_init, SystemAdmin),
    no("fanotify_mark", SYS_fanotify_mark, SystemAdmin),
    e("prlimit64", SYS_prlimit64, &[Int, Int, In(16), Out(16)], emu::rlimit::prlimit64),
    no("name_to_handle_at", SYS_name_to_handle_at, SystemAdmin),
    no("open_by_handle_at", SYS_open_by_handle_at, SystemAdmin),
    no("clock_adjtime", SYS_clock_adjtime, SystemAdmin),
    k("syncfs", SYS_syncfs, &[Fd]),
    no("sendmmsg", SYS_sendmmsg, Unconverted),
    no("setns", SYS_setns, HostInternals),
    k("getcpu", SYS_getcpu, &[Out(4), Out(4)]),
    no("process_vm_readv", SYS_process_vm_readv, CrossProcess),
    no("process_vm_writev", SYS_process_vm_writev, CrossProcess),
    no("kcmp", SYS_kcmp, CrossProcess),
    no("finit_module", SYS_finit_module, SystemAdmin),
    no("sched_setattr", SYS_sched_setattr, Unconverted),
    no("sched_getattr", SYS_sched_getattr, Unconverted),
    k("renameat2", SYS_renameat2, &[Fd, Path, Fd, Path, UInt]),
    no("seccomp", SYS_seccomp, HostInternals),
    k("getrandom", SYS_getrandom, &[BufOut(1), UInt, UInt]),
    k("memfd_create", SYS_memfd_create, &[Path, UInt]),
    no("kexec_file_load", SYS_kexec_file_load, SystemAdmin),
    no("bpf", SYS_bpf, SystemAdmin),
    no("execveat", SYS_execveat, Process),
    no("userfaultfd", SYS_userfaultfd, HostInternals),
    k("membarrier", SYS_membarrier, &[Int, UInt, Int]),
    k("mlock2", SYS_mlock2, &[BufIn(1), UInt, Int]),
    k("copy_file_range", SYS_copy_file_range, &[Fd, InOut(8), Fd, InOut(8), UInt, UInt]),
    no("preadv2", SYS_preadv2, Unconverted),
    no("pwritev2", SYS_pwritev2, Unconverted),
    no("pkey_mprotect", SYS_pkey_mprotect, HostInternals),
    no("pkey_alloc", SYS_pkey_alloc, HostInternals),
    no("pkey_free", SYS_pkey_free, HostInternals),
    k("statx", SYS_statx, &[Fd, Path, Int, UInt, Out(256)]),
    no("io_pgetevents", 333, Unconverted),
    no("rseq", SYS_rseq, HostInternals),
    k("pidfd_send_signal", SYS_pidfd_send_signal, &[Fd, Int, In(128), UInt]),
    no("io_uring_setup", SYS_io_uring_setup, HostInternals),
    no("io_uring_enter", SYS_io_uring_enter, HostInternals),
    no("io_uring_register", SYS_io_uring_register, HostInternals),
    no("open_tree", SYS_open_tree, SystemAdmin),
    no("move_mount", SYS_move_mount, SystemAdmin),
    no("fsopen", SYS_fsopen, SystemAdmin),
    no("fsconfig", SYS_fsconfig, SystemAdmin),
    no("fsmount", SYS_fsmount, SystemAdmin),
    no("fspick", SYS_fspick, SystemAdmin),
    e("pidfd_open", SYS_pidfd_open, &[Int, UInt], emu::kill::to_process),
    no("clone3", SYS_clone3, Process),
    no("close_range", SYS_close_range, HostInternals),
    k("openat2", SYS_openat2, &[Fd, Path, CopyIn(3), UInt]),
    no("pidfd_getfd", SYS_pidfd_getfd, CrossProcess),
    k("faccessat2", SYS_faccessat2, &[Fd, Path, Int, Int]),
    no("process_madvise", SYS_process_madvise, CrossProcess),
    k("epoll_pwait2", SYS_epoll_pwait2, &[Fd, Array(2, 12), Int, In(16), BufIn(5), UInt]),
    no("mount_setattr", SYS_mount_setattr, SystemAdmin),
    no("quotactl_fd", SYS_quotactl_fd, SystemAdmin),
    no("landlock_create_ruleset", SYS_landlock_create_ruleset, HostInternals),
    no("landlock_add_rule", SYS_landlock_add_rule, HostInternals),
    no("landlock_restrict_self", SYS_landlock_restrict_self, HostInternals),
    no("memfd_secret", SYS_memfd_secret, HostInternals),
    no("process_mrelease", SYS_process_mrelease, CrossProcess),
    no("futex_waitv", SYS_futex_waitv, Unconverted),
    no("set_mempolicy_home_node", SYS_set_mempolicy_home_node, HostInternals),
];

/// The WALI specification's syscall list (name, number, signature, status).
pub const SPEC_TSV: &str = include_str!("../spec/syscalls.tsv");

/// Whether the WALI specification gives `name` an argument list (its
/// "implemented" set of 140).
pub fn in_spec(name: &str) -> bool {
    SPEC_TSV.lines().any(|l| {
        let mut c = l.split('\t');
        c.next() == Some(&format!("SYS_{name}")) && c.nth(3) == Some("implemented")
    })
}

/// The row for musl syscall name `name` (without `SYS_`). Linking and the
/// backstop derivation ask for hundreds of names: they are indexed once, at
/// every start, with a fast hash (a fixed set of short keys has no flooding
/// to resist, and SipHash's cost showed at start-up).
pub fn lookup(name: &str) -> Option<&'static Syscall> {
    static BY_NAME: std::sync::OnceLock<rustc_hash::FxHashMap<&str, &Syscall>> = std::sync::OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut rows = rustc_hash::FxHashMap::with_capacity_and_hasher(SYSCALLS.len(), Default::default());
        for s in SYSCALLS {
            // A name's first row, as a scan in number order finds it.
            rows.entry(s.name).or_insert(s);
        }
        rows
    });
    by_name.get(name).copied()
}

/// Index of a row in [`SYSCALLS`], the key of per-syscall tables; `None`
/// for rows made up for names the table does not know.
pub fn position(sys: &Syscall) -> Option<usize> {
    let rows = SYSCALLS.as_ptr_range();
    let p: *const Syscall = sys;
    rows.contains(&p).then(|| (p as usize - rows.start as usize) / std::mem::size_of::<Syscall>())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = SPEC_TSV;

    /// (name, x86_64 number, parameter count or None, implemented in spec)
    fn spec_rows() -> impl Iterator<Item = (&'static str, i64, Option<usize>, bool)> {
        SPEC.lines().skip(1).filter_map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            let name = c[0].strip_prefix("SYS_")?;
            let params = c[2]
                .strip_prefix('(')
                .and_then(|s| s.split_once(")->"))
                .map(|(p, _)| if p.is_empty() { 0 } else { p.split(',').count() });
            Some((name, c[1].parse().unwrap(), params, c[4] == "implemented"))
        })
    }

    #[test]
    fn every_spec_syscall_has_a_row_with_its_number() {
        let mut n = 0;
        for (name, nr, _, _) in spec_rows() {
            let row = lookup(name).unwrap_or_else(|| panic!("{name} missing from the table"));
            assert_eq!(row.nr, nr, "{name}");
            n += 1;
        }
        assert_eq!(n, 362);
        assert_eq!(SYSCALLS.len(), 362);
    }

    #[test]
    fn implemented_rows_match_the_spec_arity() {
        // The spec lists these with signatures; the host answers them
        // ENOSYS on purpose (see Why).
        let deliberate = ["rt_sigreturn"];
        for (name, _, params, implemented) in spec_rows() {
            let row = lookup(name).unwrap();
            match row.imp {
                Nosys(_) => assert!(!implemented || deliberate.contains(&name), "{name} is implemented in the spec"),
                _ => {
                    if let Some(p) = params {
                        assert_eq!(row.args.len(), p, "{name} arity");
                    }
                }
            }
        }
    }

    #[test]
    fn argument_references_point_at_scalars() {
        for row in SYSCALLS {
            for a in row.args {
                let r = match *a {
                    CopyIn(i) | BufIn(i) | BufOut(i) | AddrIn(i) | Array(i, _) => i,
                    _ => continue,
                };
                assert!(matches!(row.args[r as usize], Int | UInt), "{}: {a:?} refers to a non-scalar", row.name);
            }
        }
    }
}
