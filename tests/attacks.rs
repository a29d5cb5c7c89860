//! The attack suite (guests/attacks, WALI and WASI): each guest tries to break one of the
//! isolation claims in SECURITY.md, under every built-in profile. Each test
//! asserts the exact outcome and that the host's files and processes are
//! intact afterwards.

mod common;
use common::*;
use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every built-in profile, each widened only by the syscalls an attack
/// needs to reach the engine at all (strict refuses most of them itself).
const PROFILES: &[&str] = &["default", "strict", "unrestricted"];

const PROBING: &str = r#"{"id": "probing", "syscalls": ["getrlimit", "setrlimit", "prlimit64", "getpid", "getppid",
    "kill", "socketpair", "sendmsg", "epoll_create1", "epoll_ctl", "fcntl", "dup", "dup2", "dup3", "lseek", "fstat",
    "ftruncate", "fchmod", "mmap", "open", "openat", "symlinkat", "fork", "write", "read", "pread64", "readv",
    "writev", "rt_sigaction", "sigaltstack", "futex", "execve", "chmod", "rename", "link", "unlink"],
    "action": "allow"}"#;

/// A policy file in `dir` extending `profile` with the probing rule.
fn policy(dir: &Path, profile: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{profile}-probing.json"));
    std::fs::write(&path, format!(r#"{{"version": 1, "extends": "{profile}", "rules": [{PROBING}]}}"#)).unwrap();
    path
}

/// `waligate run --policy P --audit DIR/audit.jsonl --dir GRANT EXTRA...
/// MODULE ARGS...` run in `dir`.
fn attack_with(dir: &Path, profile: &str, grant: &OsStr, extra: &[&str], module: &Path, args: &[&str]) -> Run {
    let p = policy(dir, profile);
    capture(
        waligate()
            .current_dir(dir)
            .args(["run", "--policy"])
            .arg(&p)
            .args(["--audit", "audit.jsonl", "--dir"])
            .arg(grant)
            .args(extra)
            .arg(module)
            .args(args),
    )
}

/// A WALI attack guest run in `dir`, which is granted (so strict lets the
/// guest work there).
fn attack(dir: &Path, profile: &str, extra: &[&str], guest_name: &str, args: &[&str]) -> Run {
    attack_with(dir, profile, dir.as_os_str(), extra, &guest(guest_name), args)
}

/// The audit trail's events; each line must be whole JSON.
fn events(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
}

/// The audit trail is whole JSON lines only, ending with the run's exit.
fn assert_trail_intact(dir: &Path, outcome: &str, status: i32) {
    let events = events(dir);
    let last = events.last().expect("an audit trail");
    assert_eq!((&last["event"], &last["outcome"], &last["status"]), (&"exit".into(), &outcome.into(), &status.into()));
}

/// Live processes whose command line mentions `marker`.
fn processes_mentioning(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.parse::<u32>().ok()?;
            let cmdline = std::fs::read(format!("/proc/{name}/cmdline")).ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{name}/stat")).unwrap_or_default();
            // Zombies are gone already, only not yet reaped by init.
            let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
            (!zombie && String::from_utf8_lossy(&cmdline).contains(marker)).then_some(name)
        })
        .collect()
}

