//! Process identity, time, limits and signal dispositions, compared with
//! what the kernel tells this test process natively; fork, wait4 and
//! execve after fork.

mod common;
use common::*;
use std::ffi::CStr;
use std::process::Stdio;

fn uname_field(f: &[libc::c_char]) -> String {
    // SAFETY: uname fields are NUL-terminated.
    unsafe { CStr::from_ptr(f.as_ptr()) }.to_string_lossy().into_owned()
}

#[test]
fn identity_time_limits_and_signals() {
    let child = waligate()
        .arg("run")
        .arg(guest("process"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();

    // SAFETY: plain libc queries into local structs.
    let (uts, nofile, ids) = unsafe {
        let mut uts: libc::utsname = std::mem::zeroed();
        libc::uname(&mut uts);
        let mut rl: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        (
            uts,
            rl,
            [
                libc::getuid(),
                libc::geteuid(),
                libc::getgid(),
                libc::getegid(),
                libc::getpgid(0) as u32,
                libc::getsid(0) as u32,
            ],
        )
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let realtime: u64 =
        stdout.lines().find_map(|l| l.strip_prefix("realtime seconds ")).expect("realtime line").parse().unwrap();
    assert!(now.abs_diff(realtime) <= 5, "guest time {realtime} vs {now}");

    let expected = format!(
        "pid {pid}\nppid {ppid}\ntid is pid = true\nids {} {} {} {}\npgid {pgid}\nsid {sid}\n\
         uname = 0\nsysname {}\nrelease {}\nmachine {}\nsysinfo = 0 uptime positive true\n\
         getrlimit = 0\nnofile {} {}\nprlimit64 = 0 old matches true\nnofile now 64\ngetrusage = 0\n\
         nanosleep = 0\nclock_nanosleep = 0\nmonotonic advanced >= 4ms true\nclock_getres 0 1\n\
         gettimeofday = 0\nrealtime seconds {realtime}\ngetrandom = 32 nonzero true\n\
         sched_getaffinity positive true\nsched_yield = 0\numask = 22\numask back = 27\n\
         prctl set name = 0\nprctl get name = 0\nname walitest\nprctl seccomp = -EINVAL\n\
         sigaction SIGPIPE ignore = 0 old 0\nold is SIG_IGN true\nwrite to widowed pipe = -EPIPE\n\
         sigaction SIGSEGV = 0\nSIGSEGV reads back 5\nsigaltstack query = 0\naltstack flags 2\n\
         sigaltstack set = 0\naltstack reads back true\nsigaltstack too small = -ENOMEM\n\
         sigprocmask block = 0\nblocked is SIGUSR1 only true\nkill self 0 = 0\nkill self SIGUSR1 = 0\n\
         SIGUSR1 pending true\nwait4 no children = -ECHILD\n",
        ids[0],
        ids[1],
        ids[2],
        ids[3],
        uname_field(&uts.sysname),
        uname_field(&uts.release),
        uname_field(&uts.machine),
        // The guest's descriptor range, below the host's 64 reserved ones
        // and at most fdspace's default, is both its soft and hard limit.
        nofile.rlim_cur.min(nofile.rlim_max - 64).min(4096),
        nofile.rlim_cur.min(nofile.rlim_max - 64).min(4096),
        ppid = std::process::id(),
        pgid = ids[4],
        sid = ids[5],
    );
    assert_eq!(stdout, expected);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn fork_pipe_and_wait4() {
    let r = run("fork", &["pipe"]);
    assert_eq!(
        r.stdout,
        "fork = child pid\nfrom the pipe: child true sees marker 2\nparent still sees marker 1\n\
         wait4 returned the child = true\nchild exited = true, status 3\n"
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn fork_then_execve_of_another_guest() {
    let hello = guest("hello");
    let r = run("fork", &["exec", hello.to_str().unwrap()]);
    assert_eq!(
        r.stdout,
        format!(
            "hello from a WALI guest\nargv[0] = {}\nargv[1] = from-fork\nenv GREETING=forked\n\
             wait4 returned the child = true\nchild exited = true, status 0\n",
            hello.display()
        )
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}
