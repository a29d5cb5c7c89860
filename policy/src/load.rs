//! Reading a policy file: JSON structure errors and semantic errors both
//! name the JSON path, line and column; rules are compiled into the
//! decision table; `extends` pulls in a built-in profile.

use crate::access;
use crate::constants::{errno, parse_value};
use crate::engine::{CompiledRule, Cond, Effect, FAST_UNKNOWN, Grant, NetGrant, Policy, RuleList};
use crate::model::{Access, Action, AuditEvents, HostSpec, Mode, Op, PolicyFile, Rule, Scalar, Verdict};
use crate::net::Endpoint;
use crate::profiles;
use crate::spans::spans as spans_of;
use crate::syscalls::{self, GROUPS, names, suggest};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicU64};

/// A problem at a place in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {path}: {message}")]
pub struct Problem {
    pub file: String,
    /// JSON path such as `rules[2].syscalls[0]` (`.` for the whole file).
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What the running host adds to every policy.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The working directory, for `$CWD` in grants.
    pub cwd: PathBuf,
    /// Grants from the command line (`--dir`) and the host itself (the
    /// guest's environment file), added to the policy's `fs` list if it
    /// has one.
    pub extra_grants: Vec<(PathBuf, u8)>,
}

/// A loaded policy and the warnings about it (shadowed rules...).
pub struct Loaded {
    pub policy: Policy,
    pub warnings: Vec<Problem>,
}

/// Loads `arg`: a built-in profile name, or a policy file path.
pub fn load(arg: &str, ctx: &Context) -> Result<Loaded, Vec<Problem>> {
    let (name, src) = source(arg)?;
    load_str(&name, &src, ctx)
}

/// The name problems are reported under and the text of `arg`, a built-in
/// profile name or a policy file path.
pub fn source(arg: &str) -> Result<(String, String), Vec<Problem>> {
    if let Some(src) = profiles::get(arg) {
        return Ok((format!("<profile {arg}>"), src.to_string()));
    }
    let src = std::fs::read_to_string(arg).map_err(|e| {
        let hint = if Path::new(arg).exists() {
            String::new()
        } else {
            format!(" (built-in profiles: {})", profiles::NAMES.join(", "))
        };
        vec![problem(arg, ".", (0, 0), format!("cannot read policy: {e}{hint}"))]
    })?;
    Ok((arg.to_string(), src))
}

fn problem(file: &str, path: &str, (line, column): (usize, usize), message: String) -> Problem {
    // serde_path_to_error says "?" for a place it cannot name.
    let path = if path.is_empty() || path == "?" { "." } else { path };
    Problem { file: file.into(), path: path.into(), line, column, message }
}

/// Parses a policy file's text.
pub fn parse(file: &str, src: &str) -> Result<PolicyFile, Vec<Problem>> {
    // Tracking the JSON path slows every parse; only a failed one needs it,
    // so that one is parsed again with it.
    if let Ok(doc) = serde_json::from_str(src) {
        return Ok(doc);
    }
    let de = &mut serde_json::Deserializer::from_str(src);
    let report = |path: &str, e: serde_json::Error| {
        // serde_json appends " at line L column C"; we report those apart.
        let msg = e.to_string();
        let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string();
        vec![problem(file, path, char_position(src, e.line(), e.column()), msg)]
    };
    let doc = serde_path_to_error::deserialize::<_, PolicyFile>(&mut *de)
        .map_err(|e| report(&e.path().to_string(), e.into_inner()))?;
    // Text after the document (what `from_str` refused above).
    de.end().map_err(|e| report(".", e))?;
    Ok(doc)
}

/// serde_json's line and byte column of the last character it read as a
/// 1-based line and character column, as the semantic checks count. Its
/// column 0 (the last character read ended a line, or nothing was read)
/// becomes the end of the previous line, or the start of the text.
fn char_position(src: &str, line: usize, column: usize) -> (usize, usize) {
    let text = |l: usize| src.split('\n').nth(l.wrapping_sub(1)).unwrap_or("");
    match (line, column) {
        (0 | 1, 0) => (1, 1),
        (l, 0) => (l - 1, text(l - 1).chars().count() + 1),
        (l, c) => {
            let t = text(l).as_bytes();
            (l, String::from_utf8_lossy(&t[..c.min(t.len())]).chars().count().max(1))
        }
    }
}

