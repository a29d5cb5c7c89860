//! execve: argv[1] is a program to become. A `.wasm` runs in a fresh
//! waligate with the new argv and environment; anything else runs natively.
#![no_std]
#![no_main]

use wali_guest::{Vec, args, cstr, entry, println, ptr, show, sys::SYS_execve};

/// A NULL-terminated array of pointers to `strings`.
fn array(strings: &[Vec<u8>]) -> Vec<i32> {
    strings.iter().map(|s| ptr(s.as_ptr())).chain([0]).collect()
}

fn main() -> i32 {
    let argv = args();
    let target = cstr(&argv[1]);
    let new_argv: Vec<Vec<u8>> = argv[2..].iter().map(|a| cstr(a)).collect();
    let envp = [cstr("A=1"), cstr("B=two words")];
    let (av, ev) = (array(&new_argv), array(&envp));

    let missing = cstr("/nonexistent/program");
    println!("execve missing = {}", show(unsafe { SYS_execve(ptr(missing.as_ptr()), ptr(av.as_ptr()), 0) }));
    println!("execve NULL path = {}", show(unsafe { SYS_execve(0, ptr(av.as_ptr()), 0) }));
    let bad = [ptr(target.as_ptr()), -16];
    println!("execve bad argv entry = {}", show(unsafe { SYS_execve(ptr(target.as_ptr()), ptr(bad.as_ptr()), 0) }));
    println!("execve argv past end = {}", show(unsafe { SYS_execve(ptr(target.as_ptr()), -4, 0) }));
    let r = unsafe { SYS_execve(ptr(target.as_ptr()), ptr(av.as_ptr()), ptr(ev.as_ptr())) };
    println!("execve returned {}", show(r));
    1
}

entry!(main);
