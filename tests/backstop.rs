//! The kernel backstop: the seccomp filter and Landlock ruleset derived
//! from the policy are enforced by the kernel, not just by the engine.
//! The test build has hooks (`WALIGATE_TEST_HOOK`) that make the host
//! itself misbehave after installation.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;

fn hooked(hook: &str) -> std::process::Command {
    let mut cmd = waligate();
    cmd.env("WALIGATE_TEST_HOOK", hook);
    cmd
}

#[test]
fn the_kernel_refuses_a_syscall_the_policy_never_allows_even_from_the_host() {
    // Natively (no filter) reboot with bad magic is EINVAL.
    let r = capture(hooked("host-reboot").args(["run", "--no-seccomp"]).arg(guest("hello")));
    assert!(r.stderr.ends_with("test hook: host reboot = -1, errno 22\n"), "{}", r.stderr);
    // Under the default profile's filter: its default errno, EPERM.
    let r = capture(hooked("host-reboot").arg("run").arg(guest("hello")));
    assert_eq!((r.status, r.stderr.as_str()), (0, "test hook: host reboot = -1, errno 1\n"));
    assert!(r.stdout.starts_with("hello from a WALI guest\n"), "allowed calls still work: {}", r.stdout);
}

/// A module that does not import execve cannot start a program, so its
/// backstop leaves execve (and what a fresh waligate needs) to no one,
/// though the default profile allows a guest's execve of a module.
#[test]
fn a_guest_that_cannot_execve_leaves_the_host_no_execve() {
    let hook_line = |r: &Run| r.stderr.lines().find(|l| l.starts_with("test hook:")).map(str::to_owned);
    // Natively (no filter) execve of a path naming nothing is ENOENT.
    let r = capture(hooked("host-execve").args(["run", "--no-seccomp"]).arg(guest("hello")));
    assert_eq!(hook_line(&r).as_deref(), Some("test hook: host execve = -1, errno 2"), "{}", r.stderr);
    // hello imports no execve: the filter refuses it (EPERM).
    let r = capture(hooked("host-execve").arg("run").arg(guest("hello")));
    assert_eq!(hook_line(&r).as_deref(), Some("test hook: host execve = -1, errno 1"), "{}", r.stderr);
    assert!(r.stdout.starts_with("hello from a WALI guest\n"), "{}", r.stdout);
    // The exec guest imports it: the kernel lets it through to the path.
    let r = capture(hooked("host-execve").arg("run").arg(guest("exec")).arg("/nonexistent"));
    assert_eq!(hook_line(&r).as_deref(), Some("test hook: host execve = -1, errno 2"), "{}", r.stderr);
}

#[test]
fn a_kill_action_filter_kills_the_process() {
    let dir = scratch();
    let p = dir.path().join("kill.json");
    std::fs::write(&p, r#"{"version": 1, "extends": "default", "host": {"seccomp_action": "kill"}}"#).unwrap();
    let out = hooked("host-reboot").arg("run").arg("--policy").arg(&p).arg(guest("hello")).output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGSYS));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "killed before the guest ran");
}

#[test]
fn every_thread_runs_under_the_filter() {
    let (mut child, mut out) = spawn("signals", &["ack", "1"]);
    assert_eq!(read_line(&mut out), "ready\n");
    let tasks = std::fs::read_dir(format!("/proc/{}/task", child.id())).unwrap();
    let mut modes = Vec::new();
    for task in tasks {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        modes.push(status.lines().find(|l| l.starts_with("Seccomp:")).unwrap().to_string());
    }
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!modes.is_empty());
    assert!(modes.iter().all(|m| m == "Seccomp:\t2"), "{modes:?}");
}

#[test]
fn landlock_confines_paths_even_without_the_engine_check() {
    // Outside every grant of the default profile (not under /tmp or here).
    let dir = tempfile::Builder::new().prefix("waligate-landlock-").tempdir_in("/var/tmp").unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "secret").unwrap();
    let created = dir.path().join("created");
    let probe = |extra: &[&str]| {
        capture(hooked("no-path-check").arg("run").args(extra).arg(guest("probe")).args([
            "read",
            secret.to_str().unwrap(),
            "write",
            created.to_str().unwrap(),
            "x",
        ]))
    };
    // With the engine's path check off and no Landlock, the escape works:
    // this is what the kernel layer has to stop.
    let (s, c) = (secret.display(), created.display());
    let r = probe(&["--no-landlock"]);
    assert_eq!(r.stdout, format!("read {s} = 6\nwrite {c} = 1\n"), "{}", r.stderr);
    std::fs::remove_file(&created).unwrap();

    let r = probe(&[]);
    assert_eq!(r.stdout, format!("read {s} = -EACCES\nwrite {c} = -EACCES\n"), "{}", r.stderr);
    assert!(!created.exists(), "nothing was created outside the grants");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret");
}

