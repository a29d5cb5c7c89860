//! The seccomp backstop: a filter for the host process, derived from a
//! policy and from what the host itself needs while the guest runs, so
//! that the kernel refuses what the policy never allows even if the engine
//! were subverted.
//!
//! The filter over-approximates the policy (the engine stays the precise
//! judge): a syscall passes if any rule could allow it. Scalar argument
//! conditions are lowered where the host passes the argument unchanged;
//! paths, addresses and fds are the engine's and Landlock's to check.

use crate::engine::{Effect, Policy};
use crate::model::{Mode, Op, SeccompAction};
use crate::syscalls;
use seccompiler::{
    BpfProgram, SeccompAction as Act, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};
use std::collections::BTreeMap;

/// Syscalls the host makes on its own while a guest runs, with the reason.
/// Measured with `strace -f` over the test guests (threads, signals, fork,
/// exec, mmap, WASI), not guessed.
pub const HOST_RUNTIME: &[(&str, &str)] = &[
    ("mmap", "wasmtime grows linear memory and maps thread stacks; malloc"),
    ("munmap", "freeing memory and thread stacks"),
    ("mprotect", "wasmtime commits memory; glibc guard pages"),
    ("madvise", "malloc and wasmtime return pages"),
    ("mremap", "realloc of large host buffers"),
    ("brk", "malloc's main arena"),
    ("futex", "host locks, thread start handshake, parking"),
    ("sched_yield", "lock spinning"),
    ("rt_sigprocmask", "masks around guest handlers, thread start"),
    ("rt_sigreturn", "return from any signal handler (wasmtime's trap handler, the pending-signal marker)"),
    ("rt_sigaction", "installs the kernel disposition behind a guest handler"),
    ("sigaltstack", "wasmtime's per-thread alternate signal stack"),
    ("gettid", "the TID a guest thread gets"),
    ("getpid", "host identity (audit events)"),
    ("clone", "fork (glibc's fork is clone)"),
    ("clone3", "thread creation (glibc's pthread_create)"),
    ("set_robust_list", "glibc's setup of a new thread"),
    ("rseq", "glibc's setup of a new thread"),
    ("prctl", "naming host threads"),
    ("exit", "a host thread ends"),
    ("exit_group", "the process ends"),
    ("write", "the audit trail and diagnostics on stderr"),
    ("readlink", "resolving a directory descriptor's path through /proc/self/fd for path checks"),
    // The host's own checks: refused, they would see nothing to refuse.
    ("newfstatat", "vetting each descriptor the guest opens (glibc's fstat), the files a path names"),
    ("fstat", "vetting each descriptor the guest opens, where libc's fstat is this syscall"),
    ("fstatfs", "vetting each descriptor the guest opens: is it in procfs"),
    ("statx", "looking for symlinks on a path the engine resolves (Rust's std asks statx first)"),
    ("close", "closing a descriptor the vetting refuses to hand over, and the host's own"),
    ("getcwd", "resolving a path relative to the working directory"),
    ("clock_nanosleep", "the time-limit watchdog thread"),
    ("process_vm_readv", "copies from linear memory once a file is mapped in (EFAULT instead of SIGBUS)"),
    ("process_vm_writev", "copies into linear memory once a file is mapped in"),
    ("fcntl", "checking a descriptor before mmap"),
    ("getrandom", "hash seeds of host collections"),
    ("clock_gettime", "timing audit events (the vDSO's fallback)"),
    ("tgkill", "abort on a host failure"),
];

