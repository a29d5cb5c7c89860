//! The compiled policy: a decision table indexed by syscall, and the
//! decision procedure. An unconditionally allowed call costs one table
//! lookup; everything else walks the few rules that name the syscall.

use crate::access::{self, PathUse};
use crate::model::{Mode, Op};
use crate::net::{Endpoint, SockAddr};
use crate::paths;
use crate::syscalls;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a decision does to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    /// Allow and record.
    Log,
    /// Return `-errno`.
    Deny(i32),
    /// End the guest.
    Kill,
}

impl Effect {
    pub fn denies(self) -> bool {
        matches!(self, Effect::Deny(_) | Effect::Kill)
    }
}

/// Which part of the policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// The rule with this id.
    Rule(String),
    /// The rule with this id, whose rate budget is spent.
    Rate(String),
    /// The policy's default action.
    Default,
    /// A path outside the `fs` grants.
    Fs { path: PathBuf, need: u8 },
    /// An address outside the `net` grants.
    Net { addr: String },
}

impl std::fmt::Display for By {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            By::Rule(id) => write!(f, "{id}"),
            By::Rate(id) => write!(f, "{id} (rate)"),
            By::Default => write!(f, "default"),
            By::Fs { .. } => write!(f, "fs"),
            By::Net { .. } => write!(f, "net"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What the policy decided.
    pub effect: Effect,
    pub by: By,
    pub mode: Mode,
}

impl Decision {
    /// What actually happens: in audit mode a denial is recorded, not done.
    pub fn enforced(&self) -> Effect {
        match (self.mode, self.effect) {
            (Mode::Audit, e) if e.denies() => Effect::Log,
            (_, e) => e,
        }
    }
}

/// A call as the policy sees it: syscall index (see [`syscalls::names`]),
/// raw arguments, and the bytes copied out of guest memory per argument.
pub struct Request<'a> {
    pub sys: usize,
    pub args: [u64; 6],
    pub copied: [Option<&'a [u8]>; 6],
    /// For execve: the target is a Wasm module, which waligate runs (so it
    /// needs read access, not exec).
    pub wasm_target: bool,
}

pub(crate) struct Cond {
    pub index: usize,
    pub op: Op,
    pub value: u64,
    pub mask: u64,
}

impl Cond {
    fn holds(&self, args: &[u64; 6]) -> bool {
        let a = args[self.index];
        match self.op {
            Op::Eq => a == self.value,
            Op::Ne => a != self.value,
            Op::Lt => a < self.value,
            Op::Le => a <= self.value,
            Op::Gt => a > self.value,
            Op::Ge => a >= self.value,
            Op::MaskedEq => a & self.mask == self.value,
        }
    }
}

pub(crate) struct CompiledRule {
    pub id: String,
    pub conds: Vec<Cond>,
    pub effect: Effect,
    pub mode: Mode,
    pub rate: Option<(u64, AtomicU64)>,
}

pub(crate) struct Grant {
    pub root: PathBuf,
    pub perms: u8,
}

pub(crate) struct NetGrant {
    pub connect: Option<Endpoint>,
    pub bind: Option<Endpoint>,
}

pub struct Policy {
    pub name: String,
    pub mode: Mode,
    pub default: Effect,
    /// Record every call, not only decisions.
    pub audit_all: bool,
    /// Per syscall: indices of the rules naming it, in order.
    pub(crate) table: Vec<Vec<u32>>,
    /// Per syscall: allowed by its first rule with nothing left to check.
    pub(crate) fast: Vec<bool>,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) fs: Option<Vec<Grant>>,
    pub(crate) net: Option<Vec<NetGrant>>,
    /// The merged policy file, as `policy show` prints it.
    pub source: crate::model::PolicyFile,
}

const EACCES: i32 = 13;
const EAGAIN: i32 = 11;

impl Policy {
    /// Whether syscall `sys` is allowed with nothing to check: the caller
    /// may skip building a [`Request`].
    #[inline]
    pub fn allows_unconditionally(&self, sys: usize) -> bool {
        self.fast.get(sys).copied().unwrap_or(false)
    }

    pub fn decide(&self, req: &Request<'_>) -> Decision {
        let (effect, by, mode) = self.by_rules(req);
        if matches!(effect, Effect::Allow | Effect::Log)
            && let Some(by) = self.confinement(req)
        {
            return Decision {
                effect: Effect::Deny(EACCES),
                by,
                mode: self.mode,
            };
        }
        Decision { effect, by, mode }
    }

    fn by_rules(&self, req: &Request<'_>) -> (Effect, By, Mode) {
        let Some(rules) = self.table.get(req.sys) else {
            return (self.default, By::Default, self.mode);
        };
        for &r in rules {
            let rule = &self.rules[r as usize];
            if !rule.conds.iter().all(|c| c.holds(&req.args)) {
                continue;
            }
            if let Some((max, used)) = &rule.rate
                && used.fetch_add(1, Ordering::Relaxed) >= *max
            {
                return (Effect::Deny(EAGAIN), By::Rate(rule.id.clone()), rule.mode);
            }
            return (rule.effect, By::Rule(rule.id.clone()), rule.mode);
        }
        (self.default, By::Default, self.mode)
    }

    /// The fs or net grant check an allowed call fails, if any.
    fn confinement(&self, req: &Request<'_>) -> Option<By> {
        let name = syscalls::names().get(req.sys)?;
        if let Some(grants) = &self.fs {
            for mut u in access::path_uses(name, &req.args) {
                if req.wasm_target {
                    u.perms = access::READ;
                }
                if let Some(by) = check_path(grants, req, &u) {
                    return Some(by);
                }
            }
        }
        if let Some(grants) = &self.net {
            let (addr_arg, bind) = match *name {
                "connect" => (1, false),
                "bind" => (1, true),
                "sendto" => (4, false),
                _ => return None,
            };
            let addr = SockAddr::decode(req.copied[addr_arg]?)?;
            let ok = grants.iter().any(|g| {
                let ep = if bind { &g.bind } else { &g.connect };
                ep.as_ref().is_some_and(|e| e.matches(&addr))
            });
            if !ok {
                return Some(By::Net {
                    addr: addr.to_string(),
                });
            }
        }
        None
    }
}

fn check_path(grants: &[Grant], req: &Request<'_>, u: &PathUse) -> Option<By> {
    // No path (NULL, or the empty path of AT_EMPTY_PATH): the call acts on
    // a descriptor, not a name.
    let raw = req.copied[u.path]?;
    let path = raw.strip_suffix(b"\0").unwrap_or(raw);
    if path.is_empty() {
        return None;
    }
    let dirfd = u.dirfd.map(|i| req.args[i] as i32);
    let denied = |p: PathBuf| {
        Some(By::Fs {
            path: p,
            need: u.perms,
        })
    };
    let Some(resolved) = paths::resolve(dirfd, path, u.follow) else {
        return denied(PathBuf::from(String::from_utf8_lossy(path).into_owned()));
    };
    let covered = grants
        .iter()
        .any(|g| g.perms & u.perms == u.perms && resolved.starts_with(&g.root));
    if covered { None } else { denied(resolved) }
}