/// Waits (a little) for every process of the run in `dir` to be gone.
fn assert_no_process_left(dir: &Path) {
    let marker = dir.to_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning(marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(processes_mentioning(marker), Vec::<String>::new(), "processes left behind");
}

#[test]
fn host_descriptors_are_out_of_reach() {
    let expected = "nofile soft == hard: true\nread: all -EBADF\nwrite: all -EBADF\nfstat: all -EBADF\n\
                    lseek: all -EBADF\nftruncate: all -EBADF\nfchmod: all -EBADF\nfcntl F_GETFD: all -EBADF\n\
                    fcntl F_SETFL: all -EBADF\nmmap: all -EBADF\ndup: all -EBADF\ndup2 over: all -EBADF\n\
                    dup3 over: all -EBADF\nF_DUPFD into: all -EINVAL\nepoll_ctl add: all -EBADF\n\
                    sendmsg SCM_RIGHTS of stdout = 1\nsendmsg SCM_RIGHTS: all -EBADF\nclose: all -EBADF\n\
                    setrlimit raise = -EPERM\nprlimit64 raise = -EPERM\nsetrlimit lower = 0\nstill writes to stdout\n";
    for profile in PROFILES {
        let dir = scratch();
        let r = attack(dir.path(), profile, &[], "attack_host_fds", &[]);
        assert_eq!((r.status, r.stdout.as_str()), (0, expected), "{profile}: {}", r.stderr);
        assert_trail_intact(dir.path(), "exited", 0);
    }
}

/// What `attack_proc` prints when every attempt is refused.
fn proc_attack_refused() -> String {
    let attempts = [
        "/proc/self/mem rw",
        "/proc/self/mem r",
        "/proc/PID/mem",
        "/proc/PID/task/PID/mem",
        "/proc/self/maps",
        "/proc/self/environ",
        "/proc/self/fd",
        "/proc/self/fd/HOST",
        "/proc/thread-self/fd/HOST",
        "/proc/self/root/proc/self/mem",
        "openat(/proc/self, mem)",
        "openat(/proc/self, fd/HOST)",
        "symlink to /proc/self/mem",
        "audit log by path",
        "policy file by path",
    ];
    let mut expected: String = attempts.iter().map(|a| format!("{a}: -EACCES\n")).collect();
    expected += "chmod policy = -EACCES\nrename audit log = -EACCES\nlink audit log = -EACCES\n\
                 unlink audit log = -EACCES\nsymlink to the audit log: -EACCES\n\
                 chmod through the symlink = -EACCES\nsymlink naming the audit log = -EACCES\n";
    expected
}

#[test]
fn proc_and_links_into_it_reach_neither_host_memory_nor_host_files() {
    let expected = proc_attack_refused();
    for profile in PROFILES {
        let dir = scratch();
        let policy_file = format!("{profile}-probing.json");
        std::os::unix::fs::symlink("audit.jsonl", dir.path().join("audit-alias")).unwrap();
        let r = attack(dir.path(), profile, &[], "attack_proc", &["audit.jsonl", &policy_file]);
        assert_eq!((r.status, r.stdout.as_str()), (0, expected.as_str()), "{profile}: {}", r.stderr);
        if *profile == "default" {
            // openat on the failed /proc/self descriptor: no grant to suggest.
            let hint = "denied openat: read access to mem is outside the fs grants; \
                        no grant: the path's directory descriptor is not open\n";
            assert!(r.stderr.contains(hint), "{}", r.stderr);
        }
        assert_trail_intact(dir.path(), "exited", 0);
        let policy_text = std::fs::read_to_string(dir.path().join(&policy_file)).unwrap();
        assert!(policy_text.contains(r#""id": "probing""#), "{profile}: the policy file changed");
    }
}

/// A policy in `dir`, `refusing.json`: everything allowed (no fs grants,
/// so no engine path check and no Landlock) but `calls` and execve (with
/// execve allowed, the filter keeps what a fresh waligate needs).
fn refusing(dir: &Path, calls: &[&str]) -> &'static str {
    let calls: Vec<String> = calls.iter().chain(&["execve"]).map(|c| format!("{c:?}")).collect();
    let text = format!(
        r#"{{"version": 1, "extends": "unrestricted", "mode": "enforce", "rules": [{{"id": "refusing",
            "syscalls": [{}], "action": "errno", "errno": "EPERM"}}]}}"#,
        calls.join(", ")
    );
    std::fs::write(dir.join("refusing.json"), text).unwrap();
    "refusing.json"
}

/// The host's own checks (what an opened descriptor is, what a path
/// names) make stat calls. A policy refusing those calls to the guest must
/// not get the kernel filter to refuse them to the host too: the checks
/// would find nothing and let /proc/self/mem and the audit log through.
#[test]
fn a_policy_refusing_stat_calls_leaves_the_hosts_own_checks_standing() {
    let dir = scratch();
    let policy = refusing(dir.path(), &["newfstatat", "fstat", "fstatfs", "statx"]);
    std::os::unix::fs::symlink("audit.jsonl", dir.path().join("audit-alias")).unwrap();
    let r = capture(
        waligate()
            .current_dir(dir.path())
            .args(["run", "--policy", policy, "--audit", "audit.jsonl"])
            .arg(guest("attack_proc"))
            .args(["audit.jsonl", policy]),
    );
    assert_eq!((r.status, r.stdout.as_str()), (0, proc_attack_refused().as_str()), "{}", r.stderr);
    assert_trail_intact(dir.path(), "exited", 0);
}