pub fn load_str(file: &str, src: &str, ctx: &Context) -> Result<Loaded, Vec<Problem>> {
    let doc = parse(file, src)?;
    // Positions are only needed to report a problem: most loads have none.
    // A place the file does not spell out (a rule of the extended profile)
    // is reported at its nearest ancestor the file has (`extends`).
    let spans = std::cell::OnceCell::new();
    let at = |path: &str| {
        let spans = spans.get_or_init(|| spans_of(src));
        let mut p = path;
        loop {
            if let Some(&pos) = spans.get(p) {
                return pos;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return spans.get("").copied().unwrap_or((1, 1)),
            }
        }
    };
    let mut problems = Vec::new();
    let mut report = |path: String, message: String| problems.push(problem(file, &path, at(&path), message));

    if doc.version != 1 {
        report("version".into(), format!("unsupported version {}; this waligate reads version 1", doc.version));
    }
    let base = match &doc.extends {
        Some(name) => match profiles::get(name) {
            Some(src) => Some(parse(&format!("<profile {name}>"), src)?),
            None => {
                report(
                    "extends".into(),
                    format!("unknown profile {name:?}; built-in profiles: {}", profiles::NAMES.join(", ")),
                );
                None
            }
        },
        None => None,
    };
    for (i, id) in doc.remove_rules.iter().enumerate() {
        if !base.as_ref().is_some_and(|b| b.rules.iter().any(|r| &r.id == id)) {
            report(format!("remove_rules[{i}]"), format!("no rule {id:?} in the extended profile"));
        }
    }
    // The file's own rules come first, so they win over the profile's.
    let merged = merge(&doc, base.as_ref());

    let mut rules = Vec::new();
    let mut table: Vec<RuleList> = std::iter::repeat_with(RuleList::new).take(names().len()).collect();
    let mut seen_ids: HashMap<&str, usize> = HashMap::new();
    let own = doc.rules.len();
    for (i, rule) in merged.rules.iter().enumerate() {
        let here = |field: &str| {
            if i < own { format!("rules[{i}]{field}") } else { format!("extends.rules[{}]{field}", i - own) }
        };
        if let Some(prev) = seen_ids.insert(&rule.id, i) {
            report(here(".id"), format!("duplicate rule id {:?} (also rules[{prev}])", rule.id));
        }
        let mut conds = Vec::new();
        for (j, c) in rule.args.iter().enumerate() {
            if c.index > 5 {
                report(here(&format!(".args[{j}].index")), format!("argument index {} is not 0 to 5", c.index));
            }
            let value = scalar(&c.value).map_err(|m| report(here(&format!(".args[{j}].value")), m));
            let mask = match (&c.mask, c.op) {
                (Some(m), Op::MaskedEq) => scalar(m).map_err(|e| report(here(&format!(".args[{j}].mask")), e)),
                (None, Op::MaskedEq) => {
                    report(here(&format!(".args[{j}]")), "masked_eq needs a mask".into());
                    Err(())
                }
                (Some(_), _) => {
                    report(here(&format!(".args[{j}].mask")), "mask is only used with masked_eq".into());
                    Err(())
                }
                (None, _) => Ok(u64::MAX),
            };
            if let (Ok(value), Ok(mask)) = (value, mask) {
                conds.push(Cond { index: c.index.min(5) as usize, op: c.op, value, mask });
            }
        }
        let idx = rules.len() as u32;
        for (j, s) in rule.syscalls.iter().enumerate() {
            match expand(s) {
                Ok(members) => {
                    for m in members {
                        let list = &mut table[m];
                        if !list.contains(&idx) {
                            list.push(idx);
                        }
                    }
                }
                Err(m) => report(here(&format!(".syscalls[{j}]")), m),
            }
        }
        let effect = match effect(&rule.action, rule.errno.as_deref()) {
            Ok(e) => e,
            Err(m) => {
                report(here(if rule.errno.is_some() { ".errno" } else { ".action" }), m);
                Effect::Deny(1)
            }
        };
        rules.push(CompiledRule {
            id: rule.id.clone(),
            conds,
            effect,
            mode: rule.mode.or(merged.mode).unwrap_or(Mode::Enforce),
            rate: rule.rate.as_ref().map(|r| {
                let past = match r.exceeded {
                    Some(crate::model::RateExceeded::Kill) => Effect::Kill,
                    _ => Effect::Deny(libc::EAGAIN),
                };
                (r.max, AtomicU64::new(0), past)
            }),
        });
    }
    let default = match &merged.default {
        Some(v) => effect(&v.action, v.errno.as_deref()).unwrap_or_else(|m| {
            report("default".into(), m);
            Effect::Deny(1)
        }),
        None => Effect::Deny(1),
    };
    let fs = merged.fs.as_ref().map(|grants| {
        let mut out: Vec<Grant> = grants
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let perms = perms(&g.access).map_err(|m| report(format!("fs[{i}].access"), m)).ok()?;
                let root = grant_root(&g.path, ctx).map_err(|m| report(format!("fs[{i}].path"), m)).ok()?;
                Some(Grant { root, perms })
            })
            .collect();
        out.extend(ctx.extra_grants.iter().map(|(p, perms)| Grant { root: canonical(p), perms: *perms }));
        out
    });
    let net = merged.net.as_ref().map(|grants| {
        grants
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let mut ep = |e: &Option<String>, f: &str| match e {
                    Some(t) => Endpoint::parse(t).map(Some).map_err(|m| report(format!("net[{i}].{f}"), m)),
                    None => Ok(None),
                };
                let (connect, bind) = (ep(&g.connect, "connect"), ep(&g.bind, "bind"));
                if g.connect.is_none() && g.bind.is_none() {
                    report(format!("net[{i}]"), "a net grant needs connect or bind".into());
                }
                Some(NetGrant { connect: connect.ok()?, bind: bind.ok()? })
            })
            .collect()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let warnings = shadowed(file, &merged.rules, &rules, &table, own, &at);
    let fast = (0..names().len()).map(|_| AtomicU8::new(FAST_UNKNOWN)).collect();
    let policy = Policy {
        name: merged.name.clone().unwrap_or_else(|| file.to_string()),
        mode: merged.mode.unwrap_or(Mode::Enforce),
        default,
        audit_all: merged.audit.as_ref().is_some_and(|a| a.events == AuditEvents::All),
        table,
        fast,
        rules,
        fs,
        net,
        fds: Default::default(),
        source: merged,
    };
    Ok(Loaded { policy, warnings })
}