/// Syscalls a fresh waligate needs to start, added when the policy lets
/// the guest execve: the new process inherits the filter.
pub const HOST_EXEC: &[(&str, &str)] = &[
    ("execve", "runs /proc/self/exe on the target module"),
    ("memfd_create", "hands the new environment over in a memfd; wasmtime's memory images"),
    ("pwrite64", "writes the environment memfd"),
    ("openat", "the dynamic loader, the module, the module cache"),
    ("read", "the dynamic loader, the module, the cache, the environment memfd"),
    ("pread64", "the dynamic loader"),
    ("access", "the dynamic loader"),
    ("faccessat2", "the dynamic loader"),
    ("lseek", "reading files"),
    ("arch_prctl", "the dynamic loader sets up TLS"),
    ("set_tid_address", "glibc start-up"),
    ("prlimit64", "glibc start-up"),
    ("geteuid", "checking the cache directory's owner"),
    ("mkdir", "creating the cache directory"),
    ("renameat", "writing a cache entry atomically"),
    ("unlinkat", "removing the private environment directory"),
    ("rmdir", "removing the private environment directory"),
    ("getdents64", "removing the private environment directory"),
    ("ioctl", "isatty on the standard streams"),
    ("poll", "Rust's check of the standard descriptors at start-up"),
    ("sched_getaffinity", "sizing the compiler's thread pool"),
    ("seccomp", "installing its own filter (filters stack: the stricter wins)"),
    ("landlock_create_ruleset", "applying its own ruleset (rulesets stack)"),
    ("landlock_add_rule", "applying its own ruleset"),
    ("landlock_restrict_self", "applying its own ruleset"),
];

/// How a guest syscall reaches the kernel, as the host carries it out.
pub enum Reaches {
    /// As the same syscall; bit `i` of `scalar` set: argument `i` is passed
    /// unchanged, so conditions on it can be lowered.
    Direct { scalar: u8 },
    /// Through these host syscalls (an emulation), or none.
    Host(&'static [&'static str]),
}

/// One lowered argument condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    pub index: u8,
    pub op: Op,
    pub value: u64,
    pub mask: u64,
}

/// What the filter does to a syscall it matches or does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    /// Allowed, and logged by the kernel (audit-mode policies).
    Log,
    Errno(u32),
    KillProcess,
}

/// The derived filter, as data: the host syscalls it matches, in number
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub matched: Action,
    pub mismatch: Action,
    pub rules: Vec<Entry>,
}

/// A host syscall the filter matches, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its index in [`syscalls::names`].
    pub sys: usize,
    pub when: When,
}

impl Entry {
    pub fn name(&self) -> &'static str {
        syscalls::names()[self.sys]
    }
}

/// When a syscall matches the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Always,
    /// Under any of these conjunctions (none of them empty).
    Under(Vec<Vec<Cond>>),
}

const EPERM: u32 = 1;

/// Under which argument conditions any rule of the policy could allow
/// syscall `sys`: `None` never.
fn allowed_when(policy: &Policy, sys: usize) -> Option<When> {
    let mut alternatives = Vec::new();
    let lets_through = |effect: Effect, mode: Mode| !effect.denies() || mode == Mode::Audit;
    for &r in policy.table.get(sys).map(|rules| rules.as_slice()).unwrap_or_default() {
        let rule = &policy.rules[r as usize];
        if lets_through(rule.effect, rule.mode) {
            if rule.conds.is_empty() {
                return Some(When::Always);
            }
            alternatives.push(
                rule.conds
                    .iter()
                    .map(|c| Cond { index: c.index as u8, op: c.op, value: c.value, mask: c.mask })
                    .collect(),
            );
        } else if rule.conds.is_empty() {
            // Unconditional denial: later rules and the default never apply.
            return (!alternatives.is_empty()).then_some(When::Under(alternatives));
        }
    }
    if lets_through(policy.default, policy.mode) {
        return Some(When::Always);
    }
    (!alternatives.is_empty()).then_some(When::Under(alternatives))
}

/// The plan's rules as they are worked out: per syscall index (see
/// [`syscalls::names`]), when it matches so far. Indexed rather than a map
/// by name: derivation adds hundreds of entries at every start.
struct Rules(Vec<Option<When>>);

impl Rules {
    fn new() -> Self {
        Rules(vec![None; syscalls::names().len()])
    }

    /// Adds `when` to syscall `sys` (always wins over conditions).
    fn add(&mut self, sys: usize, when: When) {
        match (&mut self.0[sys], when) {
            (Some(When::Always), _) => {}
            (entry, When::Always) => *entry = Some(When::Always),
            (Some(When::Under(alternatives)), When::Under(more)) => alternatives.extend(more),
            (entry @ None, when) => *entry = Some(when),
        }
    }

