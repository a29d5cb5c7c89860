//! wasi_snapshot_preview1 implemented over WALI. This module is the WASI
//! application's only way out: it holds no host privileges, and every
//! syscall it makes passes the host's policy like any WALI program's.
//!
//! Memory: the shim's own statics and buffers live in its memory; data in
//! the application's memory is reached through `wali_app.SYS_*` (the same
//! syscalls with application pointers, zero-copy) and the host's bridge
//! functions `copy_in`/`copy_out` for the small structs WASI and Linux lay
//! out differently.

#![no_std]
#![allow(clippy::missing_safety_doc)]

mod abi;
mod api;
mod app;
mod config;
mod errno;
mod fds;
mod resolve;
mod sys;

/// Called by the host once, before the application starts: reads the
/// configuration and opens the preopened directories (through WALI, so the
/// policy sees them). Returns a WASI errno.
#[unsafe(no_mangle)]
pub extern "C" fn __waligate_init() -> i32 {
    match config::init() {
        Ok(()) => 0,
        Err(e) => e as i32,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
