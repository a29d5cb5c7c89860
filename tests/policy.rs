//! Policies enforced on guests: grants confine paths against `..`,
//! symlink and /proc escapes (and nothing outside changes), rules deny,
//! kill and audit, and the policy commands report problems precisely.

mod common;
use common::*;
use std::path::Path;

/// `waligate run [FLAGS] probe OPS...` in `cwd`.
fn probe(cwd: &Path, flags: &[&str], ops: &[&str]) -> Run {
    capture(waligate().current_dir(cwd).arg("run").args(flags).arg(guest("probe")).args(ops))
}

fn write_policy(dir: &Path, json: &str) -> String {
    let p = dir.join("policy.json");
    std::fs::write(&p, json).unwrap();
    p.to_str().unwrap().to_string()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn paths_cannot_escape_the_grants() {
    let root = scratch();
    let (inside, outside) = (root.path().join("inside"), root.path().join("outside"));
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "top secret").unwrap();
    std::os::unix::fs::symlink(&outside, inside.join("link")).unwrap();
    std::os::unix::fs::symlink("../outside/secret", inside.join("rel")).unwrap();
    let (i, o) = (inside.to_str().unwrap(), outside.to_str().unwrap());
    let ops: Vec<String> = [
        format!("write {i}/a.txt hello"),
        format!("read {i}/a.txt"),
        format!("write {o}/b.txt x"),
        format!("read {o}/secret"),
        format!("read {i}/../outside/secret"),
        format!("read {i}/link/secret"),
        format!("read {i}/rel"),
        format!("write {i}/link/c.txt x"),
        format!("read /proc/self/root{o}/secret"),
        "read /proc/self/cwd/secret".to_string(),
        format!("rename {i}/a.txt {o}/a.txt"),
        format!("mkdir {o}/d"),
        format!("unlink {o}/secret"),
        format!("symlink {o}/secret {i}/s2"),
        format!("read {i}/s2"),
        "read /etc/hostname".to_string(),
    ]
    .to_vec();
    let ops: Vec<&str> = ops.iter().flat_map(|s| s.split(' ')).collect();
    // strict: files only under --dir grants; the working directory is `outside`.
    let r = probe(&outside, &["--policy", "strict", "--dir", i], &ops);
    let expected = format!(
        "write {i}/a.txt = 5\nread {i}/a.txt = 5\nwrite {o}/b.txt = -EACCES\nread {o}/secret = -EACCES\n\
         read {i}/../outside/secret = -EACCES\nread {i}/link/secret = -EACCES\nread {i}/rel = -EACCES\n\
         write {i}/link/c.txt = -EACCES\nread /proc/self/root{o}/secret = -EACCES\nread /proc/self/cwd/secret = -EACCES\n\
         rename {o}/a.txt = -EACCES\nmkdir {o}/d = -EACCES\nunlink {o}/secret = -EACCES\nsymlink {i}/s2 = 0\n\
         read {i}/s2 = -EACCES\nread /etc/hostname = -EACCES\n"
    );
    assert_eq!(r.stdout, expected);
    assert_eq!(r.status, 0);
    // Nothing outside the grant changed; inside holds exactly what was allowed.
    assert_eq!(listing(&outside), ["secret"]);
    assert_eq!(std::fs::read_to_string(outside.join("secret")).unwrap(), "top secret");
    assert_eq!(listing(&inside), ["a.txt", "link", "rel", "s2"]);
    assert_eq!(std::fs::read_to_string(inside.join("a.txt")).unwrap(), "hello");
}

#[test]
fn a_directory_descriptor_is_judged_where_the_directory_now_is() {
    // With Landlock on, the engine keeps the paths of directory descriptors
    // instead of reading /proc/self/fd each time. After the guest renames
    // the directory, the engine itself (not only Landlock) must still see
    // that `link` inside it leads outside: its explanation says so.
    let root = scratch();
    let (inside, outside) = (root.path().join("inside"), root.path().join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "top secret").unwrap();
    let (i, o) = (inside.to_str().unwrap(), outside.to_str().unwrap());
    for (k, flags) in [&[][..], &["--no-landlock"][..]].into_iter().enumerate() {
        std::fs::create_dir_all(inside.join(format!("d{k}"))).unwrap();
        let ops = format!(
            "opendir {i}/d{k} read-at x rename {i}/d{k} {i}/e{k} symlink {o} {i}/e{k}/link read-at link/secret \
             read-at ../e{k}/x"
        );
        let ops: Vec<&str> = ops.split(' ').collect();
        let r = probe(&outside, &[&["--policy", "strict", "--dir", i], flags].concat(), &ops);
        assert_eq!(
            r.stdout,
            format!(
                "opendir {i}/d{k} = 0\nread-at x = -ENOENT\nrename {i}/e{k} = 0\nsymlink {i}/e{k}/link = 0\n\
                 read-at link/secret = -EACCES\nread-at ../e{k}/x = -ENOENT\n"
            ),
            "{flags:?}: {}",
            r.stderr
        );
        let warning = if flags.is_empty() { "" } else { "waligate: warning: Landlock disabled by --no-landlock\n" };
        assert_eq!(
            r.stderr,
            format!(
                "{warning}waligate: policy \"strict\" denied openat: read access to {o}/secret is outside the fs \
                 grants; --dir {o} would allow it\n"
            ),
            "{flags:?}"
        );
    }
    assert_eq!(listing(&inside), ["e0", "e1"]);
}

