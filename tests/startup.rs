//! Startup and exit: argv, environment, exit status, traps, load errors.

mod common;
use common::*;

#[test]
fn hello_prints_args_untouched() {
    let r = run("hello", &["one", "--two", "three four", "--env", "A=1"]);
    let argv0 = guest("hello");
    let expected = format!(
        "hello from a WALI guest\nargv[0] = {}\nargv[1] = one\nargv[2] = --two\nargv[3] = three four\nargv[4] = --env\nargv[5] = A=1\n",
        argv0.display()
    );
    assert_eq!(r.stdout, expected);
    assert_eq!(r.stderr, "");
    assert_eq!(r.status, 0);
}

#[test]
fn env_file_then_env_flags() {
    let dir = scratch();
    let file = dir.path().join("vars");
    std::fs::write(&file, "X=1\n\nY=two words\n").unwrap();
    let r = capture(
        waligate().arg("run").arg(format!("--env-file={}", file.display())).args(["--env", "Z=3"]).arg(guest("hello")),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("env X=1\nenv Y=two words\nenv Z=3\n"), "{}", r.stdout);
}

#[test]
fn no_environment_is_inherited() {
    let r = capture(waligate().env("SECRET", "x").arg("run").arg(guest("hello")));
    assert!(!r.stdout.contains("env "), "{}", r.stdout);
}

#[test]
fn bad_env_entry_is_rejected() {
    let r = capture(waligate().args(["run", "--env", "NOEQUALS"]).arg(guest("hello")));
    assert_eq!(r.status, 125);
    assert_eq!(r.stderr, "waligate: invalid --env \"NOEQUALS\": expected KEY=VALUE\n");
    // A WALI program reads its environment one entry per line.
    let r = capture(waligate().args(["run", "--env", "A=new\nline"]).arg(guest("hello")));
    assert_eq!(r.status, 125);
    assert_eq!(r.stderr, "waligate: invalid environment entry \"A=new\\nline\": expected KEY=VALUE on one line\n");
}

#[test]
fn a_bad_limit_is_refused_before_the_guest_starts() {
    for arg in ["bogus=1", "threads=x", "threads"] {
        let r = capture(waligate().args(["run", "--limit", arg]).arg(guest("hello")));
        assert_eq!(r.status, 125);
        assert_eq!(
            r.stderr,
            format!(
                "waligate: invalid --limit \"{arg}\": expected NAME=VALUE with VALUE a whole number and NAME one of \
                 memory_bytes, wall_time_ms, cpu_time_ms, open_files, threads, processes, file_size_bytes\n"
            )
        );
        assert_eq!(r.stdout, "");
    }
}
