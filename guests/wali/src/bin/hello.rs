//! The bundled example: greets, then echoes its arguments and environment.
#![no_std]
#![no_main]

use wali_guest::{args, entry, env, println};

fn main() -> i32 {
    println!("hello from a WALI guest");
    for (i, a) in args().iter().enumerate() {
        println!("argv[{i}] = {a}");
    }
    for e in env() {
        println!("env {e}");
    }
    0
}

entry!(main);
