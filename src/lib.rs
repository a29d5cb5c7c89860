//! waligate: runs untrusted WebAssembly (WALI and WASI) behind a syscall
//! gate. This crate is the command line that wires the layers together.

pub mod audit;
pub mod backstop;
pub mod cli;
pub mod decode_args;
pub mod diagnostics;
pub mod gate;
pub mod handover;
pub mod inspect;
pub mod learn;
pub mod run;
pub mod summary;
pub mod syscall_doc;
