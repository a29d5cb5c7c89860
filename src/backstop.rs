//! The kernel backstop of a run: the policy's seccomp filter and Landlock
//! ruleset, derived by the `policy` crate from how wali-core carries out
//! each guest syscall, installed before any Wasm runs (the WASI shim's
//! start-up included).

use crate::gate::PolicyGate;
use policy::landlock::{self, Enforced, Rule};
use policy::seccomp::{self, Plan, Reaches};
use std::path::PathBuf;
use wali_core::table::{self, Arg, Imp};

/// Emulated syscalls that reach the kernel as other host syscalls.
const EMULATED_AS: &[(&str, &[&str])] = &[
    ("fork", &["clone"]),
    ("vfork", &["clone"]),
    ("clone", &["clone"]),
    ("set_tid_address", &["gettid"]),
    ("sigaltstack", &[]),
    ("brk", &[]),
    ("mprotect", &[]),
    ("mmap", &["mmap", "fcntl"]),
    ("munmap", &["mmap"]),
    ("mremap", &["mremap", "mmap"]),
    ("execve", &["execve", "memfd_create", "pwrite64", "openat", "read", "close"]),
    ("exit", &["exit"]),
    ("getrlimit", &["prlimit64"]),
    ("setrlimit", &["prlimit64"]),
    ("prlimit64", &["prlimit64", "getpid"]),
    ("kill", &["kill", "getpgid", "getpgrp"]),
    ("tkill", &["tgkill", "getpid"]),
];

/// How wali-core carries out the guest syscall at index `sys` of the
/// policy's names (by position: both tables follow the specification's
/// rows, a name comparison confirming it).
pub fn reaches(sys: usize) -> Reaches {
    let Some(&name) = policy::syscalls::names().get(sys) else {
        return Reaches::Host(&[]);
    };
    let row = table::SYSCALLS.get(sys).filter(|row| row.name == name).or_else(|| table::lookup(name));
    let Some(row) = row else {
        return Reaches::Host(&[]);
    };
    match row.imp {
        Imp::Kernel => {
            let scalar = row
                .args
                .iter()
                .enumerate()
                .filter(|(_, a)| matches!(a, Arg::Int | Arg::UInt | Arg::Fd))
                .fold(0u8, |m, (i, _)| m | 1 << i);
            Reaches::Direct { scalar }
        }
        Imp::Emulated(_) => match EMULATED_AS.iter().find(|(n, _)| *n == name) {
            Some((_, calls)) => Reaches::Host(calls),
            None => Reaches::Host(std::slice::from_ref(&row.name)),
        },
        Imp::Nosys(_) => Reaches::Host(&[]),
    }
}

/// The filter for `policy`; `guest_execs`: whether the guest can call
/// execve at all (see [`seccomp::derive`]).
pub fn seccomp_plan(policy: &policy::Policy, guest_execs: bool) -> Option<Plan> {
    seccomp::derive(policy, reaches, guest_execs)
}

/// Files the host must still reach under Landlock: when the guest can and
/// may execve, a fresh waligate starts (its binary, the dynamic loader's
/// files, the module cache).
fn host_paths(policy: &policy::Policy, guest_execs: bool) -> Vec<Rule> {
    use policy::access::{CREATE, EXEC, READ, WRITE};
    if !seccomp::may_execve(policy, guest_execs) {
        return Vec::new();
    }
    // The kernel opens the ELF interpreter for execution too.
    let mut rules: Vec<Rule> = ["/lib", "/lib64", "/usr/lib", "/etc/ld.so.cache"]
        .iter()
        .map(|p| Rule { path: PathBuf::from(p), perms: READ | EXEC })
        .collect();
    // Opening the magic link reaches the binary without resolving its path
    // (a readlink of /proc/self/exe is a notable part of deriving this).
    rules.push(Rule { path: PathBuf::from("/proc/self/exe"), perms: READ | EXEC });
    if let Some(cache) = wali_core::cache::default_dir() {
        rules.push(Rule { path: cache, perms: READ | WRITE | CREATE });
    }
    rules
}

