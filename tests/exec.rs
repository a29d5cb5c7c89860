//! execve from a guest: a `.wasm` target runs in a fresh waligate with the
//! new argv and environment; a native target runs natively.

mod common;
use common::*;

const ERRORS: &str = "execve missing = -ENOENT\nexecve NULL path = -EFAULT\n\
                      execve bad argv entry = -EFAULT\nexecve argv past end = -EFAULT\n";

/// `waligate run --policy unrestricted exec ARGS...`: the ABI without policy.
fn run_unrestricted(args: &[&str]) -> Run {
    capture(waligate().args(["run", "--policy", "unrestricted"]).arg(guest("exec")).args(args))
}

#[test]
fn execve_of_a_wasm_module_gets_new_argv_and_environment() {
    let hello = guest("hello");
    let r = run_unrestricted(&[hello.to_str().unwrap(), "renamed", "x", "y z", "--flag"]);
    let expected = format!(
        "{ERRORS}hello from a WALI guest\nargv[0] = renamed\nargv[1] = x\nargv[2] = y z\nargv[3] = --flag\n\
         env A=1\nenv B=two words\n"
    );
    assert_eq!(r.stdout, expected);
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn execve_of_a_native_program_passes_argv_envp_and_status() {
    let r = run_unrestricted(&["/bin/sh", "sh", "-c", "echo native \"$A\" \"$B\"; exit 3"]);
    assert_eq!(r.stdout, format!("{ERRORS}native 1 two words\n"));
    assert_eq!(r.status, 3);
}

#[test]
fn execve_leaves_no_environment_file_behind() {
    let dir = scratch();
    let hello = guest("hello");
    let r = capture(
        waligate()
            .env("TMPDIR", dir.path())
            .args(["run", "--env", "X=1"])
            .arg(guest("exec"))
            .args([hello.to_str().unwrap(), "h"]),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn default_policy_runs_wasm_targets_and_refuses_native_ones() {
    let hello = guest("hello");
    let r = run("exec", &[hello.to_str().unwrap(), "h"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    // The failing calls before the exec name paths outside the grants.
    assert!(r.stdout.starts_with("execve missing = -EACCES\n"), "{}", r.stdout);
    assert!(r.stdout.ends_with("hello from a WALI guest\nargv[0] = h\nenv A=1\nenv B=two words\n"), "{}", r.stdout);

    let r = run("exec", &["/bin/sh", "sh", "-c", "echo escaped"]);
    assert_eq!(r.status, 1);
    let denied = "execve missing = -EACCES\nexecve NULL path = -EFAULT\nexecve bad argv entry = -EACCES\n\
                  execve argv past end = -EACCES\nexecve returned -EACCES\n";
    assert_eq!(r.stdout, denied);
    assert!(r.stdout.ends_with("execve returned -EACCES\n"), "{}", r.stdout);
    assert!(!r.stdout.contains("escaped"));
    // Explained once per syscall and reason, at the first denial.
    assert_eq!(
        r.stderr,
        "waligate: policy \"default\" denied execve: read+exec access to /nonexistent/program \
         is outside the fs grants; a policy fs grant with exec access to /nonexistent would allow it\n"
    );
}

/// A `.wasm` target missing from the cache is compiled by the new
/// waligate, in the kernel backstop (seccomp filter and Landlock ruleset)
/// of the program that called execve: its compiler process starts there.
#[test]
fn a_wasm_target_missing_from_the_cache_is_compiled_within_the_backstop() {
    let dir = scratch();
    let cache = dir.path().join("cache");
    let hello = guest("hello");
    let r = capture(
        waligate().env("WALIGATE_CACHE_DIR", &cache).arg("run").arg(guest("exec")).args([hello.to_str().unwrap(), "h"]),
    );
    assert!(r.stdout.ends_with("hello from a WALI guest\nargv[0] = h\nenv A=1\nenv B=two words\n"), "{}", r.stdout);
    assert_eq!(r.status, 0);
    let denial = "waligate: policy \"default\" denied execve: read+exec access to /nonexistent/program \
                  is outside the fs grants; a policy fs grant with exec access to /nonexistent would allow it\n";
    assert_eq!(r.stderr, denial);
    assert_eq!(compiled_entries(&cache), 2, "exec and hello");
}

/// The new program runs under the policy, grants and audit trail of the
/// one that called execve, not under the default profile.
#[test]
fn execve_hands_policy_grants_and_audit_trail_to_the_new_program() {
    let (cwd, granted) = (scratch(), scratch());
    // The target lies under $CWD, which the default profile lets a guest execute.
    let probe = cwd.path().join("probe.wasm");
    std::fs::copy(guest("probe"), &probe).unwrap();
    let policy = cwd.path().join("no-pid.json");
    std::fs::write(
        &policy,
        r#"{"version": 1, "extends": "default", "rules": [{"id": "no-pid", "syscalls": ["getpid"], "action": "kill"}]}"#,
    )
    .unwrap();
    let (log, out) = (cwd.path().join("audit.jsonl"), granted.path().join("out.txt"));
    let r = capture(
        waligate()
            .current_dir(cwd.path())
            .args(["run", "--policy", "no-pid.json", "--audit", "audit.jsonl", "--dir"])
            .arg(granted.path())
            .arg(guest("exec"))
            .args([probe.to_str().unwrap(), "probe", "write", out.to_str().unwrap(), "handed", "getpid"]),
    );
    // The --dir grant reached the new program, and so did the rule that kills it.
    assert_eq!(
        r.stdout,
        format!(
            "execve missing = -EACCES\nexecve NULL path = -EFAULT\nexecve bad argv entry = -EFAULT\n\
             execve argv past end = -EFAULT\nwrite {} = 6\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "handed");
    assert_eq!(r.status, 137);
    assert!(
        r.stderr.ends_with(
            "waligate: policy \"default\" kills the guest on getpid: rule \"no-pid\" refuses it; a policy that \
             extends \"default\" with \"remove_rules\": [\"no-pid\"] would allow it\nwaligate: guest killed: getpid\n"
        ),
        "{}",
        r.stderr
    );

    // One trail: the first program's events, then the second's, same pid.
    let events: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary: Vec<String> = events
        .iter()
        .map(|e| {
            let what = e.get("syscall").or(e.get("layer")).or(e.get("outcome")).unwrap();
            format!("{} {} {}", e["guest"].as_str().unwrap(), e["event"].as_str().unwrap(), what.as_str().unwrap())
        })
        .collect();
    assert_eq!(
        summary,
        [
            "exec.wasm backstop landlock",
            "exec.wasm backstop seccomp",
            "exec.wasm syscall execve",
            "probe.wasm backstop landlock",
            "probe.wasm backstop seccomp",
            "probe.wasm syscall getpid",
            "probe.wasm exit killed",
        ]
    );
    assert!(events.iter().all(|e| e["pid"] == events[0]["pid"]));
    assert_eq!((&events[5]["decision"], &events[5]["rule"]), (&"kill".into(), &"no-pid".into()));
}

/// `--policy none` stays none: the new program has no gate either, so it
/// reads a file the default profile would refuse.
#[test]
fn execve_under_no_policy_starts_the_new_program_without_one() {
    let probe = guest("probe");
    let hostname = std::fs::read("/etc/hostname").unwrap().len().min(256);
    let r = capture(waligate().args(["run", "--policy", "none"]).arg(guest("exec")).args([
        probe.to_str().unwrap(),
        "probe",
        "read",
        "/etc/hostname",
    ]));
    assert_eq!(r.stdout, format!("{ERRORS}read /etc/hostname = {hostname}\n"));
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}