#[test]
fn default_profile_grants_the_working_directory_and_explains_denials() {
    let cwd = scratch();
    let r = probe(
        cwd.path(),
        &[],
        &[
            "write",
            "here.txt",
            "hi",
            "read",
            "/etc/hostname",
            "connect",
            "192.0.2.1",
            "9",
            "connect",
            "127.0.0.1",
            "9",
            "sendmsg",
            "192.0.2.1",
            "9",
            "sendmsg",
            "127.0.0.1",
            "9",
            "getpid",
        ],
    );
    assert_eq!(
        r.stdout,
        "write here.txt = 2\nread /etc/hostname = -EACCES\nconnect 192.0.2.1 = -EACCES\nconnect 127.0.0.1 = -ECONNREFUSED\nsendmsg 192.0.2.1 = -EACCES\nsendmsg 127.0.0.1 = 8\ngetpid  = 1\n"
    );
    assert_eq!(
        r.stderr,
        "waligate: policy \"default\" denied open: read access to /etc/hostname is outside the fs grants; \
         --dir /etc would allow it\n\
         waligate: policy \"default\" denied connect: address 192.0.2.1:9 matches no net grant; \
         a policy net grant for 192.0.2.1:9 would allow it\n\
         waligate: policy \"default\" denied sendmsg: address 192.0.2.1:9 matches no net grant; \
         a policy net grant for 192.0.2.1:9 would allow it\n"
    );
    assert_eq!(std::fs::read_to_string(cwd.path().join("here.txt")).unwrap(), "hi");
}

#[test]
fn unix_sockets_follow_the_fs_grants() {
    let root = scratch();
    let (inside, outside) = (root.path().join("inside"), root.path().join("outside"));
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let _a = std::os::unix::net::UnixListener::bind(inside.join("ok.sock")).unwrap();
    let _b = std::os::unix::net::UnixListener::bind(outside.join("host.sock")).unwrap();
    let (i, o) = (format!("{}/ok.sock", inside.display()), format!("{}/host.sock", outside.display()));
    // strict confines files to --dir grants; sockets allowed on top.
    let p = write_policy(
        root.path(),
        r#"{"version": 1, "extends": "strict", "rules": [{"id": "sock", "syscalls": ["socket", "connect"], "action": "allow"}]}"#,
    );
    let r = probe(
        root.path(),
        &["--policy", &p, "--dir", inside.to_str().unwrap()],
        &["unix-connect", &i, "unix-connect", &o],
    );
    assert_eq!(r.stdout, format!("unix-connect {i} = 0\nunix-connect {o} = -EACCES\n"));
}

#[test]
fn descriptors_keep_the_access_they_were_opened_with() {
    let root = scratch();
    let (ro, rw) = (root.path().join("ro"), root.path().join("rw"));
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::create_dir_all(&rw).unwrap();
    std::fs::write(ro.join("f"), "x").unwrap();
    std::fs::write(rw.join("f"), "x").unwrap();
    let p = write_policy(
        root.path(),
        &format!(
            r#"{{"version": 1, "extends": "strict", "fs": [{{"path": "{}", "access": "read"}}, {{"path": "{}", "access": "read-write"}}]}}"#,
            ro.display(),
            rw.display()
        ),
    );
    let (a, b) = (format!("{}/f", ro.display()), format!("{}/f", rw.display()));
    // As root the kernel would let either fchmod through a read-only descriptor.
    let r = probe(root.path(), &["--policy", &p], &["fchmod", &a, "fchmod", &b]);
    assert_eq!(r.stdout, format!("fchmod {a} = -EACCES\nfchmod {b} = 0\n"));
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(std::fs::metadata(ro.join("f")).unwrap().permissions().mode() & 0o777, 0o777);
    assert_eq!(std::fs::metadata(rw.join("f")).unwrap().permissions().mode() & 0o777, 0o777);
}

