//! Guest signal handlers: installed in the WALI layout, run by the host
//! after the host call during which their signal arrived.

mod common;
use common::*;

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
