//! The Landlock backstop: the policy's `fs` grants as a Landlock ruleset on
//! the host process, so that file access outside the grants fails in the
//! kernel too. Best effort across ABI versions: what the kernel cannot
//! enforce is reported, not fatal.

use crate::access::{CREATE, EXEC, READ, WRITE, perm_names};
use crate::engine::Policy;
use landlock::{
    ABI, Access, AccessFs, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};
use std::path::PathBuf;

/// The newest ABI whose rights are requested; older kernels get what they
/// support.
const TARGET: ABI = ABI::V5;

/// One rule: a path and the policy access granted beneath it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub path: PathBuf,
    pub perms: u8,
}

/// The rights the ruleset handles: every file-system right except device
/// ioctls, which the engine governs per descriptor.
fn handled() -> BitFlags<AccessFs> {
    AccessFs::from_all(TARGET) & !AccessFs::IoctlDev
}

/// Landlock rights standing for policy access bits.
pub fn rights(perms: u8) -> BitFlags<AccessFs> {
    let mut r = BitFlags::empty();
    if perms & READ != 0 {
        r |= AccessFs::ReadFile | AccessFs::ReadDir;
    }
    if perms & WRITE != 0 {
        r |= AccessFs::WriteFile | AccessFs::Truncate;
    }
    if perms & CREATE != 0 {
        r |= AccessFs::MakeReg
            | AccessFs::MakeDir
            | AccessFs::MakeSym
            | AccessFs::MakeFifo
            | AccessFs::MakeSock
            | AccessFs::MakeChar
            | AccessFs::MakeBlock
            | AccessFs::RemoveFile
            | AccessFs::RemoveDir
            | AccessFs::Refer;
    }
    if perms & EXEC != 0 {
        r |= AccessFs::Execute;
    }
    r & handled()
}

/// The ruleset for `policy` plus what the host itself must still reach
/// (`host`); `None` when the policy does not confine paths. `reach`: the
/// only trees (canonical paths) the guest can name at all, when that is
/// known (a WASI application's preopens: its shim resolves every path
/// beneath one); the grants are narrowed to them.
pub fn derive(policy: &Policy, host: &[Rule], reach: Option<&[PathBuf]>) -> Option<Vec<Rule>> {
    let grants = policy.fs.as_ref()?;
    let rules = grants.iter().map(|g| Rule { path: g.root.clone(), perms: g.perms }).collect();
    let mut rules = uncovered(match reach {
        Some(roots) => within(rules, roots),
        None => rules,
    });
    rules.extend(host.iter().cloned());
    Some(rules)
}

/// `rules` narrowed to the trees at `roots`: a rule above a root becomes
/// that root with the rule's access, a rule at or beneath one stays, any
/// other goes. Beneath the roots Landlock then allows exactly what it did
/// (the access a rule gives reaches down to every path beneath it); outside
/// them, nothing.
fn within(rules: Vec<Rule>, roots: &[PathBuf]) -> Vec<Rule> {
    let mut narrowed = Vec::new();
    for rule in rules {
        for root in roots {
            if root.starts_with(&rule.path) {
                narrowed.push(Rule { path: root.clone(), perms: rule.perms });
            } else if rule.path.starts_with(root) {
                narrowed.push(rule.clone());
            }
        }
    }
    narrowed
}

/// `rules` without those another one covers: at or beneath its path, with
/// no access it lacks (Landlock allows what a rule on any ancestor allows),
/// keeping the first of equal rules. Each rule costs several syscalls at
/// every start, and a `--dir` beneath the working directory or /tmp is
/// common. Only for grant roots, whose symlinks are resolved: a covered
/// path is then really beneath, and dropping a rule can only take access
/// away, never add it.
fn uncovered(rules: Vec<Rule>) -> Vec<Rule> {
    let covers = |a: &Rule, b: &Rule| b.path.starts_with(&a.path) && b.perms & !a.perms == 0;
    let kept = |i: usize| {
        !rules
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && covers(other, &rules[i]) && (j < i || !covers(&rules[i], other)))
    };
    (0..rules.len()).filter(|&i| kept(i)).map(|i| rules[i].clone()).collect()
}

