#![no_main]
#![allow(dead_code)]

#[path = "../harness.rs"]
mod harness;
#[path = "../targets/decode.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::check(data));
