//! The compiled policy: a decision table indexed by syscall, and the
//! decision procedure. An unconditionally allowed call costs one table
//! lookup; everything else walks the few rules that name the syscall.

use crate::access::{self, PathUse};
use crate::fds;
use crate::model::{Mode, Op};
use crate::net::{Endpoint, SockAddr};
use crate::paths;
use crate::syscalls;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

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

/// Which part of the policy decided (Copy, so deciding never allocates;
/// [`Policy::by_name`] renders it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The rule at this position.
    Rule(u32),
    /// The rule at this position, whose rate budget is spent.
    Rate(u32),
    /// The policy's default action.
    Default,
    /// The path in argument `arg` lies outside the `fs` grants for `need`.
    Fs { arg: u8, need: u8 },
    /// The socket address in argument `arg` matches no `net` grant.
    Net { arg: u8 },
    /// The descriptor in argument `arg` was opened where the grants do not
    /// give `need`.
    Fd { arg: u8, need: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Budget, calls so far, and what the calls past it get.
    pub rate: Option<(u64, AtomicU64, Effect)>,
}

pub(crate) struct Grant {
    pub root: PathBuf,
    pub perms: u8,
}

pub(crate) struct NetGrant {
    pub connect: Option<Endpoint>,
    pub bind: Option<Endpoint>,
}

/// The rules naming one syscall: seldom more than two, and a profile
/// names hundreds of syscalls, so kept inline rather than one allocation
/// each.
pub(crate) type RuleList = smallvec::SmallVec<[u32; 2]>;

pub struct Policy {
    pub name: String,
    pub mode: Mode,
    pub default: Effect,
    /// Record every call, not only decisions.
    pub audit_all: bool,
    /// Per syscall: indices of the rules naming it, in order.
    pub(crate) table: Vec<RuleList>,
    /// Per syscall: allowed by its first rule with nothing left to check
    /// (`FAST_*`). Worked out on first ask: a run asks it of the syscalls
    /// it links, a few dozen of the table's hundreds.
    pub(crate) fast: Vec<AtomicU8>,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) fs: Option<Vec<Grant>>,
    pub(crate) net: Option<Vec<NetGrant>>,
    pub(crate) fds: crate::fds::FdAccess,
    /// The merged policy file, as `policy show` prints it.
    pub source: crate::model::PolicyFile,
}

const EACCES: i32 = 13;

pub(crate) const FAST_UNKNOWN: u8 = 0;
const FAST_NO: u8 = 1;
const FAST_YES: u8 = 2;

impl Policy {
    /// Whether syscall `sys` is allowed with nothing to check: the caller
    /// may skip building a [`Request`].
    #[inline]
    pub fn allows_unconditionally(&self, sys: usize) -> bool {
        let Some(fast) = self.fast.get(sys) else { return false };
        match fast.load(Ordering::Relaxed) {
            FAST_UNKNOWN => {
                let yes = self.unconditional(sys);
                fast.store(if yes { FAST_YES } else { FAST_NO }, Ordering::Relaxed);
                yes
            }
            known => known == FAST_YES,
        }
    }

    fn unconditional(&self, sys: usize) -> bool {
        let allowed = match self.table[sys].first().map(|&r| &self.rules[r as usize]) {
            Some(r) => r.conds.is_empty() && r.effect == Effect::Allow && r.rate.is_none(),
            None => self.default == Effect::Allow,
        };
        // Asked only of allowed syscalls: these look the name up.
        let confined = || {
            let name = syscalls::names()[sys];
            let fs = self.fs.is_some();
            fs && !access::path_uses(name, &[0; 6]).is_empty()
                || (self.net.is_some() || fs) && crate::net::address_arg(name).is_some()
                || fs && (fds::changes_table(name) || fds::fd_use(name, |_| false).is_some())
        };
        allowed && !confined()
    }

    pub fn decide(&self, req: &Request<'_>) -> Decision {
        self.decide_resolved(req, &self.resolve(req))
    }

