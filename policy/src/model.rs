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