/// The ruleset as `waligate policy landlock` prints it.
pub fn describe(rules: &[Rule]) -> String {
    let mut out = String::from("handled: every file-system right (ABI up to 5) except ioctl on devices\n");
    for r in rules {
        out += &format!("allow {} beneath {}\n", perm_names(r.perms), r.path.display());
    }
    out
}

fn is_dir(fd: &PathFd) -> bool {
    use std::os::fd::{AsFd, AsRawFd};
    // SAFETY: fstat of a descriptor we hold into a zeroed struct stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd.as_fd().as_raw_fd(), &mut st) } == 0) && st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// How much of the ruleset the running kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforced {
    Fully,
    Partially,
    /// The kernel has no Landlock (or it is disabled).
    Not,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot apply the Landlock ruleset: {0}")]
pub struct Error(#[from] landlock::RulesetError);

/// Restricts this thread and the threads it starts from now on. Grants
/// whose path does not exist are skipped: nothing can be reached there.
pub fn apply(rules: &[Rule]) -> Result<Enforced, Error> {
    let mut ruleset = Ruleset::default().handle_access(handled())?.create()?;
    for rule in rules {
        let Ok(fd) = PathFd::new(&rule.path) else { continue };
        let mut access = rights(rule.perms);
        // A rule on a file may only carry the rights that apply to files
        // (asked of the descriptor: the path could have changed since).
        if !is_dir(&fd) {
            access &= AccessFs::from_file(TARGET);
        }
        if !access.is_empty() {
            ruleset = ruleset.add_rule(PathBeneath::new(fd, access))?;
        }
    }
    let status = ruleset.restrict_self()?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Enforced::Fully,
        RulesetStatus::PartiallyEnforced => Enforced::Partially,
        RulesetStatus::NotEnforced => Enforced::Not,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, perms: u8) -> Rule {
        Rule { path: PathBuf::from(path), perms }
    }

    /// A WASI application's rules: each grant's tree cut down to the
    /// preopens, with the grant's access.
    #[test]
    fn rules_are_narrowed_to_what_the_guest_can_reach() {
        let rw = READ | WRITE | CREATE;
        let rules = vec![
            rule("/tmp", rw),                // above the preopen: becomes it
            rule("/work", rw),               // the preopen itself
            rule("/work/bin", READ | EXEC),  // beneath it: stays
            rule("/dev/null", READ | WRITE), // elsewhere: goes
            rule("/srv", READ),              // elsewhere: goes
            rule("/tmpfoo", READ),           // not above /tmp/data (by components)
        ];
        let roots = [PathBuf::from("/tmp/data"), PathBuf::from("/work")];
        let kept: Vec<(String, u8)> =
            within(rules, &roots).into_iter().map(|r| (r.path.display().to_string(), r.perms)).collect();
        let expected = [("/tmp/data", rw), ("/work", rw), ("/work/bin", READ | EXEC)];
        assert_eq!(kept, expected.map(|(p, perms)| (p.to_string(), perms)));
    }

    #[test]
    fn rules_another_covers_are_dropped() {
        let rw = READ | WRITE | CREATE;
        let rules = vec![
            rule("/srv/data", rw), // beneath a later rule: dropped
            rule("/srv", rw),
            rule("/work", rw),
            rule("/tmp", rw),
            rule("/tmp/scratch", rw),      // beneath /tmp, nothing more: dropped
            rule("/tmp/bin", READ | EXEC), // beneath /tmp, but EXEC is more: kept
            rule("/tmpx", READ),           // not beneath /tmp (by components): kept
            rule("/work", READ),           // /work read-write covers it: dropped
            rule("/dev/null", READ | WRITE),
            rule("/dev/null", READ | WRITE), // equal to an earlier rule: dropped
        ];
        let kept: Vec<(String, u8)> =
            uncovered(rules).into_iter().map(|r| (r.path.display().to_string(), r.perms)).collect();
        let expected = [
            ("/srv", rw),
            ("/work", rw),
            ("/tmp", rw),
            ("/tmp/bin", READ | EXEC),
            ("/tmpx", READ),
            ("/dev/null", READ | WRITE),
        ];
        assert_eq!(kept, expected.map(|(p, perms)| (p.to_string(), perms)));
    }
}
