//! The audit trail: one decoded JSON event per guest syscall, complete
//! however the run ends; --strace; summary; learn round trip; inspect.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// The events of a log, without the backstop events every run starts with.
fn events(path: &Path) -> Vec<Value> {
    all_events(path).into_iter().filter(|e| e["event"] != "backstop").collect()
}

fn all_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn syscalls(events: &[Value]) -> Vec<String> {
    events.iter().filter(|e| e["event"] == "syscall").map(|e| e["syscall"].as_str().unwrap().to_string()).collect()
}

const FOUR_CALLS: &str = r#"(module
  (import "wali" "SYS_write" (func $write (param i32 i32 i32) (result i64)))
  (import "wali" "SYS_getpid" (func $getpid (result i64)))
  (import "wali" "SYS_openat" (func $openat (param i32 i32 i32 i32) (result i64)))
  (import "wali" "SYS_exit_group" (func $exit (param i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (data (i32.const 32) "/etc/shadow\00")
  (func (export "_start")
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 3)))
    (drop (call $getpid))
    (drop (call $openat (i32.const -100) (i32.const 32) (i32.const 0x241) (i32.const 0x1a4)))
    (drop (call $exit (i32.const 3)))))"#;

#[test]
fn every_call_is_one_decoded_event() {
    let dir = scratch();
    let m = dir.path().join("four.wat");
    std::fs::write(&m, FOUR_CALLS).unwrap();
    let log = dir.path().join("audit.jsonl");
    let r = capture(waligate().arg("run").arg("--audit").arg(&log).args(["--audit-level", "all", "--strace"]).arg(&m));
    assert_eq!((r.status, r.stdout.as_str()), (3, "hi\n"));
    let ev = events(&log);
    assert_eq!(syscalls(&ev), ["write", "getpid", "openat", "exit_group"]);
    let open = &ev[2];
    assert_eq!(
        open["args"],
        serde_json::json!({"dirfd": "AT_FDCWD", "pathname": "/etc/shadow", "flags": "O_WRONLY|O_CREAT|O_TRUNC", "mode": "0644"})
    );
    assert_eq!(
        (&open["decision"], &open["rule"], &open["mode"], &open["ret"], &open["errno"], &open["layer"]),
        (&"deny".into(), &"fs".into(), &"enforce".into(), &(-13).into(), &"EACCES".into(), &"wali".into())
    );
    assert_eq!(open["paths"], serde_json::json!([{"path": "/etc/shadow", "need": "write+create"}]));
    assert_eq!(ev[0]["rule"], "programs");
    assert_eq!(ev[1]["ret"].as_i64(), Some(i64::from(ev[1]["pid"].as_u64().unwrap() as u32)));
    // The two backstop events come first.
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e["seq"], i + 2);
        assert_eq!(e["guest"], "four.wat");
    }
    assert_eq!(ev[4]["event"], "exit");
    assert_eq!((&ev[4]["outcome"], &ev[4]["status"]), (&"exited".into(), &3.into()));
    // The strace view shows the same calls.
    let strace: Vec<&str> = r.stderr.lines().filter(|l| !l.starts_with("waligate:")).collect();
    assert_eq!(
        strace,
        [
            "write(1, 0x10, 3) = 3".to_string(),
            format!("getpid() = {}", ev[1]["ret"]),
            "openat(AT_FDCWD, \"/etc/shadow\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -13 EACCES [deny by fs]".to_string(),
            "exit_group(3) = 0".to_string(),
        ]
    );
}

#[test]
fn decisions_level_records_only_what_was_not_plainly_allowed() {
    let dir = scratch();
    let m = dir.path().join("four.wat");
    std::fs::write(&m, FOUR_CALLS).unwrap();
    let log = dir.path().join("audit.jsonl");
    let r = capture(waligate().arg("run").arg("--audit").arg(&log).arg(&m));
    assert_eq!(r.status, 3);
    assert_eq!(syscalls(&events(&log)), ["openat"]);
}

