//! Fuzz targets of the WALI host (see fuzz/README.md), each for a bounded
//! time after replaying its corpus under `fuzz/corpus/<target>/`:
//! `decode` (syscall arguments against guest memory), `convert` (the
//! emulations' iovec and string-array conversions), `dispatch` (sequences
//! of harmless guest syscalls through the whole host path) and `rewrite`
//! (the module rewrite before compilation).

#[path = "../../fuzz/targets/decode.rs"]
mod decode;
#[path = "../../fuzz/harness.rs"]
mod harness;

#[test]
fn fuzz_decode() {
    // A guest range as at run time, so the descriptor rule is exercised.
    wali_core::fdspace::set_limit(1024);
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "decode", &[], decode::check, decode::generate);
}

#[test]
fn fuzz_convert() {
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "convert", &[], decode::check_convert, decode::generate);
}

#[path = "../../fuzz/targets/dispatch.rs"]
mod dispatch;
#[path = "../../fuzz/targets/rewrite.rs"]
mod rewrite;

#[test]
fn fuzz_dispatch() {
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "dispatch", &[], dispatch::check, dispatch::generate);
}

#[test]
fn fuzz_rewrite() {
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "rewrite", &[], rewrite::check, rewrite::generate);
}
