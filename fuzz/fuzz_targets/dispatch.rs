#![no_main]
#![allow(dead_code)]

#[path = "../targets/decode.rs"]
mod decode;
#[path = "../harness.rs"]
mod harness;
#[path = "../targets/dispatch.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::check(data));
