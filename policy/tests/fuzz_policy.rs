//! Fuzz target `policy` (see fuzz/README.md): random and mutated policy
//! files through loading, deciding and the kernel-layer derivations, for a
//! bounded time, after replaying `fuzz/corpus/policy/`.

#[path = "../../fuzz/harness.rs"]
mod harness;
#[path = "../../fuzz/targets/policy.rs"]
mod target;

#[test]
fn fuzz_policy() {
    let profiles: Vec<&[u8]> =
        policy::profiles::NAMES.iter().map(|n| policy::profiles::get(n).unwrap().as_bytes()).collect();
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "policy", &profiles, target::check, target::generate);
}