/// The Landlock ruleset for `policy`; `reach`: the trees the guest can
/// name at all, when known (see [`landlock::derive`]).
pub fn landlock_rules(policy: &policy::Policy, guest_execs: bool, reach: Option<&[PathBuf]>) -> Option<Vec<Rule>> {
    landlock::derive(policy, &host_paths(policy, guest_execs), reach)
}

/// Which layers a run turns off (`--no-seccomp`, `--no-landlock`).
pub struct Switches {
    pub seccomp: bool,
    pub landlock: bool,
}

/// Both layers of a run, derived from its policy before the guest starts.
pub struct Backstop {
    host: policy::model::HostSpec,
    landlock: Option<Vec<Rule>>,
    seccomp: Option<Plan>,
}

impl Backstop {
    /// `guest_execs`: whether the guest's module can call execve (imports
    /// it); without, nothing a fresh waligate needs is let through.
    /// `reach`: the only trees the guest can name (a WASI application's
    /// preopens), when known: Landlock then allows nothing elsewhere.
    pub fn derive(policy: &policy::Policy, guest_execs: bool, reach: Option<&[PathBuf]>) -> Backstop {
        Backstop {
            host: policy.source.host.clone().unwrap_or_default(),
            landlock: landlock_rules(policy, guest_execs, reach),
            seccomp: seccomp_plan(policy, guest_execs),
        }
    }

    /// Applies the Landlock ruleset, then the seccomp filter (which does
    /// not allow the Landlock syscalls), reporting each in the audit trail;
    /// a layer the user turned off is said loudly.
    /// With Landlock enforcing the fs grants, the engine may keep the paths
    /// of directory descriptors (see `policy::fds`).
    pub fn install(&self, switches: &Switches, gate: &PolicyGate) -> anyhow::Result<()> {
        let audit = gate.audit();
        if !switches.landlock {
            eprintln!("waligate: warning: Landlock disabled by --no-landlock");
            audit.backstop("landlock", "disabled", "--no-landlock");
        } else if self.host.landlock == Some(false) {
            audit.backstop("landlock", "disabled", "policy host.landlock is false");
        } else if let Some(rules) = &self.landlock {
            let state = match landlock::apply(rules)? {
                Enforced::Fully => "installed",
                Enforced::Partially => "partial",
                Enforced::Not => "unsupported",
            };
            // Every ABI version handles reading, writing and creating
            // beneath a rule, which is what a misplaced directory could
            // otherwise reach past.
            if state != "unsupported" {
                gate.policy().cache_dir_paths();
            }
            if state != "installed" {
                tracing::warn!("Landlock ruleset: {state} (the kernel lacks some or all of Landlock)");
            }
            audit.backstop("landlock", state, &format!("{} rules", rules.len()));
        } else {
            audit.backstop("landlock", "not needed", "the policy does not confine paths");
        }
        if !switches.seccomp {
            eprintln!("waligate: warning: seccomp filter disabled by --no-seccomp");
            audit.backstop("seccomp", "disabled", "--no-seccomp");
        } else if self.host.seccomp == Some(false) {
            audit.backstop("seccomp", "disabled", "policy host.seccomp is false");
        } else if let Some(plan) = &self.seccomp {
            plan.install()?;
            audit.backstop("seccomp", "installed", &format!("{} syscalls matched", plan.rules.len()));
        } else {
            audit.backstop("seccomp", "not needed", "the policy denies nothing by default");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// The seccomp derivation finds the host calls an emulation makes by
    /// name; one unknown would be left out of the filter.
    #[test]
    fn emulations_make_known_syscalls() {
        for (sys, name) in policy::syscalls::names().iter().enumerate() {
            if let policy::seccomp::Reaches::Host(calls) = super::reaches(sys) {
                for call in calls {
                    assert!(policy::syscalls::number(call).is_some(), "{name}: {call}");
                }
            }
        }
    }
}
