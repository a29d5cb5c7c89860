//! Fuzz target `policy`: a policy file's text through loading, the decision
//! table, and both kernel layers derived from it.
//!
//! Properties: loading never panics; a rejected file gets at least one
//! problem, each naming a JSON path and a line and column inside the text;
//! an accepted one decides random requests without panicking, a syscall it
//! calls unconditionally allowed is allowed whatever its arguments, decisions
//! survive packing, its merged form (`policy show`) loads again, and its
//! seccomp plan lets through every call the engine lets through.

use crate::harness::{Rng, fnv, mutate_bytes};
use policy::constants::{CONSTANTS, ERRNOS};
use policy::engine::{Decision, Request};
use policy::seccomp::{self, Action, Plan, Reaches, When};
use policy::syscalls::{self, GROUPS};
use policy::{Context, Problem, load_str};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

const FILE: &str = "fuzz.json";

fn ctx() -> Context {
    Context {
        cwd: PathBuf::from("/nonexistent-fuzz-cwd"),
        extra_grants: vec![(PathBuf::from("/nonexistent-fuzz-extra"), policy::access::READ)],
    }
}

/// How the host carries out each guest syscall (by index), made up from
/// the name: directly with some arguments passed unchanged, or through
/// nothing, or through a host syscall of the same name.
pub fn synthetic_reaches(sys: usize) -> Reaches {
    let name = syscalls::names().get(sys).unwrap_or(&"getpid");
    let h = fnv(name.as_bytes());
    match h % 8 {
        0 => Reaches::Host(&[]),
        1 => Reaches::Host(std::slice::from_ref(name)),
        _ => Reaches::Direct { scalar: (h >> 8) as u8 & 0x3f },
    }
}

pub fn check(data: &[u8]) {
    check_with(data, &synthetic_reaches);
}

/// The whole property, with `reaches` telling how guest syscalls reach the
/// kernel (the CLI's tests pass the real one).
pub fn check_with(data: &[u8], reaches: &dyn Fn(usize) -> Reaches) {
    let src = String::from_utf8_lossy(data);
    match load_str(FILE, &src, &ctx()) {
        Err(problems) => {
            assert!(!problems.is_empty(), "rejected without a problem");
            for p in &problems {
                located(&src, p);
            }
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                located(&src, w);
            }
            exercise(&loaded.policy, data, reaches);
            // What `policy show` prints loads again.
            let shown = serde_json::to_string_pretty(&loaded.policy.source).expect("the merged policy serializes");
            if let Err(problems) = load_str("shown.json", &shown, &ctx()) {
                panic!("the merged policy does not load again: {problems:?}\n{shown}");
            }
        }
    }
}

/// A problem must name a JSON path and a line and column inside `src`.
fn located(src: &str, p: &Problem) {
    let text = format!("{p}");
    assert_eq!(p.file, FILE, "{text}");
    assert!(!p.path.is_empty() && !p.message.is_empty(), "empty path or message: {text}");
    let lines: Vec<&str> = src.split('\n').collect();
    assert!(
        p.line >= 1 && p.line <= lines.len(),
        "line {} outside the {} lines of the input: {text}",
        p.line,
        lines.len()
    );
    let width = lines[p.line - 1].chars().count();
    // Columns count characters; one past the end points at the line's end.
    assert!(
        p.column >= 1 && p.column <= width + 1,
        "column {} outside line {} ({width} characters): {text}",
        p.column,
        p.line
    );
}

const PATHS: &[&[u8]] = &[
    b"/tmp/fuzz-file\0",
    b"/etc/passwd\0",
    b"../../../etc/shadow\0",
    b"relative/name\0",
    b"/proc/self/root/etc/hostname\0",
    b"/proc/self/cwd/x\0",
    b"/dev/null\0",
    b"\0",
    b"",
    b"/nonexistent-fuzz-cwd/a/../../b\0",
    b"/tmp/../tmp/./x/\0",
    b"//\0",
];