/// The file's settings over the profile's; rules: the file's, then the
/// profile's minus `remove_rules`; grants: both.
fn union<T: Clone>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> Option<Vec<T>> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.iter().chain(b.iter()).flatten().cloned().collect()),
    }
}

fn merge(doc: &PolicyFile, base: Option<&PolicyFile>) -> PolicyFile {
    let Some(base) = base else { return doc.clone() };
    PolicyFile {
        version: doc.version,
        name: doc.name.clone().or_else(|| base.name.clone()),
        description: doc.description.clone().or_else(|| base.description.clone()),
        extends: None,
        default: doc.default.clone().or_else(|| base.default.clone()),
        mode: doc.mode.or(base.mode),
        fs: union(&doc.fs, &base.fs),
        net: union(&doc.net, &base.net),
        rules: doc
            .rules
            .iter()
            .chain(base.rules.iter().filter(|r| !doc.remove_rules.contains(&r.id)))
            .cloned()
            .collect(),
        remove_rules: Vec::new(),
        audit: doc.audit.clone().or_else(|| base.audit.clone()),
        host: match (&doc.host, &base.host) {
            (Some(d), Some(b)) => Some(HostSpec {
                seccomp: d.seccomp.or(b.seccomp),
                seccomp_action: d.seccomp_action.or(b.seccomp_action),
                landlock: d.landlock.or(b.landlock),
            }),
            (d, b) => d.clone().or_else(|| b.clone()),
        },
        limits: match (doc.limits, base.limits) {
            (Some(d), Some(b)) => Some(d.or(b)),
            (d, b) => d.or(b),
        },
    }
}