    /// Adds host syscall `name`, whatever its arguments.
    fn add_host(&mut self, name: &str) {
        // The host lists name syscalls of the specification (a test checks).
        if let Some(sys) = syscalls::index(name) {
            self.add(sys, When::Always);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    fn into_list(self) -> Vec<Entry> {
        self.0.into_iter().enumerate().filter_map(|(sys, when)| Some(Entry { sys, when: when? })).collect()
    }
}

/// Derives the filter for `policy`; `reaches` tells how each guest syscall
/// (by index in [`syscalls::names`]) is carried out by the host;
/// `guest_execs`: whether the guest can call execve at all (its module
/// imports it), without which a filter of allowed calls allows neither its
/// execve nor a fresh waligate's start-up, whatever the policy says (a
/// permissive policy's filter of refused calls still refuses only what the
/// policy refuses). `None`: the policy denies nothing the kernel could
/// refuse, so no filter is needed.
pub fn derive(policy: &Policy, reaches: impl Fn(usize) -> Reaches, guest_execs: bool) -> Option<Plan> {
    let names = syscalls::names();
    let execs = may_execve(policy, guest_execs);
    let action = policy.source.host.as_ref().and_then(|h| h.seccomp_action).unwrap_or(SeccompAction::Errno);
    let refuse = match (action, policy.default) {
        (SeccompAction::Kill, _) => Action::KillProcess,
        (_, Effect::Deny(errno)) => Action::Errno(errno as u32),
        _ => Action::Errno(EPERM),
    };
    let host = host_calls(execs);
    let mut rules = Rules::new();
    if policy.mode == Mode::Audit || !policy.default.denies() {
        // A permissive policy: refuse only what a rule always refuses and
        // the host never needs, for itself or to carry out a guest call
        // the policy allows.
        let mut needed = vec![false; names.len()];
        let mut carried = host.map(|(name, _)| *name).collect::<Vec<_>>();
        for (sys, needed) in needed.iter_mut().enumerate() {
            if allowed_when(policy, sys).is_none() {
                continue;
            }
            *needed = true;
            if let Reaches::Host(calls) = reaches(sys) {
                carried.extend_from_slice(calls);
            }
        }
        for sys in carried.into_iter().filter_map(syscalls::index) {
            needed[sys] = true;
        }
        for sys in (0..names.len()).filter(|&sys| !needed[sys]) {
            rules.add(sys, When::Always);
        }
        if rules.is_empty() {
            return None;
        }
        return Some(Plan { matched: refuse, mismatch: Action::Allow, rules: rules.into_list() });
    }
    let execve = syscalls::index("execve");
    for sys in 0..names.len() {
        let Some(when) = allowed_when(policy, sys) else { continue };
        if Some(sys) == execve && !execs {
            continue;
        }
        match reaches(sys) {
            Reaches::Direct { scalar } => {
                // A condition on an argument the host translates cannot be
                // checked by the kernel: drop it (allow more, never less).
                let lowered = match when {
                    When::Always => When::Always,
                    When::Under(alternatives) => {
                        let lowered: Vec<Vec<Cond>> = alternatives
                            .into_iter()
                            .map(|alt| alt.into_iter().filter(|c| scalar & (1 << c.index) != 0).collect())
                            .collect();
                        if lowered.iter().any(Vec::is_empty) { When::Always } else { When::Under(lowered) }
                    }
                };
                rules.add(sys, lowered);
            }
            Reaches::Host(calls) => calls.iter().for_each(|call| rules.add_host(call)),
        }
    }
    for (name, _) in host {
        rules.add_host(name);
    }
    Some(Plan { matched: Action::Allow, mismatch: refuse, rules: rules.into_list() })
}

/// Whether the guest can execve (`guest_execs`: its module imports it) and
/// any rule of `policy` could let it: then a fresh waligate starts under
/// the inherited kernel layers and needs its files and start-up syscalls.
pub fn may_execve(policy: &Policy, guest_execs: bool) -> bool {
    guest_execs && syscalls::index("execve").is_some_and(|sys| allowed_when(policy, sys).is_some())
}

/// The syscalls the host needs whatever the policy says (`execs`: and a
/// fresh waligate a guest's execve starts).
fn host_calls(execs: bool) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    HOST_RUNTIME.iter().chain(if execs { HOST_EXEC } else { &[] })
}

/// The x86_64 number of an entry's syscall.
fn number(entry: &Entry) -> Result<i64, Error> {
    syscalls::number_at(entry.sys).ok_or_else(|| Error::Unknown(entry.name().to_string()))
}

fn seccomp_action(a: Action) -> Act {
    match a {
        Action::Allow => Act::Allow,
        Action::Log => Act::Log,
        Action::Errno(e) => Act::Errno(e),
        Action::KillProcess => Act::KillProcess,
    }
}

fn condition(c: &Cond) -> Result<SeccompCondition, seccompiler::BackendError> {
    let op = match c.op {
        Op::Eq => SeccompCmpOp::Eq,
        Op::Ne => SeccompCmpOp::Ne,
        Op::Lt => SeccompCmpOp::Lt,
        Op::Le => SeccompCmpOp::Le,
        Op::Gt => SeccompCmpOp::Gt,
        Op::Ge => SeccompCmpOp::Ge,
        Op::MaskedEq => SeccompCmpOp::MaskedEq(c.mask),
    };
    SeccompCondition::new(c.index, SeccompCmpArgLen::Qword, op, c.value)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("host syscall {0} has no x86_64 number")]
    Unknown(String),
    #[error("cannot build the seccomp filter: {0}")]
    Backend(#[from] seccompiler::BackendError),
    #[error("cannot install the seccomp filter: {0}")]
    Install(#[from] seccompiler::Error),
}

impl Plan {
    /// When host syscall `name` matches, if ever.
    pub fn get(&self, name: &str) -> Option<&When> {
        self.rules.iter().find(|e| e.name() == name).map(|e| &e.when)
    }

    /// Argument conditions as seccompiler rules, per syscall number: only the
    /// syscalls with conditions (`all`: every syscall, unconditional ones
    /// with no rules, for the linear reference program).
    fn seccompiler_rules(&self, all: bool) -> Result<BTreeMap<i64, Vec<SeccompRule>>, Error> {
        let mut rules = BTreeMap::new();
        for entry in &self.rules {
            let alternatives = match &entry.when {
                When::Always if !all => continue,
                When::Always => {
                    rules.insert(number(entry)?, Vec::new());
                    continue;
                }
                When::Under(alternatives) => alternatives,
            };
            let mut compiled = Vec::new();
            for alt in alternatives {
                let conds = alt.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
                compiled.push(SeccompRule::new(conds)?);
            }
            rules.insert(number(entry)?, compiled);
        }
        Ok(rules)
    }

    fn seccompiler_program(&self, rules: BTreeMap<i64, Vec<SeccompRule>>) -> Result<BpfProgram, Error> {
        let (mismatch, matched) = (seccomp_action(self.mismatch), seccomp_action(self.matched));
        Ok(SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)?.try_into()?)
    }

    /// The compiled BPF program: a search tree over syscall numbers (see
    /// [`crate::seccomp_tree`]). Its shape costs nothing on the syscalls
    /// that matter either way: since Linux 5.11 the kernel finds, when the
    /// filter is installed, every syscall it allows whatever the arguments
    /// and serves those from a bitmap without running the program. Every
    /// host runtime call and every unconditional rule is such a syscall (see
    /// the test below); only argument conditions (the rare `socket`) run
    /// the program. The tree makes installing cheap: the kernel runs the
    /// program once per syscall number to build that bitmap. What remains,
    /// about 30 ns per syscall measured, is the kernel's fixed cost of a
    /// seccomp-enabled syscall entry.
    pub fn bpf(&self) -> Result<BpfProgram, Error> {
        use crate::seccomp_tree::{Leaf, program};
        let mut leaves = Vec::new();
        for entry in &self.rules {
            let leaf = if entry.when == When::Always { Leaf::Matched } else { Leaf::Conditional };
            leaves.push((number(entry)? as u32, leaf));
        }
        let conditional = self.seccompiler_rules(false)?;
        let conditional = if conditional.is_empty() { Vec::new() } else { self.seccompiler_program(conditional)? };
        let (matched, mismatch) = (u32::from(seccomp_action(self.matched)), u32::from(seccomp_action(self.mismatch)));
        // x32 syscalls get whichever action refuses.
        let refuse = if matches!(self.matched, Action::Allow | Action::Log) { mismatch } else { matched };
        Ok(program(&leaves, matched, mismatch, refuse, &conditional))
    }

    /// seccompiler's own program for the whole filter: one linear chain
    /// (the reference the tree is tested against).
    pub fn linear_bpf(&self) -> Result<BpfProgram, Error> {
        self.seccompiler_program(self.seccompiler_rules(true)?)
    }

    /// The filter in seccompiler's JSON format, as one filter named `main`.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let action = |a: Action| match a {
            Action::Allow => json!("allow"),
            Action::Log => json!("log"),
            Action::Errno(e) => json!({ "errno": e }),
            Action::KillProcess => json!("kill_process"),
        };
        let op = |c: &Cond| match c.op {
            Op::Eq => json!("eq"),
            Op::Ne => json!("ne"),
            Op::Lt => json!("lt"),
            Op::Le => json!("le"),
            Op::Gt => json!("gt"),
            Op::Ge => json!("ge"),
            Op::MaskedEq => json!({ "masked_eq": c.mask }),
        };
        let mut filter = Vec::new();
        for entry in &self.rules {
            let name = entry.name();
            let When::Under(alternatives) = &entry.when else {
                filter.push(json!({ "syscall": name }));
                continue;
            };
            for alt in alternatives {
                let args: Vec<_> = alt
                    .iter()
                    .map(|c| json!({ "index": c.index, "type": "qword", "op": op(c), "val": c.value }))
                    .collect();
                filter.push(json!({ "syscall": name, "args": args }));
            }
        }
        json!({ "main": {
            "mismatch_action": action(self.mismatch),
            "filter_action": action(self.matched),
            "filter": filter,
        }})
    }

    /// Installs the filter on every thread of this process (TSYNC).
    pub fn install(&self) -> Result<(), Error> {
        seccompiler::apply_filter_all_threads(&self.bpf()?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Derivation finds the host's calls by name in the specification's
    /// table; one missing there would be left out of the filter.
    #[test]
    fn every_host_call_is_a_known_syscall() {
        for (name, _) in HOST_RUNTIME.iter().chain(HOST_EXEC) {
            assert!(syscalls::number(name).is_some(), "{name}");
        }
    }

    /// The tree program decides every syscall as seccompiler's linear one,
    /// with and without argument conditions, and refuses x32 numbers.
    #[test]
    fn the_search_tree_decides_as_the_linear_chain() {
        use crate::seccomp_tree::run;
        const ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
        let ctx = crate::Context { cwd: "/".into(), extra_grants: Vec::new() };
        let conditional = r#"{"version": 1, "extends": "strict", "rules": [
            {"id": "unix", "syscalls": ["socket"], "args": [{"index": 0, "op": "eq", "value": 1}], "action": "allow"},
            {"id": "small", "syscalls": ["kill"], "args": [{"index": 1, "op": "lt", "value": 16}], "action": "allow"},
            {"id": "bits", "syscalls": ["openat"], "args": [{"index": 2, "op": "masked_eq", "value": 0, "mask": 3}],
             "action": "allow"}]}"#;
        let mut policies: Vec<Policy> =
            crate::profiles::NAMES.iter().map(|p| crate::load(p, &ctx).unwrap().policy).collect();
        policies.push(crate::load_str("conditional", conditional, &ctx).unwrap().policy);
        let args = [[0u64; 6], [1, 15, 3, 0, 0, 0], [2, 16, 4, 1 << 33, 0, 0], [u64::MAX; 6], [1, 9, 0o101, 0, 0, 0]];
        for policy in &policies {
            let Some(plan) = derive(policy, |_| Reaches::Direct { scalar: 0x3f }, true) else { continue };
            let (tree, linear) = (plan.bpf().unwrap(), plan.linear_bpf().unwrap());
            assert!(tree.len() < linear.len() + 64, "{}: {} vs {}", policy.name, tree.len(), linear.len());
            for nr in 0..=470 {
                for a in args {
                    assert_eq!(run(&tree, ARCH, nr, a), run(&linear, ARCH, nr, a), "{} nr {nr} {a:x?}", policy.name);
                }
            }
            let refuse =
                u32::from(seccomp_action(if plan.matched == Action::Allow { plan.mismatch } else { plan.matched }));
            assert_eq!(run(&tree, ARCH, 0x4000_0000 | 1, [0; 6]), refuse, "{}: x32", policy.name);
            assert_eq!(run(&tree, 3, 39, [0; 6]), libc::SECCOMP_RET_KILL_PROCESS, "{}: i386", policy.name);
        }
    }

    /// The host's own hot calls (futex, mmap, write, clock_gettime...) and
    /// what the default profile allows unconditionally stay unconditional in
    /// every profile's filter, so the kernel's allow cache serves them.
    #[test]
    fn hot_calls_match_without_conditions() {
        let ctx = crate::Context { cwd: "/".into(), extra_grants: Vec::new() };
        for profile in crate::profiles::NAMES {
            let policy = crate::load(profile, &ctx).unwrap_or_else(|e| panic!("{profile}: {e:?}")).policy;
            let Some(plan) = derive(&policy, |_| Reaches::Direct { scalar: 0x3f }, true) else { continue };
            let unconditional = |name: &str| plan.get(name) == Some(&When::Always);
            if plan.matched == Action::Allow {
                for (name, _) in HOST_RUNTIME {
                    assert!(unconditional(name), "{profile}: {name}");
                }
            } else {
                // A deny-list: what it lists is refused, everything else passes.
                assert!(HOST_RUNTIME.iter().all(|(name, _)| plan.get(name).is_none()), "{profile}");
            }
        }
        let default = crate::load("default", &ctx).unwrap().policy;
        let plan = derive(&default, |_| Reaches::Direct { scalar: 0x3f }, true).unwrap();
        for name in ["read", "write", "readv", "writev", "close", "clock_gettime", "futex", "getpid", "lseek"] {
            assert_eq!(plan.get(name), Some(&When::Always), "{name}");
        }
    }

    /// A guest that cannot call execve (its module does not import it) gets
    /// neither execve nor what a fresh waligate needs to start, though the
    /// policy allows execve; its other calls are as before.
    #[test]
    fn a_guest_without_execve_gets_no_exec_calls() {
        let ctx = crate::Context { cwd: "/".into(), extra_grants: Vec::new() };
        let default = crate::load("default", &ctx).unwrap().policy;
        assert!(may_execve(&default, true) && !may_execve(&default, false));
        let direct = |_: usize| Reaches::Direct { scalar: 0x3f };
        let (can, cannot) = (derive(&default, direct, true).unwrap(), derive(&default, direct, false).unwrap());
        assert!(can.get("execve").is_some() && cannot.get("execve").is_none());
        // Host start-up calls the default profile does not allow the guest.
        let start_up: Vec<&str> = HOST_EXEC
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| allowed_when(&default, syscalls::index(n).unwrap()).is_none())
            .collect();
        assert!(!start_up.is_empty());
        for name in &start_up {
            assert!(can.get(name).is_some() && cannot.get(name).is_none(), "{name}");
        }
        let others = |plan: &Plan| -> Vec<&str> {
            plan.rules.iter().map(Entry::name).filter(|n| *n != "execve" && !start_up.contains(n)).collect()
        };
        assert_eq!(others(&can), others(&cannot));
    }
}
