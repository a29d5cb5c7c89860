//! `waligate-compile [--interruptible] <MODULE >COMPILED`: see
//! wali-core/src/compile.rs.

fn main() -> std::process::ExitCode {
    wali_core::compile::main()
}
