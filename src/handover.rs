//! What a guest's execve of a `.wasm` hands the waligate it starts, so the
//! new program runs under the same policy with the same audit trail: the
//! policy's text and the context its `$CWD` was resolved in, the granted
//! directories, the audit log's open descriptor and level, and the
//! backstop and cache switches. It travels in the new process's host
//! environment (`WALIGATE_HANDOVER`, see `wali_core::process::ExecHandover`),
//! which the guest can neither change on the way nor read.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::os::fd::RawFd;
use std::path::PathBuf;

/// A policy as loaded: loading it again gives the same policy.
#[derive(Clone, Serialize, Deserialize)]
pub struct PolicySource {
    /// The name problems are reported under (file path or `<profile X>`).
    pub name: String,
    pub text: String,
    /// The working directory `$CWD` grants were resolved against.
    pub cwd: PathBuf,
}

#[derive(Serialize, Deserialize)]
pub struct Handover {
    /// `None`: the run had no gate (`--policy none`).
    pub policy: Option<PolicySource>,
    /// `--dir` arguments, host paths canonical.
    pub dirs: Vec<String>,
    pub audit_fd: Option<RawFd>,
    pub audit_all: bool,
    pub strace: bool,
    pub seccomp: bool,
    pub landlock: bool,
    pub cache: bool,
    /// The limits in force (the policy's, overridden by `--limit`).
    pub limits: policy::model::Limits,
}

impl Handover {
    /// For `wali_core::RunOptions::exec_handover`.
    pub fn encode(&self) -> wali_core::process::ExecHandover {
        wali_core::process::ExecHandover {
            state: serde_json::to_vec(self).unwrap_or_default(),
            fds: self.audit_fd.into_iter().collect(),
        }
    }

    /// The handover the previous waligate left in the environment.
    pub fn read() -> Result<Handover> {
        let var = wali_core::emu::process::HANDOVER_VAR;
        let text = std::env::var(var).with_context(|| format!("--handover without {var}"))?;
        serde_json::from_str(&text).with_context(|| format!("malformed {var}"))
    }
}