    /// Decides with the paths of `req` already resolved (see [`Policy::resolve`]),
    /// so a caller that also records or observes them resolves them once.
    pub fn decide_resolved(&self, req: &Request<'_>, paths: &[PathAccess]) -> Decision {
        let (effect, by, mode) = self.by_rules(req);
        if matches!(effect, Effect::Allow | Effect::Log)
            && let Some(by) = self.confinement(req, paths)
        {
            return Decision { effect: Effect::Deny(EACCES), by, mode: self.mode };
        }
        Decision { effect, by, mode }
    }

    /// This policy with its `fs` grants dropped, so paths are no longer
    /// confined by the engine: for testing the kernel layer on its own.
    #[doc(hidden)]
    pub fn without_fs_confinement(mut self) -> Self {
        self.fs = None;
        self
    }

    /// Whether deciding needs the paths a call names resolved.
    pub fn confines_paths(&self) -> bool {
        self.fs.is_some()
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
            if let Some((max, used, past)) = &rule.rate
                && used.fetch_add(1, Ordering::Relaxed) >= *max
            {
                return (*past, By::Rate(r), rule.mode);
            }
            return (rule.effect, By::Rule(r), rule.mode);
        }
        (self.default, By::Default, self.mode)
    }

    /// The fs or net grant check an allowed call fails, if any.
    fn confinement(&self, req: &Request<'_>, paths: &[PathAccess]) -> Option<By> {
        let name = syscalls::names().get(req.sys)?;
        if self.fs.is_some()
            && let Some((arg, need)) = fds::fd_use(name, |i| req.copied[i].is_some())
            && !self.fds.allows(req.args[arg] as i32, need)
        {
            return Some(By::Fd { arg: arg as u8, need });
        }
        if let Some(grants) = &self.fs
            && let Some(p) = paths.iter().find(|p| !covered(grants, p))
        {
            return Some(By::Fs { arg: p.arg as u8, need: p.need });
        }
        let (addr_arg, bind) = crate::net::address_arg(name)?;
        let addr = SockAddr::decode(req.copied[addr_arg]?)?;
        let granted = self.net.as_ref().is_some_and(|grants| {
            grants.iter().any(|g| {
                let ep = if bind { &g.bind } else { &g.connect };
                ep.as_ref().is_some_and(|e| e.matches(&addr))
            })
        });
        // A unix socket with a path is a file: the fs grants decide, unless
        // a net grant names it.
        if let (SockAddr::Unix(path), Some(fs)) = (&addr, &self.fs)
            && path.first().is_some_and(|&b| b != 0)
        {
            let need = if bind { access::CREATE } else { access::WRITE };
            let u = PathUse { dirfd: None, path: addr_arg, perms: need, follow: !bind };
            let unix = Request { copied: std::array::from_fn(|i| (i == addr_arg).then_some(&path[..])), ..*req };
            return self.check_path(fs, &unix, &u).filter(|_| !granted);
        }
        if self.net.is_some() && !granted {
            return Some(By::Net { arg: addr_arg as u8 });
        }
        None
    }
}

/// A path a call names, resolved as the kernel will see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAccess {
    /// The argument holding it.
    pub arg: usize,
    /// The access the call needs there.
    pub need: u8,
    /// Where it lands; `Err(as written)` when it cannot be resolved.
    pub path: Result<PathBuf, PathBuf>,
}

impl PathAccess {
    /// The resolved path, or the path as written.
    pub fn shown(&self) -> &PathBuf {
        self.path.as_ref().unwrap_or_else(|p| p)
    }
}

fn covered(grants: &[Grant], p: &PathAccess) -> bool {
    p.path.as_ref().is_ok_and(|path| grants.iter().any(|g| g.perms & p.need == p.need && path.starts_with(&g.root)))
}

impl Policy {
    fn check_path(&self, grants: &[Grant], req: &Request<'_>, u: &PathUse) -> Option<By> {
        let p = PathAccess { arg: u.path, need: u.perms, path: self.resolved(req, u)? };
        (!covered(grants, &p)).then_some(By::Fs { arg: u.path as u8, need: u.perms })
    }

