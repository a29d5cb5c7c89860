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

#[test]
fn policy_schema_is_current() {
    let r = capture(waligate().args(["policy", "schema"]));
    assert_eq!(r.status, 0);
    let committed = std::fs::read_to_string(root().join("docs/policy.schema.json")).unwrap();
    assert!(
        r.stdout == committed,
        "docs/policy.schema.json is stale: regenerate it with `cargo run -q -- policy schema > docs/policy.schema.json`"
    );
    // Every built-in profile is an instance of the schema's top-level shape.
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(schema["title"], "PolicyFile");
    assert_eq!(schema["required"], serde_json::json!(["version"]));
}
