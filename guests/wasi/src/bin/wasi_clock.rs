//! Clocks, randomness and the other small calls. argv[1] is the host's
//! Unix time in seconds when the test started. Prints only what must be
//! the same on every run and host: booleans and errnos.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
    fn clock_res_get(id: u32, out: *mut u64) -> i32;
    fn random_get(buf: *mut u8, len: u32) -> i32;
    fn proc_raise(sig: u32) -> i32;
}

fn time(id: u32) -> (i32, u64) {
    let mut t = 0;
    (unsafe { clock_time_get(id, 1, &mut t) }, t)
}

fn res(id: u32) -> (i32, u64) {
    let mut t = 0;
    (unsafe { clock_res_get(id, &mut t) }, t)
}

fn random(len: usize) -> (i32, Vec<u8>) {
    let mut b = vec![0u8; len];
    (unsafe { random_get(b.as_mut_ptr(), len as u32) }, b)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("misaligned") => {
            let mut words = [0u64; 2];
            let p = (words.as_mut_ptr() as *mut u8).wrapping_add(4) as *mut u64;
            println!("clock_time_get misaligned = {}", unsafe { clock_time_get(1, 1, p) });
            return;
        }
        Some("oob") => {
            println!("random_get oob = {}", unsafe { random_get(0xffff_fff0 as *mut u8, 64) });
            return;
        }
        // A single call with an argument from argv[2] (invalid ones trap).
        Some(call @ ("res-id" | "time-id" | "raise")) => {
            let n: u32 = args[2].parse().unwrap();
            let r = match call {
                "res-id" => res(n).0,
                "time-id" => time(n).0,
                _ => unsafe { proc_raise(n) },
            };
            println!("{call} {n} = {r}");
            return;
        }
        _ => {}
    }
    let host_now: u64 = args[1].parse().unwrap();
    for id in [0, 1] {
        let (r, ns) = res(id);
        println!("clock_res_get({id}) = {r}, in (0, 1ms]: {}", ns > 0 && ns <= 1_000_000);
    }
    for id in [2, 3] {
        println!("clock_res_get({id}) = {}", res(id).0);
        println!("clock_time_get({id}) = {}", time(id).0);
    }
    let (r, real) = time(0);
    println!(
        "clock_time_get(realtime) = {r}, within 60s of the host's: {}",
        real / 1_000_000_000 >= host_now && real / 1_000_000_000 < host_now + 60
    );
    let (r1, a) = time(1);
    let (r2, b) = time(1);
    println!("clock_time_get(monotonic) = {r1} {r2}, non-decreasing: {}", b >= a);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (_, c) = time(1);
    println!("monotonic advanced by >= 20ms across a 20ms sleep: {}", c - b >= 20_000_000);
    let (_, real2) = time(0);
    println!("realtime advanced across the sleep: {}", real2 > real);

    let (r, empty) = random(0);
    println!("random_get(0) = {r}, {} bytes", empty.len());
    let (r1, x) = random(32);
    let (r2, y) = random(32);
    println!("random_get(32) = {r1} {r2}, nonzero: {}, different: {}", x.iter().any(|&b| b != 0), x != y);
    let (r, big) = random(1 << 20);
    let zeros = big.iter().filter(|&&b| b == 0).count();
    // About 4096 of 1 MiB are zero; far fewer or more is not random.
    println!("random_get(1 MiB) = {r}, zero bytes plausible: {}", (2048..8192).contains(&zeros));

    std::thread::yield_now();
    println!("sched_yield returned");
    for sig in [0, 9, 30] {
        println!("proc_raise({sig}) = {}", unsafe { proc_raise(sig) });
    }
}
