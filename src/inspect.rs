//! `waligate inspect`: what a module is and what it can ask for. A WALI
//! module can only call the syscalls it imports, so its imports are an
//! upper bound for its policy.

use anyhow::{Context, Result};
use policy::model::{Action, PolicyFile, Rule, Verdict};
use std::collections::BTreeSet;
use std::fmt::Write;

pub struct Report {
    pub interface: &'static str,
    /// Syscalls the imports name (known to the policy language).
    pub syscalls: Vec<String>,
    /// Other imports: auxiliary WALI calls, WASI functions, unknown names.
    pub other: Vec<String>,
}

pub fn inspect(wasm: &[u8]) -> Result<Report> {
    let wasm = wat::parse_bytes(wasm).context("not a WebAssembly module")?;
    let mut modules = BTreeSet::new();
    let mut syscalls = BTreeSet::new();
    let mut other = BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::ImportSection(reader) = payload.context("malformed module")? {
            for import in reader.into_imports() {
                let import = import.context("malformed import section")?;
                modules.insert(import.module.to_string());
                match import.name.strip_prefix("SYS_") {
                    Some(s) if import.module == "wali" && policy::syscalls::index(s).is_some() => {
                        syscalls.insert(s.to_string());
                    }
                    _ => {
                        other.insert(format!("{}.{}", import.module, import.name));
                    }
                }
            }
        }
    }
    let interface = match (modules.contains("wali"), modules.contains("wasi_snapshot_preview1")) {
        (true, false) => "WALI",
        (false, true) => "WASI preview1",
        (true, true) => "mixed WALI and WASI (not runnable)",
        (false, false) => "none (imports neither wali nor wasi_snapshot_preview1)",
    };
    Ok(Report { interface, syscalls: syscalls.into_iter().collect(), other: other.into_iter().collect() })
}

impl Report {
    /// A starting policy: the default profile's confinement, allowing only
    /// the imported syscalls.
    pub fn suggested_policy(&self) -> PolicyFile {
        PolicyFile {
            version: 1,
            name: Some("suggested".into()),
            description: Some(
                "Allows exactly the syscalls the module imports; files and network as in the default profile.".into(),
            ),
            extends: None,
            default: Some(Verdict { action: Action::Errno, errno: Some("EPERM".into()) }),
            mode: None,
            fs: Some(vec![policy::model::FsGrant {
                path: "$CWD".into(),
                access: policy::model::Access::Word("read-write".into()),
            }]),
            net: Some(Vec::new()),
            rules: vec![Rule {
                id: "imports".into(),
                comment: Some("every syscall the module can call".into()),
                syscalls: self.syscalls.clone(),
                args: Vec::new(),
                action: Action::Allow,
                errno: None,
                mode: None,
                rate: None,
            }],
            remove_rules: Vec::new(),
            audit: None,
            host: None,
            limits: None,
        }
    }

    pub fn render(&self) -> Result<String> {
        let mut out = String::new();
        writeln!(out, "interface: {}", self.interface)?;
        writeln!(out, "syscalls ({}): {}", self.syscalls.len(), self.syscalls.join(" "))?;
        if !self.other.is_empty() {
            writeln!(out, "other imports ({}): {}", self.other.len(), self.other.join(" "))?;
        }
        writeln!(out, "suggested policy:\n{}", serde_json::to_string_pretty(&self.suggested_policy())?)?;
        Ok(out)
    }
}
