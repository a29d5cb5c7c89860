//! waligate: runs untrusted WebAssembly (WALI and WASI) behind a syscall
//! gate. This crate is the command line that wires the layers together.

pub mod cli;
pub mod gate;
pub mod syscall_doc;
