//! The policy engine as wali-core's gate: translates a decoded call into a
//! policy request, carries the decision out, and tells the user once per
//! kind of denial what would allow it.

use crate::audit::Event;
use policy::access::perm_names;
use policy::{By, Decision, Effect, PathAccess, Policy, Request};
use std::collections::HashSet;
use std::sync::Mutex;
use wali_core::decode::Call;
use wali_core::table::{self, Arg, SYSCALLS, Syscall};
use wali_core::{Gate, Layer, Ruling, Verdict};

pub struct PolicyGate {
    policy: Policy,
    audit: crate::audit::Audit,
    /// wali-core table position -> policy syscall index.
    index: Vec<usize>,
    /// Denials already explained (syscall, decider).
    explained: Mutex<HashSet<(&'static str, String)>>,
}

impl PolicyGate {
    pub fn new(policy: Policy, audit: crate::audit::Audit) -> Self {
        // Both tables follow the specification's rows, so the same position
        // is normally the same syscall: a name comparison instead of a
        // lookup for each of the ~360 rows.
        let names = policy::syscalls::names();
        let index = SYSCALLS
            .iter()
            .enumerate()
            .map(|(i, s)| match names.get(i) {
                Some(&n) if n == s.name => i,
                _ => policy::syscalls::index(s.name).unwrap_or(usize::MAX),
            })
            .collect();
        PolicyGate { policy, audit, index, explained: Mutex::new(HashSet::new()) }
    }