/// A WASI application names files only beneath its preopens (its shim
/// resolves every path there), so Landlock allows nothing else, though the
/// policy grants more: the host itself cannot create a file in /tmp (the
/// default profile's grant) outside the preopen, where a WALI program's
/// backstop lets it.
#[test]
fn a_wasi_applications_landlock_rules_end_at_its_preopens() {
    let preopen = scratch();
    let outside = scratch();
    let hook_line = |r: &Run| r.stderr.lines().find(|l| l.starts_with("test hook:")).map(str::to_owned);
    let wasi = |target: &std::path::Path, extra: &[&str]| {
        capture(
            hooked(&format!("host-create:{}", target.display()))
                .arg("run")
                .args(extra)
                .arg("--dir")
                .arg(format!("{}::/", preopen.path().display()))
                .arg(wasi_guest("wasi_hello")),
        )
    };
    // The hook's line: `test hook: host create = FD, errno E`.
    let created = |r: &Run| {
        let fd =
            hook_line(r).and_then(|l| l.strip_prefix("test hook: host create = ")?.split(',').next()?.parse().ok());
        fd.is_some_and(|fd: i32| fd >= 0)
    };

    let inside = preopen.path().join("inside");
    let r = wasi(&inside, &[]);
    assert!(created(&r) && inside.exists(), "{}", r.stderr);
    assert!(r.stdout.starts_with("hello from WASI\n"), "{}", r.stdout);

    let escaped = outside.path().join("escaped");
    let r = wasi(&escaped, &[]);
    assert_eq!(hook_line(&r).as_deref(), Some("test hook: host create = -1, errno 13"), "{}", r.stderr);
    assert!(!escaped.exists());
    assert!(r.stdout.starts_with("hello from WASI\n"), "{}", r.stdout);

    // Without Landlock the same create works: what the narrowing stops.
    let r = wasi(&escaped, &["--no-landlock"]);
    assert!(created(&r) && escaped.exists(), "{}", r.stderr);
    std::fs::remove_file(&escaped).unwrap();

    // A WALI program sees host paths: /tmp stays granted to it.
    let r = capture(hooked(&format!("host-create:{}", escaped.display())).arg("run").arg(guest("hello")));
    assert!(created(&r) && escaped.exists(), "{}", r.stderr);
}

#[test]
fn policy_seccomp_and_landlock_commands() {
    let dir = scratch();
    let json = dir.path().join("filter.json");
    let r = capture(waligate().args(["policy", "seccomp", "default", "-o"]).arg(&json));
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
    let filter: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let main = &filter["main"];
    assert_eq!((&main["mismatch_action"], &main["filter_action"]), (&serde_json::json!({"errno": 1}), &"allow".into()));
    let names: Vec<&str> = main["filter"].as_array().unwrap().iter().map(|r| r["syscall"].as_str().unwrap()).collect();
    for needed in ["read", "write", "futex", "mmap", "rt_sigreturn", "openat"] {
        assert!(names.contains(&needed), "{needed} is allowed");
    }
    for refused in ["reboot", "ptrace", "mount", "bpf", "init_module", "kexec_load", "keyctl"] {
        assert!(!names.contains(&refused), "{refused} is refused");
    }
    // socket is allowed only for the families the profile names.
    let socket: Vec<_> = main["filter"].as_array().unwrap().iter().filter(|r| r["syscall"] == "socket").collect();
    assert!(socket.iter().all(|r| r["args"][0]["index"] == 0), "{socket:?}");

    let bpf = dir.path().join("filter.bpf");
    let r = capture(waligate().args(["policy", "seccomp", "default", "--bpf", "-o"]).arg(&bpf));
    assert_eq!(r.status, 0);
    let len = std::fs::metadata(&bpf).unwrap().len();
    assert!(len > 0 && len.is_multiple_of(8), "whole sock_filter instructions: {len}");

    let r = capture(waligate().args(["policy", "landlock", "strict"]));
    assert_eq!(r.status, 0);
    assert_eq!(r.stdout, "handled: every file-system right (ABI up to 5) except ioctl on devices\n");
    let r = capture(waligate().args(["policy", "landlock", "unrestricted"]));
    assert_eq!(r.stdout, "unrestricted does not confine paths: no ruleset\n");
}