fn effect(action: &Action, errno_name: Option<&str>) -> Result<Effect, String> {
    match (action, errno_name) {
        (Action::Errno, Some(name)) => errno(name).map(Effect::Deny).ok_or_else(|| {
            let hint = suggest(name, crate::constants::ERRNOS.iter().map(|(n, _)| *n))
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            format!("unknown errno {name:?}{hint}")
        }),
        (Action::Errno, None) => Err("action \"errno\" needs an \"errno\" name, such as \"EPERM\"".into()),
        (_, Some(_)) => Err("\"errno\" is only used with action \"errno\"".into()),
        (Action::Allow, None) => Ok(Effect::Allow),
        (Action::Log, None) => Ok(Effect::Log),
        (Action::Kill, None) => Ok(Effect::Kill),
    }
}

fn scalar(s: &Scalar) -> Result<u64, String> {
    match s {
        Scalar::Number(n) => Ok(*n as u64),
        Scalar::Symbol(t) => parse_value(t),
    }
}

/// The syscall indices a name or `@group` stands for.
fn expand(name: &str) -> Result<Vec<usize>, String> {
    if let Some(g) = name.strip_prefix('@') {
        return syscalls::group_members(g).map(|m| m.iter().map(|&i| usize::from(i)).collect()).ok_or_else(|| {
            let hint = suggest(g, GROUPS.iter().map(|(n, _, _)| *n))
                .map(|s| format!(" (did you mean @{s}?)"))
                .unwrap_or_default();
            format!("unknown group \"@{g}\"{hint}")
        });
    }
    syscalls::index(name).map(|i| vec![i]).ok_or_else(|| {
        let hint = suggest(name, names().iter().copied()).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
        format!("unknown syscall {name:?}{hint}")
    })
}

fn perms(a: &Access) -> Result<u8, String> {
    let word = |w: &str| match w {
        "read" => Ok(access::READ),
        "write" => Ok(access::WRITE),
        "create" => Ok(access::CREATE),
        "exec" => Ok(access::EXEC),
        "read-write" => Ok(access::READ | access::WRITE | access::CREATE),
        other => Err(format!("unknown access {other:?}: use read, write, create, exec or read-write")),
    };
    match a {
        Access::Word(w) => word(w),
        Access::List(ws) => ws.iter().try_fold(0, |acc, w| Ok(acc | word(w)?)),
    }
}

fn grant_root(path: &str, ctx: &Context) -> Result<PathBuf, String> {
    let p = match path.strip_prefix("$CWD") {
        Some(rest) => ctx.cwd.join(rest.trim_start_matches('/')),
        None => PathBuf::from(path),
    };
    if !p.is_absolute() {
        return Err(format!("grant path {path:?} must be absolute (or start with $CWD)"));
    }
    Ok(canonical(&p))
}

/// A grant root with its symlinks resolved, as paths are when checked.
fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Rules that can never match because an earlier rule matches every call
/// of all their syscalls unconditionally.
fn shadowed(
    file: &str,
    source: &[Rule],
    rules: &[CompiledRule],
    table: &[RuleList],
    own: usize,
    at: &dyn Fn(&str) -> (usize, usize),
) -> Vec<Problem> {
    // One pass over the table (it runs on every load): per rule, how many
    // syscalls it names, and the earlier unconditional rules deciding them.
    let mut named = vec![0usize; rules.len()];
    let mut blockers: Vec<Vec<&str>> = vec![Vec::new(); rules.len()];
    for list in table {
        let Some(&first) = list.first() else { continue };
        let decides = rules[first as usize].conds.is_empty() && rules[first as usize].rate.is_none();
        for &r in list {
            named[r as usize] += 1;
            if first < r && decides {
                blockers[r as usize].push(&rules[first as usize].id);
            }
        }
    }
    let mut out = Vec::new();
    for (i, rule) in source.iter().enumerate().take(rules.len()) {
        if named[i] != 0 && blockers[i].len() == named[i] {
            let mut ids = blockers[i].clone();
            ids.sort();
            ids.dedup();
            let path = if i < own { format!("rules[{i}]") } else { format!("extends.rules[{}]", i - own) };
            out.push(problem(
                file,
                &path,
                at(&path),
                format!(
                    "rule {:?} never applies: every call it names is decided earlier by {}",
                    rule.id,
                    ids.join(", ")
                ),
            ));
        }
    }
    out
}

/// Renders `verdict` for messages.
pub fn describe(v: &Verdict) -> String {
    match (&v.action, &v.errno) {
        (Action::Errno, Some(e)) => format!("errno {e}"),
        (a, _) => format!("{a:?}").to_lowercase(),
    }
}