/// A descriptor the vetting refuses (here /proc/self/mem) is closed by the
/// host, under a policy refusing `close` to the guest too: none is left
/// for the guest to find at the number the open would have returned.
#[test]
fn a_refused_descriptor_is_closed_whatever_the_policy() {
    let dir = scratch();
    let policy = refusing(dir.path(), &["close"]);
    let m = dir.path().join("leak.wat");
    std::fs::write(
        &m,
        r#"(module
  (import "wali" "SYS_openat" (func $openat (param i32 i32 i32 i32) (result i64)))
  (import "wali" "SYS_fcntl" (func $fcntl (param i32 i32 i32) (result i64)))
  (import "wali" "__proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/proc/self/mem\00")
  (func (export "_start")
    (local $free i32)
    ;; The lowest free descriptor (F_GETFD fails on it): where the open lands.
    (local.set $free (i32.const 3))
    (block $found
      (loop $next
        (br_if $found (i64.lt_s (call $fcntl (local.get $free) (i32.const 1) (i32.const 0)) (i64.const 0)))
        (local.set $free (i32.add (local.get $free) (i32.const 1)))
        (br $next)))
    ;; Refused: exit 100 if it opened.
    (if (i64.ge_s (call $openat (i32.const -100) (i32.const 16) (i32.const 2) (i32.const 0)) (i64.const 0))
      (then (call $exit (i32.const 100))))
    ;; Left open there: exit with its number.
    (if (i64.ge_s (call $fcntl (local.get $free) (i32.const 1) (i32.const 0)) (i64.const 0))
      (then (call $exit (local.get $free))))
    (call $exit (i32.const 0))))"#,
    )
    .unwrap();
    let r = capture(waligate().current_dir(dir.path()).args(["run", "--policy", policy]).arg(&m));
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

/// The wall-time watchdog sleeps between checks: a policy refusing sleeps
/// to the guest leaves the watchdog its own, and the limit holds.
#[test]
fn time_limits_hold_under_a_policy_refusing_sleep() {
    let dir = scratch();
    let policy = refusing(dir.path(), &["clock_nanosleep", "nanosleep"]);
    let mut child = waligate()
        .current_dir(dir.path())
        .args(["run", "--policy", policy, "--limit", "wall_time_ms=300"])
        .arg(guest("attack_bombs"))
        .arg("loop")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A guest the limit does not stop would loop forever: give it 10 s.
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the wall-time limit did not end the guest");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        (status.code(), stderr.as_str()),
        (Some(137), "waligate: guest killed: wall_time_ms limit exceeded (300 ms)\n")
    );
}

#[test]
fn bad_pointers_fault_and_engine_signals_stay_the_engines() {
    let expected = "read to wraparound = -EFAULT\nwrite from last byte = -EFAULT\nwrite length past end = -EFAULT\n\
                    pread into end-8 = -EFAULT\nfstat struct past end = -EFAULT\n\
                    getrlimit struct past end = -EFAULT\nwritev iovec past end = -EFAULT\n\
                    writev iovec array past end = -EFAULT\nreadv huge count = -EINVAL\n\
                    initial altstack sp 0 flags 2\nsigaltstack past end = 0\nsigaction SIGSEGV = 0\n";
    for profile in PROFILES {
        let dir = scratch();
        let r = attack(dir.path(), profile, &[], "attack_pointers", &[]);
        // The out-of-bounds read traps; the guest's SIGSEGV handler never runs.
        assert_eq!((r.status, r.stdout.as_str()), (134, expected), "{profile}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("waligate: guest trapped: wasm trap: out of bounds memory access\n"),
            "{}",
            r.stderr
        );
        assert_trail_intact(dir.path(), "trapped", 134);
    }
}

/// `attack_bombs MODE...` under every profile with `--limit LIMIT=VALUE`
/// must end with status 137, one message naming the limit, a `limit` audit
/// event, and no process of it left. `then` checks what else it left.
fn bomb(mode: &[&str], limit: &str, value: &str, detail: &str, then: impl Fn(&Path)) {
    let message = format!("waligate: guest killed: {limit} limit exceeded ({detail})\n");
    for profile in PROFILES {
        let dir = scratch();
        let setting = format!("{limit}={value}");
        let r = attack(dir.path(), profile, &["--limit", &setting], "attack_bombs", mode);
        assert_eq!(r.status, 137, "{profile}: {}", r.stderr);
        assert!(r.stderr.ends_with(&message), "{profile}: {}", r.stderr);
        let event = events(dir.path()).into_iter().find(|e| e["event"] == "limit").expect("a limit event");
        assert_eq!((&event["limit"], &event["detail"]), (&limit.into(), &detail.into()), "{profile}");
        assert_no_process_left(dir.path());
        then(dir.path());
    }
}