    /// Where path use `u` of `req` lands: `None` when the call names no path
    /// (NULL, or the empty path of AT_EMPTY_PATH acts on the descriptor);
    /// `Err(as written)` when it cannot be resolved (unknown base, link loop).
    fn resolved(&self, req: &Request<'_>, u: &PathUse) -> Option<Result<PathBuf, PathBuf>> {
        let raw = req.copied[u.path]?;
        let path = raw.strip_suffix(b"\0").unwrap_or(raw);
        if path.is_empty() {
            return None;
        }
        let dirfd = u.dirfd.map(|i| req.args[i] as i32);
        let resolved = paths::resolve_with(dirfd, path, u.follow, |fd| self.fds.dir_path(fd));
        Some(resolved.ok_or_else(|| PathBuf::from(String::from_utf8_lossy(path).into_owned())))
    }
}

impl Policy {
    /// The id of the rule at position `r`.
    pub fn rule_id(&self, r: u32) -> &str {
        self.rules.get(r as usize).map_or("?", |rule| rule.id.as_str())
    }

    /// A short name for what decided: a rule id, `fs`, `net` or `default`.
    pub fn by_name(&self, by: By) -> String {
        match by {
            By::Rule(r) => self.rule_id(r).to_string(),
            By::Rate(r) => format!("{} (rate)", self.rule_id(r)),
            By::Default => "default".into(),
            By::Fs { .. } => "fs".into(),
            By::Net { .. } => "net".into(),
            By::Fd { .. } => "fd".into(),
        }
    }

    /// Whether the policy must see the outcome of syscall `sys` (it tracks
    /// descriptors opened under `fs` grants, and renames for its cache of
    /// directory paths).
    pub fn observes(&self, sys: usize) -> bool {
        self.fs.is_some() && syscalls::names().get(sys).is_some_and(|n| fds::changes_table(n) || fds::moves_paths(n))
    }

    /// Tells the policy that a call it decided on is about to be carried
    /// out (descriptor and rename bookkeeping; see [`crate::fds`]).
    pub fn before(&self, req: &Request<'_>) {
        if self.fs.is_some()
            && let Some(name) = syscalls::names().get(req.sys)
        {
            self.fds.before(name);
        }
    }

    /// Lets the policy keep the paths of directory descriptors instead of
    /// asking `/proc/self/fd` on every use. Only for an embedder whose
    /// kernel enforces the same `fs` grants (Landlock): see [`crate::fds`]
    /// for when a kept path could be stale. Call before the guest starts.
    pub fn cache_dir_paths(&self) {
        if self.fs.is_some() {
            self.fds.enable_dir_cache();
        }
    }

    /// Whether directory paths are being cached (see [`Policy::cache_dir_paths`]).
    pub fn caches_dir_paths(&self) -> bool {
        self.fds.caches_dirs()
    }

    /// Learns from a call's result (descriptor bookkeeping); `paths` as
    /// from [`Policy::resolve`].
    pub fn observe(&self, req: &Request<'_>, ret: i64, paths: &[PathAccess]) {
        let (Some(grants), Some(name)) = (&self.fs, syscalls::names().get(req.sys)) else { return };
        if !fds::changes_table(name) && !fds::moves_paths(name) {
            return;
        }
        // The access the grants give where an open landed.
        let opened = paths.first().map(|p| {
            let path = p.shown();
            grants.iter().filter(|g| path.starts_with(&g.root)).fold(0, |acc, g| acc | g.perms)
        });
        self.fds.observe(name, &req.args, ret, opened);
    }

    /// For an `fs` denial: the path the call would have reached.
    pub fn denied_path(&self, req: &Request<'_>, by: By) -> Option<PathBuf> {
        let By::Fs { arg, .. } = by else { return None };
        self.resolve(req).into_iter().find(|p| p.arg == arg as usize).map(|p| p.shown().clone())
    }
}