#[test]
fn the_trail_survives_traps_kills_and_signals() {
    let dir = scratch();
    let trap = dir.path().join("trap.wat");
    std::fs::write(
        &trap,
        r#"(module (import "wali" "SYS_getpid" (func $getpid (result i64)))
             (memory (export "memory") 1)
             (func (export "_start") (drop (call $getpid)) (unreachable)))"#,
    )
    .unwrap();
    let log = dir.path().join("trap.jsonl");
    let r = capture(waligate().arg("run").arg("--audit").arg(&log).args(["--audit-level", "all"]).arg(&trap));
    assert_eq!(r.status, 134);
    let ev = events(&log);
    assert_eq!(syscalls(&ev), ["getpid"]);
    assert_eq!((&ev[1]["outcome"], &ev[1]["status"]), (&"trapped".into(), &134.into()));

    // A policy kill is recorded as the kill it was.
    let policy = dir.path().join("p.json");
    std::fs::write(
        &policy,
        r#"{"version": 1, "extends": "default", "rules": [{"id": "k", "syscalls": ["getpid"], "action": "kill"}]}"#,
    )
    .unwrap();
    let log = dir.path().join("kill.jsonl");
    let r = capture(waligate().arg("run").arg("--policy").arg(&policy).arg("--audit").arg(&log).arg(&trap));
    assert_eq!(r.status, 137);
    let ev = events(&log);
    assert_eq!(
        (&ev[0]["syscall"], &ev[0]["decision"], &ev[0]["rule"]),
        (&"getpid".into(), &"kill".into(), &"k".into())
    );
    assert_eq!(ev[1]["outcome"], "killed");

    // SIGTERM to waligate while the guest blocks: what happened is on disk.
    let blocked = dir.path().join("block.wat");
    std::fs::write(
        &blocked,
        r#"(module (import "wali" "SYS_getpid" (func $getpid (result i64)))
             (import "wali" "SYS_pause" (func $pause (result i64)))
             (memory (export "memory") 1)
             (func (export "_start") (drop (call $getpid)) (drop (call $pause))))"#,
    )
    .unwrap();
    let log = dir.path().join("signal.jsonl");
    let mut child =
        waligate().arg("run").arg("--audit").arg(&log).args(["--audit-level", "all"]).arg(&blocked).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&log).map_or(true, |t| !t.contains("getpid")) {
        assert!(std::time::Instant::now() < deadline, "guest never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(syscalls(&events(&log)), ["getpid"]);
}

#[test]
fn summary_counts_calls_errors_and_denials() {
    let dir = scratch();
    let m = dir.path().join("four.wat");
    std::fs::write(&m, FOUR_CALLS).unwrap();
    let log = dir.path().join("audit.jsonl");
    capture(waligate().arg("run").arg("--audit").arg(&log).args(["--audit-level", "all"]).arg(&m));
    let r = capture(waligate().args(["audit", "summary"]).arg(&log));
    assert_eq!(r.status, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "% time     seconds  usecs/call     calls    errors   denials syscall");
    let counts = |name: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.ends_with(&format!(" {name}"))).unwrap();
        l.split_whitespace().skip(3).take(3).map(str::to_string).collect()
    };
    assert_eq!(counts("openat"), ["1", "1", "1"]);
    assert_eq!(counts("write"), ["1", "0", "0"]);
    assert_eq!(counts("total"), ["4", "1", "1"]);
    assert_eq!(lines.len(), 2 + 4 + 2);
}

#[test]
fn learned_policy_reruns_the_guest_with_zero_denials() {
    let work = scratch();
    let data = work.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let log = work.path().join("learn.jsonl");
    let files = |policy: &Path, log: &Path| {
        // A fresh directory each time, at the same place.
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir(&data).unwrap();
        capture(
            waligate()
                .current_dir(work.path())
                .arg("run")
                .arg("--policy")
                .arg(policy)
                .arg("--audit")
                .arg(log)
                .args(["--audit-level", "all"])
                .arg(guest("files"))
                .arg(&data),
        )
    };
    let first = files(Path::new("unrestricted"), &log);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let learned = work.path().join("learned.json");
    let r = capture(waligate().args(["policy", "learn"]).arg(&log).arg("-o").arg(&learned));
    assert_eq!(r.status, 0, "{}", r.stderr);
    let check = capture(waligate().args(["policy", "check"]).arg(&learned));
    assert_eq!(check.stdout, format!("{}: valid\n", learned.display()));

    let relog = work.path().join("relearn.jsonl");
    let second = files(&learned, &relog);
    assert_eq!((second.status, second.stdout.as_str(), second.stderr.as_str()), (0, first.stdout.as_str(), ""));
    let ev = events(&relog);
    let denials: Vec<&Value> = ev.iter().filter(|e| e["decision"] == "deny" || e["decision"] == "kill").collect();
    assert!(denials.is_empty(), "{denials:?}");
    assert_eq!(syscalls(&ev).len(), syscalls(&events(&log)).len());

    // The learned policy is tight: a write elsewhere is refused.
    let r = capture(waligate().arg("run").arg("--policy").arg(&learned).arg(guest("probe")).args([
        "write",
        "/tmp/elsewhere",
        "x",
    ]));
    assert_eq!(r.stdout, "write /tmp/elsewhere = -EACCES\n");
}

#[test]
fn inspect_reports_interface_syscalls_and_a_policy() {
    let dir = scratch();
    let m = dir.path().join("four.wat");
    std::fs::write(&m, FOUR_CALLS).unwrap();
    let r = capture(waligate().arg("inspect").arg(&m));
    assert_eq!(r.status, 0);
    assert!(
        r.stdout.starts_with("interface: WALI\nsyscalls (4): exit_group getpid openat write\nsuggested policy:\n"),
        "{}",
        r.stdout
    );
    let json = r.stdout.split_once("suggested policy:\n").unwrap().1;
    let p = dir.path().join("suggested.json");
    std::fs::write(&p, json).unwrap();
    assert_eq!(capture(waligate().args(["policy", "check"]).arg(&p)).status, 0);
}

