//! Generated documentation stays in step with the code.

mod common;
use common::*;

#[test]
fn syscall_table_doc_is_current() {
    let r = capture(waligate().arg("syscalls"));
    assert_eq!(r.status, 0);
    let committed = std::fs::read_to_string(root().join("docs/syscalls.md")).unwrap();
    assert!(
        r.stdout == committed,
        "docs/syscalls.md is stale: regenerate it with `cargo run -q -- syscalls > docs/syscalls.md`"
    );
}
