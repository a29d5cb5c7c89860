//! Guest signal handlers: installed in the WALI layout, run by the host
//! after the host call during which their signal arrived, or at an epoch
//! check of running code; SA_RESTART; signals from other processes.

mod common;
use common::*;
use std::process::Child;

#[test]
fn handlers_run_for_kill_and_timers_with_resethand() {
    let r = run("signals", &[]);
    assert_eq!(
        r.stdout,
        "sigaction SIGUSR1 = 0\nSIGUSR1 handled 3 times, last signal 10\nsigaction SIGALRM = 0\nsetitimer = 0\n\
         pause = -EINTR\nSIGALRM handled 1 times\nSIGALRM handler after one delivery = 0\n"
    );
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn a_timer_interrupts_computation_without_host_calls() {
    let r = run("signals", &["compute"]);
    assert_eq!(r.stdout, "sigaction SIGALRM = 0\nsetitimer = 0\ncomputation interrupted by the handler = true\n");
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

#[test]
fn sa_restart_restarts_an_interrupted_read() {
    // The handler writes the byte the read waits for: restarted, the read
    // returns it; not restarted, it fails with EINTR (as natively).
    let r = run("signals", &["restart"]);
    assert_eq!(r.stdout, "read with SA_RESTART = 1\nread without SA_RESTART = -EINTR\nhandler ran 2 times\n");
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

fn kill(child: &Child, sig: i32) {
    // SAFETY: signals our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn signals_from_another_process_reach_the_handler() {
    let (mut child, mut out) = spawn("signals", &["ack", "3"]);
    assert_eq!(read_line(&mut out), "ready\n");
    for i in 1..=3 {
        kill(&child, libc::SIGUSR1);
        assert_eq!(read_line(&mut out), format!("sigsuspend = -EINTR, handled {i}\n"));
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(read_line(&mut out), "");
}

#[test]
fn a_signal_storm_does_not_crash_the_host() {
    let (mut child, mut out) = spawn("signals", &["storm"]);
    assert_eq!(read_line(&mut out), "ready\n");
    for _ in 0..5000 {
        kill(&child, libc::SIGUSR1);
    }
    kill(&child, libc::SIGUSR2);
    assert_eq!(read_line(&mut out), "storm over, SIGUSR1 handled = true, state true\n");
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!((status.code(), err.as_str()), (Some(0), ""));
}
