//! poll_oneoff and proc_raise.
