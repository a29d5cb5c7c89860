//! Fuzz targets of the CLI crate (see fuzz/README.md), each for a bounded
//! time after replaying its corpus: `loading` (random imports through
//! inspect, the rewrite, compilation and linking) and `policy` again, this
//! time with the kernel backstop's real map of how each syscall reaches
//! the kernel.

#[path = "../fuzz/harness.rs"]
mod harness;
#[path = "../fuzz/targets/loading.rs"]
mod loading;
#[path = "../fuzz/targets/policy.rs"]
#[allow(dead_code)] // `check` with its made-up map is the policy crate's.
mod policy_target;

#[test]
fn fuzz_loading() {
    // The rewrite's modules (real guests, edge cases) are seeds too.
    let root = harness::repo_root(env!("CARGO_MANIFEST_DIR"));
    let modules: Vec<Vec<u8>> =
        harness::corpus(&root, "rewrite").into_iter().map(|(_, b)| b).filter(|b| b.starts_with(b"\0asm")).collect();
    let seeds: Vec<&[u8]> = modules.iter().map(Vec::as_slice).collect();
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "loading", &seeds, loading::check, loading::generate);
}

#[test]
fn fuzz_policy_backstop() {
    let profiles: Vec<&[u8]> =
        policy::profiles::NAMES.iter().map(|n| policy::profiles::get(n).unwrap().as_bytes()).collect();
    let check = |data: &[u8]| policy_target::check_with(data, &waligate::backstop::reaches);
    harness::fuzz(env!("CARGO_MANIFEST_DIR"), "policy", &profiles, check, policy_target::generate);
}