    pub fn audit(&self) -> &crate::audit::Audit {
        &self.audit
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The policy's index of a wali-core table row.
    fn policy_index(&self, sys: &Syscall) -> usize {
        table::position(sys).map_or(usize::MAX, |i| self.index[i])
    }

    /// Allowed whatever the arguments, and not recorded.
    fn unrecorded_allow(&self, sys: usize) -> bool {
        self.policy.allows_unconditionally(sys) && !self.audit.records_all()
    }

    fn request<'a>(&self, sys: usize, call: &'a Call<'_>) -> Request<'a> {
        // Scalars as the kernel reads them: 32-bit unsigned ones zero-extended.
        let args = std::array::from_fn(|i| match call.sys.args.get(i) {
            Some(Arg::UInt) => call.raw[i] as u32 as u64,
            _ => call.raw[i] as u64,
        });
        let wasm_target = call.sys.name == "execve" && call.path(0).is_some_and(wali_core::emu::process::is_wasm);
        Request { sys, args, copied: std::array::from_fn(|i| call.copied(i)), wasm_target }
    }

    /// Says, once per syscall and decider, why a call was refused and what
    /// would allow it.
    fn explain(&self, call: &Call<'_>, req: &Request<'_>, d: &Decision) {
        let name = call.sys.name;
        let key = (name, self.policy.by_name(d.by));
        if !self.explained.lock().is_ok_and(|mut seen| seen.insert(key)) {
            return;
        }
        let policy = &self.policy.name;
        let (what, fix) = match d.by {
            By::Fs { need, .. } => {
                let path = self.policy.denied_path(req, d.by).unwrap_or_default();
                let dir = if path.is_dir() { path.as_path() } else { path.parent().unwrap_or(&path) };
                let fix = if !dir.is_absolute() {
                    // Relative to a directory descriptor that names nothing.
                    "no grant: the path's directory descriptor is not open".into()
                } else if need & policy::access::EXEC != 0 {
                    format!("a policy fs grant with exec access to {} would allow it", dir.display())
                } else {
                    format!("--dir {} would allow it", dir.display())
                };
                (format!("{} access to {} is outside the fs grants", perm_names(need), path.display()), fix)
            }
            By::Net { arg } => {
                let addr = req.copied[arg as usize]
                    .and_then(policy::net::SockAddr::decode)
                    .map_or_else(|| "?".to_string(), |a| a.to_string());
                (
                    format!("address {addr} matches no net grant"),
                    format!("a policy net grant for {addr} would allow it"),
                )
            }
            By::Rule(r) => {
                let id = self.policy.rule_id(r);
                (
                    format!("rule {id:?} refuses it"),
                    format!("a policy that extends {policy:?} with \"remove_rules\": [{id:?}] would allow it"),
                )
            }
            By::Fd { arg, need } => (
                format!(
                    "descriptor {} was opened where the fs grants do not give {} access",
                    req.args[arg as usize] as i32,
                    perm_names(need)
                ),
                "a grant with that access where the file lives would allow it".into(),
            ),
            By::Rate(r) => (
                format!("rule {:?} has used its rate budget", self.policy.rule_id(r)),
                "a larger \"rate\" would allow more".into(),
            ),
            By::Default => (
                "no rule allows it".into(),
                format!("a rule {{\"syscalls\": [{name:?}], \"action\": \"allow\"}} would allow it"),
            ),
        };
        let outcome = if d.effect == Effect::Kill { "kills the guest on" } else { "denied" };
        eprintln!("waligate: policy {policy:?} {outcome} {name}: {what}; {fix}");
    }
}

thread_local! {
    /// The paths of the call being decided on this thread, resolved once in
    /// `decide` and used again by `record` (the same call, on the same thread).
    static RESOLVED: std::cell::RefCell<Vec<PathAccess>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Gate for PolicyGate {
    fn unconditional(&self, sys: &'static Syscall) -> bool {
        self.unrecorded_allow(self.policy_index(sys))
    }

    fn decide(&self, call: &Call<'_>) -> Ruling {
        let sys = self.policy_index(call.sys);
        if self.unrecorded_allow(sys) {
            return Ruling::ALLOW;
        }
        let req = self.request(sys, call);
        let needs_paths = self.policy.confines_paths() || self.audit.active();
        let paths = if needs_paths { self.policy.resolve(&req) } else { Vec::new() };
        let d = self.policy.decide_resolved(&req, &paths);
        // Explain only what is carried out: audit mode stays quiet.
        if d.enforced().denies() {
            self.explain(call, &req, &d);
        }
        let verdict = match d.enforced() {
            Effect::Allow | Effect::Log => Verdict::Allow,
            Effect::Deny(errno) => Verdict::Deny(errno),
            Effect::Kill => Verdict::Kill,
        };
        // Whatever the verdict: bookkeeping for a refused call is harmless.
        self.policy.before(&req);
        let audited = self.audit.wants(&d);
        let record = audited || self.policy.observes(sys);
        if record {
            RESOLVED.with(|r| *r.borrow_mut() = paths);
        }
        Ruling { verdict, note: d.pack(), record, attribute: audited }
    }

    fn limit(&self, name: &str, detail: &str) {
        self.audit.limit(name, detail);
    }

    fn flush(&self) {
        self.audit.flush();
    }

    fn record(&self, call: &Call<'_>, ruling: Ruling, ret: i64, dur_ns: u64, layer: Layer) {
        let sys = self.policy_index(call.sys);
        let paths = RESOLVED.with(|r| std::mem::take(&mut *r.borrow_mut()));
        if self.policy.observes(sys) {
            self.policy.observe(&self.request(sys, call), ret, &paths);
        }
        let decision = Decision::unpack(ruling.note);
        if self.audit.wants(&decision) {
            self.audit.syscall(&self.policy, &Event { call, decision, ret, dur_ns, paths: &paths, layer });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PolicyGate::new` maps rows by position when the names agree (a
    /// lookup covers any row where they do not): only speed depends on it.
    #[test]
    fn wali_core_rows_and_policy_syscalls_share_the_specifications_order() {
        let names = policy::syscalls::names();
        assert_eq!(SYSCALLS.len(), names.len());
        for (row, name) in SYSCALLS.iter().zip(names) {
            assert_eq!(row.name, *name);
        }
    }
}