fn sockaddr(rng: &mut Rng) -> Vec<u8> {
    let mut b = match rng.below(6) {
        0 => [2u8, 0, 0x1f, 0x90, 127, 0, 0, 1].to_vec(),
        1 => {
            let mut v = vec![10u8, 0, 0, 80, 0, 0, 0, 0];
            v.extend_from_slice(&[0; 15]);
            v.push(1);
            v
        }
        2 => {
            let mut v = vec![1u8, 0];
            const UNIX: &[&[u8]] = &[b"/tmp/fuzz.sock\0", b"\0abstract", b"", b"/etc/x"];
            let path = *rng.pick(UNIX);
            v.extend_from_slice(path);
            v
        }
        3 => vec![rng.u64() as u8],
        _ => {
            let n = rng.below(40);
            rng.bytes(n)
        }
    };
    b.resize(b.len() + rng.below(3) * 8, 0);
    b
}

/// A random request for `policy`, with copies for some arguments.
fn request<'a>(rng: &mut Rng, store: &'a mut Vec<Vec<u8>>) -> Request<'a> {
    let n = syscalls::names().len();
    let sys = match rng.below(32) {
        0 => n + rng.below(3),
        1 => usize::MAX,
        _ => rng.below(n),
    };
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = match rng.below(6) {
            0 => (-100i64) as u64,
            1 => rng.pick(CONSTANTS).1,
            2 => rng.below(8) as u64,
            _ => rng.edgy(),
        };
    }
    store.clear();
    for _ in 0..6 {
        store.push(match rng.below(5) {
            0 => rng.pick(PATHS).to_vec(),
            1 => sockaddr(rng),
            2 => {
                let n = rng.below(32);
                rng.bytes(n)
            }
            _ => Vec::new(),
        });
    }
    let present: Vec<bool> = (0..6).map(|_| rng.one_in(2)).collect();
    let copied = std::array::from_fn(|i| present[i].then(|| &store[i][..]));
    Request { sys, args, copied, wasm_target: rng.one_in(8) }
}

fn holds(c: &seccomp::Cond, args: &[u64; 6]) -> bool {
    let a = args[c.index as usize];
    match c.op {
        policy::model::Op::Eq => a == c.value,
        policy::model::Op::Ne => a != c.value,
        policy::model::Op::Lt => a < c.value,
        policy::model::Op::Le => a <= c.value,
        policy::model::Op::Gt => a > c.value,
        policy::model::Op::Ge => a >= c.value,
        policy::model::Op::MaskedEq => a & c.mask == c.value,
    }
}

/// Whether the filter lets host syscall `name` through with `args` (`None`:
/// whatever the arguments).
fn plan_allows(plan: &Plan, name: &str, args: Option<&[u64; 6]>) -> bool {
    let when = plan.get(name);
    let lets = |a: Action| matches!(a, Action::Allow | Action::Log);
    let matched_always = when == Some(&When::Always);
    let matched_never = when.is_none();
    match args {
        Some(args) => {
            let matched = match when {
                Some(When::Always) => true,
                Some(When::Under(alts)) => alts.iter().any(|alt| alt.iter().all(|c| holds(c, args))),
                None => false,
            };
            lets(if matched { plan.matched } else { plan.mismatch })
        }
        None if matched_always => lets(plan.matched),
        None if matched_never => lets(plan.mismatch),
        None => lets(plan.matched) && lets(plan.mismatch),
    }
}

