//! The policy file as written: serde types with no behaviour. See
//! `docs/policy.md` for the language.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Format version; must be 1.
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A built-in profile whose settings and rules this file starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// What happens to a call no rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Directory grants. Absent: paths are not confined. Present: every path
    /// a call names must lie under a grant with the access it needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs: Option<Vec<FsGrant>>,
    /// Network grants. Absent: addresses are not confined. Present: every
    /// connect/bind/sendto address must match a grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<Vec<NetGrant>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Ids of rules of the extended profile to drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_rules: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
    /// The kernel backstop installed on the host process before the guest
    /// runs. Absent fields keep the extended profile's (on by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostSpec>,
    /// Resource limits; exceeding one ends the guest (status 137) with a
    /// `limit` audit event. Absent fields keep the extended profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
}

/// Resource limits on a guest (absent: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory, in bytes (its maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Wall-clock time from start, in milliseconds (across fork and execve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_ms: Option<u64>,
    /// CPU time of each process, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_time_ms: Option<u64>,
    /// Open descriptors: the guest's descriptor range is 0..open_files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_files: Option<u64>,
    /// Live threads of a process, the main one included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Live processes of the guest's tree, the first one included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// Largest file size the guest may write, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size_bytes: Option<u64>,
}

impl Limits {
    /// The limit names, as in the policy file and `--limit NAME=VALUE`.
    pub const NAMES: &[&str] =
        &["memory_bytes", "wall_time_ms", "cpu_time_ms", "open_files", "threads", "processes", "file_size_bytes"];

    fn field(&mut self, name: &str) -> Option<&mut Option<u64>> {
        Some(match name {
            "memory_bytes" => &mut self.memory_bytes,
            "wall_time_ms" => &mut self.wall_time_ms,
            "cpu_time_ms" => &mut self.cpu_time_ms,
            "open_files" => &mut self.open_files,
            "threads" => &mut self.threads,
            "processes" => &mut self.processes,
            "file_size_bytes" => &mut self.file_size_bytes,
            _ => return None,
        })
    }

    /// Sets limit `name`; false for an unknown name.
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        self.field(name).map(|f| *f = Some(value)).is_some()
    }

    /// Each limit from `self`, else from `base`.
    pub fn or(self, base: Limits) -> Limits {
        Limits {
            memory_bytes: self.memory_bytes.or(base.memory_bytes),
            wall_time_ms: self.wall_time_ms.or(base.wall_time_ms),
            cpu_time_ms: self.cpu_time_ms.or(base.cpu_time_ms),
            open_files: self.open_files.or(base.open_files),
            threads: self.threads.or(base.threads),
            processes: self.processes.or(base.processes),
            file_size_bytes: self.file_size_bytes.or(base.file_size_bytes),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Install a seccomp filter derived from the rules (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<bool>,
    /// What the filter does to a syscall the policy never allows: `errno`
    /// (the policy's default errno, EPERM if none) or `kill` (the whole
    /// process). Default `errno`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_action: Option<SeccompAction>,
    /// Apply a Landlock ruleset derived from the `fs` grants (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landlock: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeccompAction {
    Errno,
    Kill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Errno,
    Kill,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Decisions are carried out.
    Enforce,
    /// Denials are recorded but the call is allowed.
    Audit,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Syscall names and `@group`s.
    pub syscalls: Vec<String>,
    /// Conditions on scalar arguments; all must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgCondition>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The rule applies to its first `max` matching calls; later ones are
    /// denied with EAGAIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgCondition {
    /// Argument position, 0 to 5.
    pub index: u8,
    pub op: Op,
    pub value: Scalar,
    /// For `masked_eq`: `(arg & mask) == value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<Scalar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    MaskedEq,
}

/// A number or a symbolic value such as `"O_WRONLY|O_CREAT"`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    Number(i64),
    Symbol(String),
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub max: u64,
    /// What the calls past the budget get: `errno` (`EAGAIN`, the default)
    /// or `kill` (the guest ends, as at a resource limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceeded: Option<RateExceeded>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RateExceeded {
    Errno,
    Kill,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FsGrant {
    /// An absolute directory or file; `$CWD` stands for the working directory.
    pub path: String,
    pub access: Access,
}

/// `"read"`, `"read-write"`, or a list of `read`, `write`, `create`, `exec`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Access {
    Word(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetGrant {
    /// `HOST:PORT` (`*` for any host or port, IPv6 in brackets) or `unix:PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    pub events: AuditEvents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditEvents {
    /// Denials, kills, `log` rules and audit-mode would-denials.
    Decisions,
    /// Every call.
    All,
}

/// The JSON Schema of policy files, for editors.
pub fn schema() -> String {
    let mut s = serde_json::to_string_pretty(&schemars::schema_for!(PolicyFile)).unwrap_or_default();
    s.push('\n');
    s
}