impl Decision {
    /// Packs the decision into 64 bits (for a gate's ruling note).
    pub fn pack(self) -> u64 {
        let (effect, errno) = match self.effect {
            Effect::Allow => (0u64, 0u64),
            Effect::Log => (1, 0),
            Effect::Deny(e) => (2, e as u16 as u64),
            Effect::Kill => (3, 0),
        };
        let (by, a, b) = match self.by {
            By::Rule(r) => (0u64, r, 0u8),
            By::Rate(r) => (1, r, 0),
            By::Default => (2, 0, 0),
            By::Fs { arg, need } => (3, arg as u32, need),
            By::Net { arg } => (4, arg as u32, 0),
            By::Fd { arg, need } => (5, arg as u32, need),
        };
        let audit = u64::from(self.mode == Mode::Audit);
        effect | by << 2 | audit << 5 | (b as u64) << 8 | errno << 16 | (a as u64) << 32
    }

    pub fn unpack(v: u64) -> Decision {
        let (a, b, errno) = ((v >> 32) as u32, (v >> 8) as u8, (v >> 16) as u16 as i32);
        let effect = match v & 3 {
            0 => Effect::Allow,
            1 => Effect::Log,
            2 => Effect::Deny(errno),
            _ => Effect::Kill,
        };
        let by = match (v >> 2) & 7 {
            0 => By::Rule(a),
            1 => By::Rate(a),
            2 => By::Default,
            3 => By::Fs { arg: a as u8, need: b },
            4 => By::Net { arg: a as u8 },
            _ => By::Fd { arg: a as u8, need: b },
        };
        let mode = if v >> 5 & 1 == 1 { Mode::Audit } else { Mode::Enforce };
        Decision { effect, by, mode }
    }
}

impl Policy {
    /// Every path `req` names, resolved as the kernel will see it, with the
    /// access the call needs there (what the fs grants judge, an audit
    /// records and learn grants).
    pub fn resolve(&self, req: &Request<'_>) -> Vec<PathAccess> {
        let Some(name) = syscalls::names().get(req.sys) else {
            return Vec::new();
        };
        let how = (*name == "openat2").then(|| open_how(req)).flatten();
        access::path_uses(name, &req.args)
            .into_iter()
            .filter_map(|mut u| {
                if let Some((flags, _)) = how {
                    (u.perms, u.follow) = access::open_perms(flags);
                }
                if req.wasm_target {
                    u.perms = access::READ;
                }
                // openat2 confined by the kernel beneath its directory can
                // reach nothing outside it: the directory is what the grants
                // judge, and no component needs resolving here (a loop or an
                // escape fails in the kernel, with the kernel's errno).
                let beneath = how.is_some_and(|(_, r)| r & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0);
                let dir = || paths::base_with(u.dirfd.map(|i| req.args[i] as i32), |fd| self.fds.dir_path(fd));
                let path = match beneath.then(dir).flatten() {
                    Some(dir) => {
                        req.copied[u.path]?;
                        Ok(dir)
                    }
                    None => self.resolved(req, &u)?,
                };
                Some(PathAccess { arg: u.path, need: u.perms, path })
            })
            .collect()
    }
}

const RESOLVE_BENEATH: u64 = 0x08;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// openat2's `struct open_how` (copied by decode): flags and resolve bits.
fn open_how(req: &Request<'_>) -> Option<(u64, u64)> {
    let b = req.copied[2]?;
    let word = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    Some((word(0)?, word(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_pack_and_unpack() {
        let all = [
            Decision { effect: Effect::Allow, by: By::Rule(7), mode: Mode::Enforce },
            Decision { effect: Effect::Log, by: By::Default, mode: Mode::Audit },
            Decision { effect: Effect::Deny(13), by: By::Fs { arg: 1, need: 5 }, mode: Mode::Enforce },
            Decision { effect: Effect::Deny(11), by: By::Rate(65535), mode: Mode::Audit },
            Decision { effect: Effect::Kill, by: By::Net { arg: 4 }, mode: Mode::Enforce },
            Decision { effect: Effect::Deny(13), by: By::Fd { arg: 0, need: 2 }, mode: Mode::Enforce },
        ];
        for d in all {
            assert_eq!(Decision::unpack(d.pack()), d);
        }
    }
}
