//! The engine-overhead workloads, one source for native, WALI and WASI:
//! pure computation over caller-provided memory, no allocation, no I/O.
#![no_std]

mod kernels;
pub use kernels::*;
