//! Waits for stdin with poll_oneoff (beside a long timeout), then echoes
//! it, then polls again at end of input.

use std::io::Read;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> i32;
}

fn poll_stdin(what: &str) {
    // Subscription 1: fd_read on stdin; 2: a 30s monotonic clock.
    let mut subs = [0u64; 12];
    subs[0] = 100;
    subs[1] = 1; // tag fd_read
    subs[2] = 0; // fd 0
    subs[6] = 200;
    subs[7] = 0; // tag clock
    subs[8] = 1; // monotonic
    subs[9] = 30_000_000_000;
    let mut events = [0u64; 8];
    let mut n = 0;
    let r = unsafe { poll_oneoff(subs.as_ptr().cast(), events.as_mut_ptr().cast(), 2, &mut n) };
    println!("{what}: poll = {r}, {n} events");
    for e in events.chunks(4).take(n as usize) {
        println!(
            "  userdata {} error {} type {} nbytes {} flags {}",
            e[0],
            e[1] as u16,
            (e[1] >> 16) as u8,
            e[2],
            e[3] as u16
        );
    }
}

fn main() {
    poll_stdin("before reading");
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).unwrap();
    println!("stdin: {:?}", String::from_utf8_lossy(&input));
    poll_stdin("at end of input");
}
