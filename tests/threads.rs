//! Guest threads: one instance per thread over the shared memory, futexes
//! on linear memory, clear-tid words, and the ways a threaded process ends.

mod common;
use common::*;

#[test]
fn futex_mutex_counter_and_clear_tid() {
    let r = run("threads", &["counter"]);
    assert_eq!(
        r.stdout,
        "spawned 4 threads\ncounter = 80000\nspawn returned each thread's gettid = true\n\
         tids distinct from pid = true\n"
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn exit_group_from_a_thread_ends_the_process() {
    let r = run("threads", &["exit-group"]);
    assert_eq!(r.stdout, "spawn = true\n");
    assert_eq!((r.status, r.stderr.as_str()), (42, ""));
}

#[test]
fn the_last_thread_to_exit_gives_the_status() {
    let r = run("threads", &["last-thread"]);
    assert_eq!(r.stdout, "spawn = true\nmain leaving\nworker done\n");
    assert_eq!((r.status, r.stderr.as_str()), (7, ""));
}

#[test]
fn a_trap_in_a_thread_ends_the_process() {
    let r = run("threads", &["trap"]);
    assert_eq!(r.stdout, "spawn = true\n");
    assert_eq!(r.status, wali_core::EXIT_TRAP);
    assert!(
        r.stderr.starts_with("waligate: guest trapped: wasm trap: wasm `unreachable` instruction executed\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("threads::trap"), "backtrace names the thread's function: {}", r.stderr);
}
