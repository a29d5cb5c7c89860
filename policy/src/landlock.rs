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
/// (`host`); `None` when the policy does not confine paths.
pub fn derive(policy: &Policy, host: &[Rule]) -> Option<Vec<Rule>> {
    let grants = policy.fs.as_ref()?;
    let mut rules: Vec<Rule> = grants.iter().map(|g| Rule { path: g.root.clone(), perms: g.perms }).collect();
    rules.extend(host.iter().cloned());
    Some(rules)
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