#[test]
fn errno_rules_with_argument_conditions() {
    let dir = scratch();
    let p = write_policy(
        dir.path(),
        r#"{"version": 1, "extends": "default", "rules": [
            {"id": "read-only-opens", "syscalls": ["open"], "args": [{"index": 1, "op": "masked_eq", "mask": "O_ACCMODE", "value": "O_WRONLY"}],
             "action": "errno", "errno": "EROFS"}]}"#,
    );
    std::fs::write(dir.path().join("f"), "data").unwrap();
    let r = probe(dir.path(), &["--policy", &p], &["write", "f", "new", "read", "f"]);
    assert_eq!(r.stdout, "write f = -EROFS\nread f = 4\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("f")).unwrap(), "data");
}

#[test]
fn kill_action_ends_the_guest_naming_the_rule() {
    let dir = scratch();
    let p = write_policy(
        dir.path(),
        r#"{"version": 1, "extends": "default", "rules": [{"id": "no-pid", "syscalls": ["getpid"], "action": "kill"}]}"#,
    );
    let r = probe(dir.path(), &["--policy", &p], &["write", "before", "x", "getpid", "write", "after", "x"]);
    assert_eq!(r.status, 137);
    assert_eq!(r.stdout, "write before = 1\n");
    assert_eq!(
        r.stderr,
        "waligate: policy \"default\" kills the guest on getpid: rule \"no-pid\" refuses it; \
         a policy that extends \"default\" with \"remove_rules\": [\"no-pid\"] would allow it\n\
         waligate: guest killed: getpid\n"
    );
    assert!(!dir.path().join("after").exists());
}

#[test]
fn a_rate_budget_can_end_the_guest() {
    let dir = scratch();
    let p = write_policy(
        dir.path(),
        r#"{"version": 1, "extends": "default", "rules": [
            {"id": "pid-budget", "syscalls": ["getpid"], "action": "allow", "rate": {"max": 2, "exceeded": "kill"}}]}"#,
    );
    let r = probe(dir.path(), &["--policy", &p], &["getpid", "getpid", "getpid", "write", "after", "x"]);
    assert_eq!((r.status, r.stdout.as_str()), (137, "getpid  = 1\ngetpid  = 1\n"));
    assert!(r.stderr.ends_with("waligate: guest killed: getpid\n"), "{}", r.stderr);
    assert!(!dir.path().join("after").exists());
}

#[test]
fn audit_mode_allows_what_it_would_deny() {
    let dir = scratch();
    let p = write_policy(
        dir.path(),
        r#"{"version": 1, "extends": "default", "rules": [
            {"id": "no-mkdir", "syscalls": ["mkdir"], "action": "errno", "errno": "EPERM", "mode": "audit"}]}"#,
    );
    let r = probe(dir.path(), &["--policy", &p], &["mkdir", "d"]);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("mkdir d = 0\n", ""));
    assert!(dir.path().join("d").is_dir());
}

#[test]
fn policy_check_and_show() {
    let dir = scratch();
    let bad = write_policy(
        dir.path(),
        "{\"version\": 1,\n \"rules\": [{\"id\": \"x\", \"syscalls\": [\"wirte\"], \"action\": \"allow\"},\n  {\"id\": \"y\", \"syscalls\": [\"read\"], \"action\": \"errno\", \"errno\": \"NOPE\"}]}",
    );
    let r = capture(waligate().args(["policy", "check", &bad]));
    assert_eq!(r.status, 1);
    assert_eq!(
        r.stdout,
        format!(
            "error: {bad}:2:37: rules[0].syscalls[0]: unknown syscall \"wirte\" (did you mean write?)\n\
             error: {bad}:3:65: rules[1].errno: unknown errno \"NOPE\"\n"
        )
    );
    let r = capture(waligate().args(["policy", "check", "default"]));
    assert_eq!((r.status, r.stdout.as_str()), (0, "default: valid\n"));

    let r = capture(waligate().args(["policy", "show", "default"]));
    assert_eq!(r.status, 0);
    let shown: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(shown["name"], "default");
    assert_eq!(shown["rules"][0]["id"], "no-admin");

    let r = capture(waligate().args(["run", "--policy", &bad]).arg(guest("probe")));
    assert_eq!(r.status, 125);
    assert!(r.stderr.starts_with("waligate: invalid policy:\n"), "{}", r.stderr);
    let r = capture(waligate().args(["run", "--policy", "no-such-profile"]).arg(guest("probe")));
    assert_eq!(r.status, 125);
    assert!(r.stderr.contains("(built-in profiles: default, strict, unrestricted)"), "{}", r.stderr);
}
