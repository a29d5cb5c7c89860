//! Policy files: exact error messages, and every action, mode and check.

use policy::{By, Context, Effect, Request, load_str, syscalls};
use std::path::PathBuf;

fn ctx() -> Context {
    Context { cwd: PathBuf::from("/nonexistent-cwd"), extra_grants: vec![] }
}

fn errors(src: &str) -> Vec<String> {
    match load_str("p.json", src, &ctx()) {
        Ok(_) => vec![],
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn req(name: &str, args: [u64; 6]) -> Request<'static> {
    Request { sys: syscalls::index(name).unwrap(), args, copied: [None; 6], wasm_target: false }
}

#[test]
fn syntax_errors_name_line_and_column() {
    assert_eq!(errors("{\n  \"version\": 1,\n  ,\n}"), ["p.json:3:3: .: key must be a string"]);
    assert_eq!(
        errors("{\"version\": 1, \"rulez\": []}"),
        [
            "p.json:1:22: rulez: unknown field `rulez`, expected one of `version`, `name`, `description`, `extends`, `default`, `mode`, `fs`, `net`, `rules`, `remove_rules`, `audit`, `host`, `limits`"
        ]
    );
    assert_eq!(
        errors("{\"version\": 1, \"rules\": [{\"id\": \"a\", \"syscalls\": [\"read\"], \"action\": \"deny\"}]}"),
        ["p.json:1:75: rules[0].action: unknown variant `deny`, expected one of `allow`, `errno`, `kill`, `log`"]
    );
    // A second document, or anything else after the first, is refused.
    assert_eq!(errors("{\"version\": 1}\n{\"version\": 1}"), ["p.json:2:1: .: trailing characters"]);
}

#[test]
fn semantic_errors_name_path_line_column_and_suggest() {
    let src = r#"{
  "version": 1,
  "rules": [
    {"id": "io", "syscalls": ["read", "opnat", "@file-reed"], "action": "errno", "errno": "EPREM"},
    {"id": "x", "syscalls": ["write"], "args": [{"index": 7, "op": "eq", "value": "O_WRONLYY"}], "action": "errno"}
  ]
}"#;
    assert_eq!(
        errors(src),
        [
            "p.json:4:39: rules[0].syscalls[1]: unknown syscall \"opnat\" (did you mean openat?)",
            "p.json:4:48: rules[0].syscalls[2]: unknown group \"@file-reed\" (did you mean @file-read?)",
            "p.json:4:91: rules[0].errno: unknown errno \"EPREM\" (did you mean EPERM?)",
            "p.json:5:59: rules[1].args[0].index: argument index 7 is not 0 to 5",
            "p.json:5:83: rules[1].args[0].value: unknown constant \"O_WRONLYY\" (did you mean O_WRONLY?)",
            "p.json:5:108: rules[1].action: action \"errno\" needs an \"errno\" name, such as \"EPERM\"",
        ]
    );
    let src =
        r#"{"version": 1, "rules": [{"id": "io", "syscalls": ["read", "opnat", "@file-reed"], "action": "allow"}]}"#;
    assert_eq!(
        errors(src),
        [
            "p.json:1:60: rules[0].syscalls[1]: unknown syscall \"opnat\" (did you mean openat?)",
            "p.json:1:69: rules[0].syscalls[2]: unknown group \"@file-reed\" (did you mean @file-read?)",
        ]
    );
    assert_eq!(
        errors(r#"{"version": 2}"#),
        ["p.json:1:13: version: unsupported version 2; this waligate reads version 1"]
    );
    assert_eq!(
        errors(r#"{"version": 1, "extends": "defualt"}"#),
        ["p.json:1:27: extends: unknown profile \"defualt\"; built-in profiles: default, strict, unrestricted"]
    );
}

#[test]
fn shadowed_rules_are_reported() {
    let src = r#"{"version": 1, "rules": [
      {"id": "all-io", "syscalls": ["read", "write"], "action": "allow"},
      {"id": "never", "syscalls": ["write"], "action": "errno", "errno": "EPERM"}]}"#;
    let loaded = load_str("p.json", src, &ctx()).ok().unwrap();
    let w: Vec<String> = loaded.warnings.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        w,
        ["p.json:3:7: rules[1]: rule \"never\" never applies: every call it names is decided earlier by all-io"]
    );
}

#[test]
fn actions_modes_arguments_and_rates() {
    let src = r#"{"version": 1, "default": {"action": "errno", "errno": "ENOSYS"}, "rules": [
      {"id": "basic", "syscalls": ["getpid"], "action": "allow"},
      {"id": "no-udp", "syscalls": ["socket"], "args": [{"index": 1, "op": "masked_eq", "mask": 15, "value": "SOCK_DGRAM"}],
       "action": "errno", "errno": "EACCES"},
      {"id": "watch-udp", "syscalls": ["socket"], "action": "log"},
      {"id": "no-exec", "syscalls": ["execve"], "action": "kill"},
      {"id": "tolerated", "syscalls": ["kill"], "action": "errno", "errno": "EPERM", "mode": "audit"},
      {"id": "budget", "syscalls": ["getppid"], "action": "allow", "rate": {"max": 2}},
      {"id": "small-reads", "syscalls": ["read"], "args": [{"index": 2, "op": "le", "value": 4096}], "action": "allow"}
    ]}"#;
    let p = load_str("p.json", src, &ctx()).ok().unwrap().policy;
    let d = |name, args| p.decide(&req(name, args));
    assert!(p.allows_unconditionally(syscalls::index("getpid").unwrap()));
    assert!(!p.allows_unconditionally(syscalls::index("socket").unwrap()));
    assert_eq!(d("getpid", [0; 6]).effect, Effect::Allow);
    let udp = d("socket", [2, 2 | 0o2000000, 0, 0, 0, 0]);
    assert_eq!((udp.effect, p.by_name(udp.by)), (Effect::Deny(13), "no-udp".to_string()));
    let tcp = d("socket", [2, 1, 0, 0, 0, 0]);
    assert_eq!((tcp.effect, p.by_name(tcp.by)), (Effect::Log, "watch-udp".to_string()));
    assert_eq!(d("execve", [0; 6]).effect, Effect::Kill);
    let k = d("kill", [1, 9, 0, 0, 0, 0]);
    assert_eq!((k.effect, k.enforced()), (Effect::Deny(1), Effect::Log));
    assert_eq!(d("getppid", [0; 6]).effect, Effect::Allow);
    assert_eq!(d("getppid", [0; 6]).effect, Effect::Allow);
    let spent = d("getppid", [0; 6]);
    assert_eq!((spent.effect, p.by_name(spent.by)), (Effect::Deny(11), "budget (rate)".to_string()));
    assert_eq!(d("read", [0, 0, 4096, 0, 0, 0]).effect, Effect::Allow);
    let big = d("read", [0, 0, 4097, 0, 0, 0]);
    assert_eq!((big.effect, big.by), (Effect::Deny(38), By::Default));
}