#[test]
fn fork_bombs_end_whole() {
    bomb(&["fork"], "processes", "8", "8 processes", |_| {});
}

#[test]
fn thread_bombs_end() {
    bomb(&["threads"], "threads", "8", "8 threads", |_| {});
}

#[test]
fn memory_bombs_end() {
    bomb(&["memory"], "memory_bytes", "67108864", "67108864 bytes", |_| {});
}

#[test]
fn infinite_loops_end_by_wall_clock_or_cpu_time() {
    bomb(&["loop"], "wall_time_ms", "300", "300 ms", |_| {});
    bomb(&["loop"], "cpu_time_ms", "300", "300 ms", |_| {});
}

#[test]
fn descriptor_exhaustion_ends() {
    bomb(&["fds"], "open_files", "32", "32 descriptors", |_| {});
}

#[test]
fn huge_writes_end_at_the_file_size_limit() {
    bomb(&["write", "big"], "file_size_bytes", "1048576", "1048576 bytes", |dir| {
        assert_eq!(std::fs::metadata(dir.join("big")).unwrap().len(), 1 << 20);
    });
}

#[test]
fn signals_reach_only_the_guests_own_processes() {
    let expected = "kill(-1, SIGKILL) = -EPERM\nkill(-1, 0) = -EPERM\nkill(parent, SIGKILL) = -EPERM\n\
                    kill(-parent group, SIGKILL) = -EPERM\nkill(1, 0) = -EPERM\nkill(self, 0) = 0\n";
    for profile in PROFILES {
        let dir = scratch();
        let r = attack(dir.path(), profile, &[], "attack_bombs", &["kill-all"]);
        assert_eq!((r.status, r.stdout.as_str()), (0, expected), "{profile}: {}", r.stderr);
    }
}

#[test]
fn native_execve_is_the_policys_decision() {
    for (profile, expected) in [
        ("default", "execve /bin/sh = -EACCES\n"),
        ("strict", "execve /bin/sh = -EACCES\n"),
        // unrestricted grants exec: the native program runs, outside the sandbox.
        ("unrestricted", "escaped\n"),
    ] {
        let dir = scratch();
        let r = attack(dir.path(), profile, &[], "attack_bombs", &["exec-native"]);
        assert_eq!((r.status, r.stdout.as_str()), (0, expected), "{profile}: {}", r.stderr);
    }
}

#[test]
fn a_wasi_application_reaches_no_descriptor_or_path_it_was_not_given() {
    let expected = "fd_read on fds 4..4096: all EBADF\nfd_write on fds 4..4096: all EBADF\n\
                    fd_fdstat_get on fds 4..4096: all EBADF\nfd_seek on fds 4..4096: all EBADF\n\
                    fd_renumber stdout over on fds 4..4096: all EBADF\nfd_close on fds 4..4096: all EBADF\n\
                    open ../etc/passwd: EPERM\nopen /etc/passwd: EPERM\nopen a/../../etc/passwd: ENOENT\n\
                    symlink to /etc: EPERM\nopen etc-link/passwd: ENOENT\nstdout still works\n";
    for profile in PROFILES {
        let (dir, preopen) = (scratch(), scratch());
        let grant = format!("{}::/", preopen.path().display());
        let r = attack_with(dir.path(), profile, grant.as_ref(), &[], &wasi_attack_guest("attack_wasi"), &[]);
        assert_eq!((r.status, r.stdout.as_str()), (0, expected), "{profile}: {}", r.stderr);
        assert_trail_intact(dir.path(), "exited", 0);
        assert_eq!(std::fs::read_dir(preopen.path()).unwrap().count(), 0, "{profile}: the preopen changed");
    }
}

/// A guest cannot shed its limits by becoming another module: the
/// execve'd program runs under the same ones (not the profile's 512 threads).
#[test]
fn limits_survive_execve() {
    let dir = scratch();
    let bombs = dir.path().join("bombs.wasm");
    std::fs::copy(guest("attack_bombs"), &bombs).unwrap();
    let r = capture(
        waligate()
            .current_dir(dir.path())
            .args(["run", "--audit", "audit.jsonl", "--limit", "threads=4"])
            .arg(guest("exec"))
            .args([bombs.to_str().unwrap(), "bombs", "threads"]),
    );
    assert_eq!(r.status, 137, "{}", r.stderr);
    assert!(r.stderr.ends_with("waligate: guest killed: threads limit exceeded (4 threads)\n"), "{}", r.stderr);
    assert_trail_intact(dir.path(), "killed", 137);
}