fn exercise(p: &policy::Policy, data: &[u8], reaches: &dyn Fn(usize) -> Reaches) {
    let mut rng = Rng::new(fnv(data));
    let plan = seccomp::derive(p, reaches, true);
    if let Some(plan) = &plan {
        let _ = plan.json();
        // Building the BPF program may fail (a filter too large), but with
        // an error, not a panic; when it builds, the search tree decides as
        // seccompiler's linear chain.
        if let (Ok(tree), Ok(linear)) = (plan.bpf(), plan.linear_bpf()) {
            const ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
            for _ in 0..32 {
                let nr = rng.below(480) as u32;
                let args: [u64; 6] = std::array::from_fn(|_| *rng.pick(&[0, 1, 2, 3, 0o101, 1 << 32, u64::MAX]));
                let (t, l) = (
                    policy::seccomp_tree::run(&tree, ARCH, nr, args),
                    policy::seccomp_tree::run(&linear, ARCH, nr, args),
                );
                assert_eq!(t, l, "tree and linear filters differ on syscall {nr} {args:x?}");
            }
        }
    }
    let _ = seccomp::may_execve(p, true);
    if let Some(rules) = policy::landlock::derive(p, &[], None) {
        let _ = policy::landlock::describe(&rules);
        for r in &rules {
            let _ = policy::landlock::rights(r.perms);
        }
    }
    let _ = p.confines_paths();
    let names = syscalls::names();
    let mut store = Vec::new();
    for _ in 0..48 {
        let req = request(&mut rng, &mut store);
        let paths = p.resolve(&req);
        // Deciding twice would spend a rate budget twice: one of the two.
        let d = if rng.one_in(2) { p.decide(&req) } else { p.decide_resolved(&req, &paths) };
        assert_eq!(Decision::unpack(d.pack()), d, "decision does not survive packing");
        let _ = (p.by_name(d.by), d.enforced(), p.observes(req.sys), p.denied_path(&req, d.by));
        if p.allows_unconditionally(req.sys) {
            assert_eq!(
                d.effect,
                policy::Effect::Allow,
                "{} is allowed unconditionally, but decided {d:?} for args {:x?} copies {:?}",
                names[req.sys],
                req.args,
                req.copied
            );
        }
        p.observe(&req, *rng.pick(&[0, 3, 7, 1000, -1, -9, i32::MAX as i64 + 1]), &paths);
        // The kernel layer never refuses what the engine lets through.
        if let (Some(plan), Some(name)) = (&plan, names.get(req.sys))
            && !d.enforced().denies()
        {
            match reaches(req.sys) {
                Reaches::Direct { .. } => assert!(
                    plan_allows(plan, name, Some(&req.args)),
                    "the engine allows {name} {:x?} ({d:?}), the seccomp plan does not: {plan:?}",
                    req.args
                ),
                Reaches::Host(calls) => {
                    for call in calls {
                        assert!(
                            plan_allows(plan, call, None),
                            "the engine allows {name} ({d:?}), the seccomp plan refuses its host call {call}"
                        );
                    }
                }
            }
        }
    }
}

// ---- generation ----

fn vocabulary(rng: &mut Rng) -> String {
    let names = syscalls::names();
    match rng.below(16) {
        0..=3 => rng.pick(names).to_string(),
        4 => format!("@{}", rng.pick(GROUPS).0),
        5 => rng.pick(ERRNOS).0.to_string(),
        6 => rng.pick(CONSTANTS).0.to_string(),
        7 => format!("{}|{}", rng.pick(CONSTANTS).0, rng.pick(CONSTANTS).0),
        8 => rng.pick(&["allow", "errno", "kill", "log", "audit", "enforce", "deny", ""]).to_string(),
        9 => rng
            .pick(&["$CWD", "$CWD/sub", "/tmp", "/", "relative", "/proc/self", "$CWDx", "/dev/null", "//a//b/"])
            .to_string(),
        10 => rng
            .pick(&[
                "127.0.0.1:80",
                "*:*",
                "[::1]:*",
                "10.0.0.0/8:443",
                "0.0.0.0/0:1",
                "::/0:*",
                "[::ffff:1.2.3.4]/129:1",
                "1.2.3.4/33:1",
                "unix:/tmp/s",
                "unix:",
                "host",
                ":",
                "[]:",
                "1.2.3.4:99999",
            ])
            .to_string(),
        11 => rng.pick(&["read", "write", "create", "exec", "read-write", "READ"]).to_string(),
        12 => rng.pick(&["default", "strict", "unrestricted", "none"]).to_string(),
        13 => {
            // Unicode, escapes and control characters.
            rng.pick(&["é", "\u{0}", "\u{202e}rtl", "🦀🦀", "a\"b", "\\", "\u{feff}", "\t\n"]).to_string()
        }
        14 => format!("0x{:x}|{}", rng.u64(), rng.edgy() as i64),
        _ => {
            let n = rng.below(12);
            (0..n).map(|_| (b'a' + rng.below(26) as u8) as char).collect()
        }
    }
}

fn number(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!(rng.edgy()),
        1 => json!(rng.edgy() as i64),
        2 => json!(rng.below(8)),
        3 => json!(rng.u64() as f64 / 3.0),
        4 => json!(-1),
        _ => json!(1),
    }
}

