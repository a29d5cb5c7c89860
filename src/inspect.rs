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

/// The interface the module in `path` asks for, as [`interface`] tells it,
/// reading the binary only up to its import section (the start-up path;
/// wali-core reads and checks the whole module next). A text module is
/// read whole.
pub fn interface_of_file(path: &std::path::Path) -> std::io::Result<wali_core::wasi::Interface> {
    use std::io::Read;
    use wali_core::wasi::Interface;
    use wasmparser::{Chunk, Payload};
    let mut file = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(16 << 10);
    let mut parser = wasmparser::Parser::new(0);
    let mut eof = false;
    let mut at = 0;
    loop {
        match parser.parse(&buf[at..], eof) {
            Ok(Chunk::NeedMoreData(hint)) if !eof => {
                let want = (hint as usize).max(16 << 10);
                let start = buf.len();
                buf.resize(start + want, 0);
                let n = file.read(&mut buf[start..])?;
                buf.truncate(start + n);
                eof = n == 0;
            }
            Ok(Chunk::Parsed { consumed, payload }) => {
                at += consumed;
                let modules: BTreeSet<&str> = match payload {
                    Payload::Version { .. } | Payload::TypeSection(_) | Payload::CustomSection(_) => continue,
                    Payload::ImportSection(reader) => {
                        reader.into_imports().filter_map(|i| i.ok().map(|i| i.module)).collect()
                    }
                    // Past where imports can be: there are none.
                    _ => BTreeSet::new(),
                };
                let wasi = modules.contains("wasi_snapshot_preview1") && !modules.contains("wali");
                return Ok(if wasi { Interface::Wasi } else { Interface::Wali });
            }
            // Not a binary module (or a malformed one): the whole file.
            _ => {
                let mut bytes = buf;
                file.read_to_end(&mut bytes)?;
                return Ok(interface(&bytes).unwrap_or(Interface::Wali));
            }
        }
    }
}

/// The interface a module's imports ask for (None: not a module).
pub fn interface(wasm: &[u8]) -> Option<wali_core::wasi::Interface> {
    let report = inspect(wasm).ok()?;
    Some(if report.interface.starts_with("WASI") {
        wali_core::wasi::Interface::Wasi
    } else {
        wali_core::wasi::Interface::Wali
    })
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
