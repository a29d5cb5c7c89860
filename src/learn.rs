//! `waligate policy learn`: turns an audit log into the smallest policy
//! that allows what the guest did, generalised to directory grants and
//! grouped into rules named after the syscall groups.

use anyhow::Result;
use policy::access;
use policy::model::{Access, Action, FsGrant, Mode, NetGrant, PolicyFile, Rule, Verdict};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Access names for a grant, from the permission bits.
fn access_words(perms: u8) -> Access {
    if perms & (access::READ | access::WRITE | access::CREATE) == access::READ | access::WRITE | access::CREATE
        && perms & access::EXEC == 0
    {
        return Access::Word("read-write".into());
    }
    let words: Vec<String> = access::perm_names(perms).split('+').map(str::to_owned).collect();
    if words.len() == 1 { Access::Word(words[0].clone()) } else { Access::List(words) }
}

/// The directory a path is granted through: a directory itself, else its
/// parent (so files created next to it are covered too).
fn grant_dir(path: &Path, perms: u8) -> PathBuf {
    let is_dir = path.is_dir() && perms & access::CREATE == 0;
    if is_dir { path.to_path_buf() } else { path.parent().unwrap_or(path).to_path_buf() }
}

pub fn learn(events: &[Value], name: &str) -> Result<PolicyFile> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut dirs: BTreeMap<PathBuf, u8> = BTreeMap::new();
    let mut connect: BTreeSet<String> = BTreeSet::new();
    let mut bind: BTreeSet<String> = BTreeSet::new();
    for e in events {
        let Some(sys) = e["syscall"].as_str() else {
            continue;
        };
        seen.insert(sys.to_string());
        for p in e["paths"].as_array().into_iter().flatten() {
            let path = Path::new(p["path"].as_str().unwrap_or(""));
            let need = p["need"].as_str().unwrap_or("").split('+').fold(0u8, |acc, w| {
                acc | match w {
                    "read" => access::READ,
                    "write" => access::WRITE,
                    "create" => access::CREATE,
                    "exec" => access::EXEC,
                    _ => 0,
                }
            });
            *dirs.entry(grant_dir(path, need)).or_default() |= need;
        }
        let addr = |k: &str| e["args"][k].as_str().map(str::to_owned);
        match sys {
            "connect" => connect.extend(addr("addr")),
            "sendto" => connect.extend(addr("dest_addr")),
            "bind" => bind.extend(addr("addr")),
            _ => {}
        }
    }
    // Drop grants inside another grant that already gives their access.
    let covered = |d: &PathBuf, p: u8| dirs.iter().any(|(o, op)| o != d && d.starts_with(o) && op & p == p);
    let fs: Vec<FsGrant> = dirs
        .iter()
        .filter(|(d, p)| !covered(d, **p))
        .map(|(d, p)| FsGrant { path: d.to_string_lossy().into_owned(), access: access_words(*p) })
        .collect();
    let net: Vec<NetGrant> = connect
        .into_iter()
        .map(|c| NetGrant { connect: Some(c), bind: None })
        .chain(bind.into_iter().map(|b| NetGrant { connect: None, bind: Some(b) }))
        .collect();
    // One rule per group, in the groups' order; the rest in "other".
    let mut rules = Vec::new();
    let mut left = seen.clone();
    for (group, _, members) in policy::syscalls::GROUPS {
        let here: Vec<String> = members.iter().filter(|m| left.remove(**m)).map(|m| m.to_string()).collect();
        if !here.is_empty() {
            rules.push(rule(group, here));
        }
    }
    if !left.is_empty() {
        rules.push(rule("other", left.into_iter().collect()));
    }
    Ok(PolicyFile {
        version: 1,
        name: Some(name.to_string()),
        description: Some(format!("Learned from an audit log: allows the {} syscalls seen, nothing else.", seen.len())),
        extends: None,
        default: Some(Verdict { action: Action::Errno, errno: Some("EPERM".into()) }),
        mode: Some(Mode::Enforce),
        fs: Some(fs),
        net: Some(net),
        rules,
        remove_rules: Vec::new(),
        audit: None,
        host: None,
        limits: None,
    })
}

fn rule(id: &str, syscalls: Vec<String>) -> Rule {
    Rule {
        id: format!("seen-{id}"),
        comment: Some(format!("{} call(s) observed", syscalls.len())),
        syscalls,
        args: Vec::new(),
        action: Action::Allow,
        errno: None,
        mode: None,
        rate: None,
    }
}