/// A value of any type, nested up to `depth`.
fn any_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.one_in(2)),
        2 => number(rng),
        3 | 4 => json!(vocabulary(rng)),
        5 => Value::Array((0..rng.below(4)).map(|_| any_value(rng, depth - 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(4) {
                m.insert(key(rng), any_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

const KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "extends",
    "default",
    "mode",
    "fs",
    "net",
    "rules",
    "remove_rules",
    "audit",
    "host",
    "id",
    "comment",
    "syscalls",
    "args",
    "action",
    "errno",
    "rate",
    "max",
    "index",
    "op",
    "value",
    "mask",
    "path",
    "access",
    "connect",
    "bind",
    "events",
    "seccomp",
    "seccomp_action",
    "landlock",
];

fn key(rng: &mut Rng) -> String {
    if rng.one_in(8) { vocabulary(rng) } else { rng.pick(KEYS).to_string() }
}

fn arg_condition(rng: &mut Rng) -> Value {
    let op = *rng.pick(&["eq", "ne", "lt", "le", "gt", "ge", "masked_eq"]);
    let value = |rng: &mut Rng| match rng.below(4) {
        0 => json!(rng.edgy() as i64),
        1 => json!(rng.pick(CONSTANTS).0),
        2 => json!(format!("{}|{}", rng.pick(CONSTANTS).0, rng.pick(CONSTANTS).0)),
        _ => json!(vocabulary(rng)),
    };
    let index = if rng.one_in(32) { 6 } else { rng.below(6) };
    let mut c = json!({ "index": index, "op": op, "value": value(rng) });
    if op == "masked_eq" || rng.one_in(32) {
        c["mask"] = value(rng);
    }
    c
}

fn rule(rng: &mut Rng, i: usize) -> Value {
    let names = syscalls::names();
    let syscalls: Vec<String> = (0..rng.range(1, 4))
        .map(|_| if rng.one_in(4) { format!("@{}", rng.pick(GROUPS).0) } else { rng.pick(names).to_string() })
        .collect();
    let action = *rng.pick(&["allow", "allow", "errno", "kill", "log"]);
    let mut r = json!({ "id": format!("r{i}"), "syscalls": syscalls, "action": action });
    if action == "errno" {
        r["errno"] = json!(rng.pick(ERRNOS).0);
    }
    if rng.one_in(2) {
        r["args"] = Value::Array((0..rng.range(1, 3)).map(|_| arg_condition(rng)).collect());
    }
    if rng.one_in(6) {
        r["mode"] = json!(rng.pick(&["audit", "enforce"]));
    }
    if rng.one_in(8) {
        r["rate"] = json!({ "max": rng.below(4) });
    }
    r
}

/// A policy that is structurally valid (and often semantically too).
fn valid(rng: &mut Rng) -> Value {
    let mut p = json!({ "version": 1 });
    if rng.one_in(3) {
        p["extends"] = json!(rng.pick(policy::profiles::NAMES));
        if rng.one_in(3) {
            p["remove_rules"] = json!([rng.pick(&["no-admin", "no-raw-sockets", "runtime", "files", "everything"])]);
        }
    }
    if rng.one_in(2) {
        let action = *rng.pick(&["allow", "errno", "kill", "log"]);
        p["default"] = if action == "errno" {
            json!({ "action": action, "errno": rng.pick(ERRNOS).0 })
        } else {
            json!({ "action": action })
        };
    }
    if rng.one_in(3) {
        p["mode"] = json!(rng.pick(&["audit", "enforce"]));
    }
    if rng.one_in(2) {
        let grants: Vec<Value> = (0..rng.below(4))
            .map(|_| {
                let path = *rng.pick(&["$CWD", "/tmp", "/", "/dev/null", "/etc", "$CWD/sub", "/nonexistent"]);
                let access =
                    if rng.one_in(2) { json!(rng.pick(&["read", "read-write"])) } else { json!(["read", "exec"]) };
                json!({ "path": path, "access": access })
            })
            .collect();
        p["fs"] = Value::Array(grants);
    }
    if rng.one_in(2) {
        let grants: Vec<Value> = (0..rng.below(3))
            .map(|_| {
                let mut g = Map::new();
                let both = rng.below(3);
                let ep = |rng: &mut Rng| {
                    json!(rng.pick(&["127.0.0.0/8:*", "[::1]:*", "*:53", "unix:/tmp/s", "0.0.0.0/0:80"]))
                };
                if both != 1 {
                    g.insert("connect".into(), ep(rng));
                }
                if both != 0 {
                    g.insert("bind".into(), ep(rng));
                }
                Value::Object(g)
            })
            .collect();
        p["net"] = Value::Array(grants);
    }
    p["rules"] = Value::Array((0..rng.below(6)).map(|i| rule(rng, i)).collect());
    if rng.one_in(4) {
        p["audit"] = json!({ "events": rng.pick(&["all", "decisions"]) });
    }
    if rng.one_in(4) {
        p["host"] = json!({ "seccomp": rng.one_in(2), "seccomp_action": rng.pick(&["errno", "kill"]), "landlock": rng.one_in(2) });
    }
    p
}

/// Every value of a document, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            m.iter().for_each(|(k, v)| pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// Structure-aware mutations: remove, replace or add values anywhere.
fn mutate_json(rng: &mut Rng, doc: &mut Value) {
    for _ in 0..rng.range(1, 4) {
        let mut all = Vec::new();
        pointers(doc, String::new(), &mut all);
        let at = rng.pick(&all).clone();
        let (parent, last) = match at.rsplit_once('/') {
            Some((p, l)) => (p.to_string(), l.replace("~1", "/").replace("~0", "~")),
            None => (String::new(), String::new()),
        };
        match rng.below(7) {
            0 => {
                // Remove the value.
                match doc.pointer_mut(&parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&last);
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>()
                            && i < a.len()
                        {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            1 => {
                // Duplicate an array element.
                if let Some(Value::Array(a)) = doc.pointer_mut(&parent)
                    && let Ok(i) = last.parse::<usize>()
                    && i < a.len()
                {
                    let v = a[i].clone();
                    a.insert(i, v);
                }
            }
            2 => {
                if let Some(v) = doc.pointer_mut(&at) {
                    *v = any_value(rng, 2);
                }
            }
            3 => {
                if let Some(Value::Object(m)) = doc.pointer_mut(&at) {
                    m.insert(key(rng), any_value(rng, 2));
                } else if let Some(Value::Array(a)) = doc.pointer_mut(&at) {
                    a.push(any_value(rng, 2));
                }
            }
            4 => {
                if let Some(v) = doc.pointer_mut(&at) {
                    *v = match v {
                        Value::String(_) => json!(vocabulary(rng)),
                        Value::Number(_) => number(rng),
                        _ => any_value(rng, 1),
                    };
                }
            }
            5 => {
                // Deep nesting.
                if let Some(v) = doc.pointer_mut(&at) {
                    let mut inner = v.take();
                    for _ in 0..rng.range(1, 200) {
                        inner = if rng.one_in(2) { json!([inner]) } else { json!({ "rules": inner }) };
                    }
                    *v = inner;
                }
            }
            _ => {
                if let Some(Value::Array(a)) = doc.pointer_mut("/rules") {
                    let i = 100 + rng.below(3);
                    a.push(rule(rng, i));
                }
            }
        }
    }
}

/// Text-level damage that keeps most of the document recognisable.
fn mutate_text(rng: &mut Rng, text: &mut Vec<u8>) {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"",
        b"\\",
        b"\\u",
        b"\\ud800",
        b"null",
        b"1e999",
        b"-0",
        b"18446744073709551616",
        b"\n",
        b"\r\n",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3",
        b"/*",
        b"\"version\": 1,",
        b"\"rules\": [",
        b"\"id\":",
    ];
    for _ in 0..rng.range(1, 3) {
        match rng.below(3) {
            0 => {
                let at = rng.below(text.len() + 1);
                let token = rng.pick(TOKENS).to_vec();
                text.splice(at..at, token);
            }
            1 if !text.is_empty() => {
                // Cut at a random point (an unfinished document).
                let at = rng.below(text.len());
                text.truncate(at);
            }
            _ => mutate_bytes(rng, text),
        }
    }
}

pub fn generate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let pretty = rng.one_in(2);
    let render =
        |v: &Value| if pretty { serde_json::to_vec_pretty(v).unwrap() } else { serde_json::to_vec(v).unwrap() };
    let base: Option<Value> =
        if rng.one_in(2) { Some(valid(rng)) } else { serde_json::from_slice(&corpus[rng.below(corpus.len())]).ok() };
    match (rng.below(4), base) {
        (0, Some(v)) => render(&v),
        (1 | 2, Some(mut v)) => {
            mutate_json(rng, &mut v);
            let mut out = render(&v);
            if rng.one_in(4) {
                mutate_text(rng, &mut out);
            }
            out
        }
        (_, Some(v)) => {
            let mut out = render(&v);
            mutate_text(rng, &mut out);
            out
        }
        (_, None) => {
            let mut out = corpus[rng.below(corpus.len())].clone();
            mutate_text(rng, &mut out);
            out
        }
    }
}
