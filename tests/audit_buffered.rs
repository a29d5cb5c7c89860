//! The audit trail is buffered off the guest's path: whatever ends the
//! run, every event reaches the file once, in each process's own order.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs `guest ARGS` with every call audited; returns (status, events).
fn audited(guest_name: &str, args: &[&str]) -> (i32, Vec<Value>) {
    let dir = scratch();
    let log = dir.path().join("audit.jsonl");
    let r = capture(
        waligate()
            .current_dir(dir.path())
            .arg("run")
            .arg("--audit")
            .arg(&log)
            .args(["--audit-level", "all"])
            .arg(guest(guest_name))
            .args(args),
    );
    (r.status, events(&log))
}

fn last_syscall(ev: &[Value]) -> &str {
    ev.iter().rev().find(|e| e["event"] == "syscall").unwrap()["syscall"].as_str().unwrap()
}

#[test]
fn a_long_trail_is_whole_at_exit() {
    // 5500 + 55000 getpid calls: many batches, and more than the writer
    // may keep pending.
    let (status, ev) = audited("bench", &["getpid", "50000"]);
    assert_eq!(status, 0);
    let seqs: Vec<u64> = ev.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (0..ev.len() as u64).collect::<Vec<_>>());
    assert_eq!(ev.iter().filter(|e| e["syscall"] == "getpid").count(), 55000);
    assert_eq!(ev.last().unwrap()["event"], "exit");
}

#[test]
fn a_thread_ending_the_process_leaves_the_whole_trail() {
    for (mode, status, outcome, last) in [
        ("exit-group", 42, "exited", "exit_group"),
        ("exit-group-busy", 42, "exited", ""),
        ("last-thread", 7, "exited", "exit"),
        ("trap", 134, "trapped", ""),
    ] {
        let (s, ev) = audited("threads", &[mode]);
        assert_eq!(s, status, "{mode}");
        let exit = ev.last().unwrap();
        assert_eq!(
            (&exit["event"], &exit["outcome"], &exit["status"]),
            (&"exit".into(), &outcome.into(), &status.into())
        );
        if !last.is_empty() {
            assert_eq!(last_syscall(&ev), last, "{mode}");
        }
        // Every call the guest made before the end is there, once.
        let mut seqs: Vec<u64> = ev.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..ev.len() as u64).collect::<Vec<_>>(), "{mode}");
    }
}

#[test]
fn a_fork_child_writes_its_own_events_once() {
    let (status, ev) = audited("fork", &["pipe"]);
    assert_eq!(status, 0);
    let parent = ev[0]["pid"].as_u64().unwrap();
    let fork_ret = |pid: u64| {
        ev.iter().find(|e| e["syscall"] == "fork" && e["pid"] == pid).map(|e| e["ret"].as_i64().unwrap()).unwrap()
    };
    let child = fork_ret(parent) as u64;
    assert_ne!(child, parent);
    // The child's events carry its own pid; its fork returned 0.
    assert_eq!(fork_ret(child), 0);
    let getpid = ev.iter().find(|e| e["syscall"] == "getpid" && e["pid"] == child).unwrap();
    assert_eq!(getpid["ret"].as_u64(), Some(child));
    // No event twice: a child's buffer starts empty.
    let mut keys: Vec<(u64, u64)> =
        ev.iter().map(|e| (e["pid"].as_u64().unwrap(), e["seq"].as_u64().unwrap())).collect();
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), n);
    // What the parent did before the fork comes first.
    let first_child = ev.iter().position(|e| e["pid"] == child).unwrap();
    let fork_seq = ev[first_child]["seq"].as_u64().unwrap();
    let before_fork = |e: &Value| e["pid"] == parent && e["seq"].as_u64().unwrap() < fork_seq;
    assert_eq!(ev[..first_child].iter().filter(|e| before_fork(e)).count() as u64, fork_seq);
    // Both processes' exits are recorded.
    let exits: Vec<u64> = ev.iter().filter(|e| e["event"] == "exit").map(|e| e["pid"].as_u64().unwrap()).collect();
    assert_eq!(exits.len(), 2);
    assert!(exits.contains(&parent) && exits.contains(&child));
}

#[test]
fn events_before_execve_are_written_before_the_image_is_replaced() {
    let hello = guest("hello");
    let (status, ev) = audited("fork", &["exec", hello.to_str().unwrap()]);
    assert_eq!(status, 0);
    let parent = ev[0]["pid"].as_u64().unwrap();
    // The child's fork event precedes its execve, which replaced the image.
    assert!(ev.iter().any(|e| e["syscall"] == "fork" && e["ret"] == 0 && e["pid"] != parent), "{ev:#?}");
}