/// The kernel backstop stands before any Wasm runs: the WASI shim opens
/// its preopens under it (its first calls come after both layers).
#[test]
fn the_backstop_precedes_the_shims_start_up() {
    let dir = scratch();
    let log = dir.path().join("audit.jsonl");
    let r = capture(
        waligate()
            .args(["run", "--audit"])
            .arg(&log)
            .args(["--audit-level", "all", "--dir"])
            .arg(format!("{}::/", dir.path().display()))
            .arg(wasi_guest("wasi_hello")),
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
    let ev = all_events(&log);
    let first: Vec<(&str, &str)> =
        ev.iter().take(3).map(|e| (e["event"].as_str().unwrap(), e["layer"].as_str().unwrap_or("-"))).collect();
    assert_eq!(first, [("backstop", "landlock"), ("backstop", "seccomp"), ("syscall", "wasi")]);
    let init: Vec<&str> =
        ev.iter().filter(|e| e["wasi"] == "__waligate_init").map(|e| e["syscall"].as_str().unwrap()).collect();
    assert!(init.contains(&"openat"), "the shim opens its preopen: {init:?}");
}

#[test]
fn wasi_calls_are_attributed_in_the_trail() {
    let dir = scratch();
    let m = dir.path().join("wasi.wat");
    std::fs::write(
        &m,
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "\10\00\00\00\03\00\00\00")
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 32)))
    (call $e (i32.const 5))))"#,
    )
    .unwrap();
    let log = dir.path().join("audit.jsonl");
    let r = capture(waligate().arg("run").arg("--audit").arg(&log).args(["--audit-level", "all"]).arg(&m));
    assert_eq!((r.status, r.stdout.as_str(), r.stderr.as_str()), (5, "hi\n", ""));
    let ev = events(&log);
    let calls: Vec<(&str, &str, &str)> = ev
        .iter()
        .filter(|e| e["event"] == "syscall")
        .map(|e| (e["layer"].as_str().unwrap(), e["wasi"].as_str().unwrap_or("-"), e["syscall"].as_str().unwrap()))
        .collect();
    // The shim's own setup comes first, attributed to its init export.
    let app_calls: Vec<_> = calls.iter().skip_while(|(_, w, _)| *w == "__waligate_init").cloned().collect();
    assert_eq!(app_calls, [("wasi", "fd_write", "writev"), ("wasi", "proc_exit", "exit_group")]);
    assert!(calls.iter().all(|(layer, _, _)| *layer == "wasi"));
}

/// `(layer, state)` of each backstop event.
fn backstop(path: &Path) -> Vec<(String, String)> {
    all_events(path)
        .iter()
        .filter(|e| e["event"] == "backstop")
        .map(|e| (e["layer"].as_str().unwrap().to_string(), e["state"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn the_trail_says_which_kernel_layers_guard_the_run() {
    let dir = scratch();
    let log = dir.path().join("audit.jsonl");
    let pair = |l: &str, s: &str| (l.to_string(), s.to_string());
    let r = capture(waligate().arg("run").arg("--audit").arg(&log).arg(guest("hello")));
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
    assert_eq!(backstop(&log), [pair("landlock", "installed"), pair("seccomp", "installed")]);

    // Turning a layer off is said on stderr and in the trail.
    let r = capture(waligate().args(["run", "--no-seccomp", "--no-landlock", "--audit"]).arg(&log).arg(guest("hello")));
    assert_eq!(r.status, 0);
    assert_eq!(
        r.stderr,
        "waligate: warning: Landlock disabled by --no-landlock\nwaligate: warning: seccomp filter disabled by --no-seccomp\n"
    );
    assert_eq!(backstop(&log), [pair("landlock", "disabled"), pair("seccomp", "disabled")]);

    // strict, for a WASI program: both layers too.
    let scratch_dir = scratch();
    let r = capture(
        waligate()
            .args(["run", "--policy", "strict", "--audit"])
            .arg(&log)
            .arg("--dir")
            .arg(format!("{}::/", scratch_dir.path().display()))
            .arg(wasi_guest("wasi_hello")),
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
    assert_eq!(backstop(&log), [pair("landlock", "installed"), pair("seccomp", "installed")]);

    // unrestricted confines no paths and denies nothing.
    let r = capture(waligate().args(["run", "--policy", "unrestricted", "--audit"]).arg(&log).arg(guest("hello")));
    assert_eq!(r.status, 0);
    assert_eq!(backstop(&log), [pair("landlock", "not needed"), pair("seccomp", "not needed")]);
}
