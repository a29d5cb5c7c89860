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
