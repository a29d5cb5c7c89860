//! Arguments and environment as the application sees them, through std
//! and through the raw calls. `wasi_args misaligned` / `wasi_args oob`
//! pass bad pointers, which must trap.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn args_sizes_get(argc: *mut u32, size: *mut u32) -> i32;
    fn args_get(argv: *mut u32, buf: *mut u8) -> i32;
    fn environ_sizes_get(count: *mut u32, size: *mut u32) -> i32;
    fn environ_get(environ: *mut u32, buf: *mut u8) -> i32;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("misaligned") => {
            let mut words = [0u32; 4];
            let p = (words.as_mut_ptr() as *mut u8).wrapping_add(1) as *mut u32;
            println!("args_sizes_get misaligned = {}", unsafe { args_sizes_get(p, words.as_mut_ptr()) });
        }
        Some("oob") => {
            let mut buf = [0u8; 256];
            println!("args_get oob = {}", unsafe { args_get(0xffff_fff0 as *mut u32, buf.as_mut_ptr()) });
        }
        _ => {}
    }
    for (i, a) in args.iter().enumerate() {
        println!("arg {i}: {a:?}");
    }
    for (k, v) in std::env::vars() {
        println!("env {k:?} = {v:?}");
    }
    let (mut argc, mut argsize, mut envc, mut envsize) = (0, 0, 0, 0);
    let r = unsafe { args_sizes_get(&mut argc, &mut argsize) };
    println!("args_sizes_get = {r}: {argc} args, {argsize} bytes");
    let r = unsafe { environ_sizes_get(&mut envc, &mut envsize) };
    println!("environ_sizes_get = {r}: {envc} vars, {envsize} bytes");
    // The raw layout: pointers into one buffer, strings NUL-terminated
    // back to back.
    let mut ptrs = vec![0u32; envc as usize];
    let mut buf = vec![0u8; envsize as usize];
    let r = unsafe { environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) };
    let offsets: Vec<u32> = ptrs.iter().map(|p| p - buf.as_ptr() as u32).collect();
    println!("environ_get = {r}: offsets {offsets:?}, buffer {:?}", String::from_utf8_lossy(&buf));
    let mut ptrs = vec![0u32; argc as usize];
    let mut buf = vec![0u8; argsize as usize];
    let r = unsafe { args_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) };
    let offsets: Vec<u32> = ptrs.iter().map(|p| p - buf.as_ptr() as u32).collect();
    println!("args_get = {r}: offsets {offsets:?}");
}
