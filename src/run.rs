//! `waligate run`: from the command line (or a guest execve's handover) to
//! a running guest under its policy, audit trail, limits and backstop.

use crate::audit::{Audit, Level};
use crate::cli::{load_policy_text, problems};
use crate::gate::PolicyGate;
use crate::handover::{Handover, PolicySource};
use anyhow::{Context, Result};
use clap::Args;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use wali_core::envfile::EnvFile;
use wali_core::module_file::ModuleFile;
use wali_core::wasi::{Interface, Preopen};
use wali_core::{Outcome, RunOptions};

#[derive(Args)]
pub struct RunArgs {
    /// Environment file for the guest: one KEY=VALUE per line.
    #[arg(long = "env-file", value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// Set a guest environment variable (after those of --env-file).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// The guest's argv[0], instead of MODULE (set by a guest's execve).
    #[arg(long, hide = true, value_name = "ARG")]
    argv0: Option<OsString>,
    /// Inherited fd holding environment entries, one per line (set by a
    /// guest's execve); read after --env-file, before --env.
    #[arg(long, hide = true, value_name = "FD")]
    env_fd: Option<i32>,
    /// Limit state a guest's execve carries over (see wali_core::limits).
    #[arg(long, hide = true, value_name = "MS")]
    carried_deadline_ms: Option<u64>,
    #[arg(long, hide = true, value_name = "FD")]
    carried_processes_fd: Option<i32>,
    /// Take the policy, audit trail and switches from the previous
    /// waligate's handover (set by a guest's execve) instead of options.
    #[arg(long, hide = true)]
    handover: bool,
    /// Policy file or built-in profile (default, strict, unrestricted), or
    /// `none` for no gate at all (for measuring the gate's own cost).
    #[arg(long, value_name = "FILE|PROFILE", default_value = "default")]
    policy: String,
    /// Grant the guest read-write access to a host directory (repeatable).
    /// A WASI application sees it preopened as GUEST (default: HOST); a
    /// WALI program sees host paths, so GUEST, if given, must equal HOST.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Run as this interface instead of detecting it from the imports.
    #[arg(long, value_name = "wali|wasi")]
    interface: Option<wali_core::wasi::Interface>,
    /// Write the audit trail to FILE: one JSON line per event.
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Which calls the audit trail records (default: the policy's
    /// "audit.events", else decisions).
    #[arg(long, value_name = "LEVEL")]
    audit_level: Option<crate::audit::Level>,
    /// Print every call on stderr as strace does.
    #[arg(long)]
    strace: bool,
    /// Do not install the seccomp filter derived from the policy (for
    /// debugging; said on stderr and in the audit trail).
    #[arg(long)]
    no_seccomp: bool,
    /// Do not apply the Landlock ruleset derived from the fs grants (for
    /// debugging; said on stderr and in the audit trail).
    #[arg(long)]
    no_landlock: bool,
    /// Set a resource limit, over the policy's (repeatable): memory_bytes,
    /// wall_time_ms, cpu_time_ms, open_files, threads, processes,
    /// file_size_bytes. Exceeding one ends the guest with status 137.
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
    /// Do not read or write the compiled-module cache.
    #[arg(long)]
    no_cache: bool,
    /// The module, then the guest's arguments, passed untouched.
    #[arg(value_name = "MODULE [ARGS]", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

/// The guest environment: the env file's non-empty lines, then `--env`.
fn environment(args: &RunArgs) -> Result<Vec<String>> {
    let mut env = Vec::new();
    if let Some(path) = &args.env_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read env file {}", path.display()))?;
        env.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    if let Some(fd) = args.env_fd {
        let text = read_inherited_fd(fd).context("--env-fd")?;
        env.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    // A WALI program's entries are checked again when its env file is
    // written (one entry per line); a WASI program's may hold newlines.
    for entry in &args.env {
        if entry.split_once('=').is_none_or(|(key, _)| key.is_empty()) {
            anyhow::bail!("invalid --env {entry:?}: expected KEY=VALUE");
        }
        env.push(entry.clone());
    }
    Ok(env)
}

/// Reads and closes a memfd an execve handed over.
fn read_inherited_fd(fd: i32) -> Result<String> {
    let taken = wali_core::fdspace::take(fd).map_err(|_| anyhow::anyhow!("{fd} is not an open file descriptor"))?;
    let mut file = std::fs::File::from(taken);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).with_context(|| format!("cannot read fd {fd}"))?;
    Ok(text)
}

/// The `--limit NAME=VALUE` arguments.
fn limit_args(args: &[String]) -> Result<policy::model::Limits> {
    let mut limits = policy::model::Limits::default();
    for arg in args {
        let known = arg.split_once('=').and_then(|(name, value)| Some((name, value.parse::<u64>().ok()?)));
        if !known.is_some_and(|(name, value)| limits.set(name, value)) {
            anyhow::bail!(
                "invalid --limit {arg:?}: expected NAME=VALUE with VALUE a whole number and NAME one of {}",
                policy::model::Limits::NAMES.join(", ")
            );
        }
    }
    Ok(limits)
}

/// The `--dir HOST[::GUEST]` arguments as preopens (host path canonical).
fn dir_args(dirs: &[String]) -> Result<Vec<Preopen>> {
    dirs.iter()
        .map(|d| {
            let (host, guest) = d.split_once("::").unwrap_or((d, d));
            let host = std::fs::canonicalize(host).with_context(|| format!("--dir {host}"))?;
            Ok(Preopen { guest: guest.to_string(), host })
        })
        .collect()
}

/// The WASI shim, built by build.rs.
pub static SHIM: wali_core::Embedded = wali_core::Embedded {
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/wasi_shim.wasm")),
    digest: include!(concat!(env!("OUT_DIR"), "/wasi_shim.digest.rs")),
};

/// The compiler program (compiler/), built by build.rs.
pub static COMPILER: wali_core::Embedded = wali_core::Embedded {
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/waligate-compile")),
    digest: include!(concat!(env!("OUT_DIR"), "/waligate-compile.digest.rs")),
};

pub fn run(mut args: RunArgs) -> Result<i32> {
    // Before the host opens anything: its descriptors go above the guest's.
    let inherited_fd_limit = wali_core::fdspace::prepare();
    let handover = if args.handover { Some(Handover::read()?) } else { None };
    let source = policy_source(&mut args, handover.as_ref())?;
    // The guest may not rewrite the policy it runs under.
    if let Some(meta) = source.as_ref().and_then(|s| std::fs::metadata(s.cwd.join(&s.name)).ok()) {
        wali_core::fdspace::protect(&meta);
    }
    let cache_dir = if args.no_cache { None } else { wali_core::cache::default_dir() };
    let stamps = cache_dir.as_deref().filter(|dir| wali_core::cache::is_private(dir));
    let module = ModuleFile::open(Path::new(&args.command[0]), stamps)?;
    let interface = args.interface.unwrap_or_else(|| module.interface());
    let entries = environment(&args)?;
    let preopens = dir_args(&args.dirs)?;
    let (env, wasi_env) = guest_environment(interface, entries, &preopens)?;
    let rw = policy::access::READ | policy::access::WRITE | policy::access::CREATE;
    let mut grants: Vec<(PathBuf, u8)> = preopens.iter().map(|p| (p.host.clone(), rw)).collect();
    if let Some(e) = &env {
        grants.push((PathBuf::from(std::ffi::OsStr::from_bytes(e.path.to_bytes())), policy::access::READ));
    }
    let policy = match &source {
        Some(src) => {
            let ctx = policy::Context { cwd: src.cwd.clone(), extra_grants: grants };
            Some(load_policy_text(&src.name, &src.text, &ctx)?)
        }
        None => None,
    };
    let limits = match &handover {
        Some(h) => h.limits,
        None => limit_args(&args.limits)?.or(policy.as_ref().and_then(|p| p.source.limits).unwrap_or_default()),
    };
    wali_core::fdspace::set_limit(limits.open_files.unwrap_or(inherited_fd_limit));
    // A guest starts another program only through an execve import (the
    // WASI shim has none: a test checks).
    let guest_execs = module.imports_execve();
    // The gate lives as long as the process: the guest's calls borrow it.
    let gated: Option<(&'static PolicyGate, crate::backstop::Backstop)> = match policy {
        None => None,
        Some(policy) => {
            // A WASI application names files only beneath its preopens (its
            // shim resolves every path there).
            let reach: Option<Vec<PathBuf>> =
                (interface == Interface::Wasi).then(|| preopens.iter().map(|p| p.host.clone()).collect());
            let backstop = crate::backstop::Backstop::derive(&policy, guest_execs, reach.as_deref());
            #[cfg(feature = "test-hooks")]
            let policy = test_hooks::engine_policy(policy);
            let guest_name = module.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let audit = open_audit(&args, handover.as_ref(), &policy, &guest_name)?;
            Some((Box::leak(Box::new(PolicyGate::new(policy, audit))), backstop))
        }
    };
    let policy_gate = gated.as_ref().map(|(g, _)| *g);
    let gate: &'static dyn wali_core::Gate = match policy_gate {
        Some(g) => g,
        None => &wali_core::AllowAll,
    };
    let exec_handover = Handover {
        policy: source,
        dirs: preopens.iter().map(|p| format!("{}::{}", p.host.display(), p.guest)).collect(),
        audit_fd: policy_gate.and_then(|g| g.audit().fd()),
        audit_all: policy_gate.is_some_and(|g| g.audit().level == Level::All),
        strace: policy_gate.is_some_and(|g| g.audit().strace),
        seccomp: !args.no_seccomp,
        landlock: !args.no_landlock,
        cache: !args.no_cache,
        limits,
    };
    let mut argv = args.command;
    if let Some(argv0) = args.argv0 {
        argv[0] = argv0;
    }
    let outcome = wali_core::run(RunOptions {
        module,
        argv,
        env,
        cache_dir,
        gate,
        shim: SHIM,
        compiler: COMPILER,
        interface: Some(interface),
        preopens,
        wasi_env,
        on_exit: Some(Box::leak(Box::new(move |outcome: &Outcome| report(outcome, policy_gate)))),
        before_guest: gated.map(|(g, backstop)| {
            let switches = crate::backstop::Switches { seccomp: !args.no_seccomp, landlock: !args.no_landlock };
            Box::new(move || {
                backstop.install(&switches, g)?;
                #[cfg(feature = "test-hooks")]
                test_hooks::after_backstop();
                Ok(())
            }) as Box<dyn FnOnce() -> Result<()>>
        }),
        // Only a guest that can execve hands anything over.
        exec_handover: guest_execs.then(|| exec_handover.encode()),
        limits: engine_limits(limits),
        carried_limits: wali_core::limits::Carried {
            deadline_ms: args.carried_deadline_ms,
            processes_fd: args.carried_processes_fd,
        },
    })?;
    report(&outcome, policy_gate);
    Ok(outcome.status())
}

/// The policy to run under: the previous waligate's (whose settings then
/// replace this command line's), `None` for `--policy none`, or the one
/// `--policy` names.
fn policy_source(args: &mut RunArgs, handover: Option<&Handover>) -> Result<Option<PolicySource>> {
    if let Some(h) = handover {
        args.dirs.clone_from(&h.dirs);
        (args.no_seccomp, args.no_landlock, args.no_cache) = (!h.seccomp, !h.landlock, !h.cache);
        return Ok(h.policy.clone());
    }
    if args.policy == "none" {
        return Ok(None);
    }
    let (name, text) = policy::load::source(&args.policy).map_err(problems)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    Ok(Some(PolicySource { name, text, cwd }))
}

/// A WALI program's libc reads its environment from a file; the WASI shim
/// gets it with its configuration.
fn guest_environment(
    interface: Interface,
    entries: Vec<String>,
    preopens: &[Preopen],
) -> Result<(Option<EnvFile>, Vec<String>)> {
    match interface {
        Interface::Wali => {
            if let Some(p) = preopens.iter().find(|p| Path::new(&p.guest) != p.host) {
                anyhow::bail!(
                    "--dir {}::{}: a WALI program sees host paths, so GUEST must equal HOST",
                    p.host.display(),
                    p.guest
                );
            }
            Ok((if entries.is_empty() { None } else { Some(EnvFile::create(&entries)?) }, Vec::new()))
        }
        Interface::Wasi => Ok((None, entries)),
    }
}

/// The audit trail: the previous waligate's, or the one the options ask for.
fn open_audit(args: &RunArgs, handover: Option<&Handover>, policy: &policy::Policy, guest: &str) -> Result<Audit> {
    match handover {
        Some(h) => {
            let level = if h.audit_all { Level::All } else { Level::Decisions };
            Audit::inherit(h.audit_fd, level, h.strace, guest)
        }
        None => {
            let level = args.audit_level.unwrap_or(if policy.audit_all { Level::All } else { Level::Decisions });
            Audit::new(args.audit.as_deref(), level, args.strace, guest)
        }
    }
}

fn engine_limits(l: policy::model::Limits) -> wali_core::limits::Limits {
    wali_core::limits::Limits {
        memory_bytes: l.memory_bytes,
        wall_time_ms: l.wall_time_ms,
        cpu_time_ms: l.cpu_time_ms,
        open_files: l.open_files,
        threads: l.threads,
        processes: l.processes,
        file_size_bytes: l.file_size_bytes,
    }
}

/// Tells the user and the audit trail how the guest ended.
fn report(outcome: &Outcome, gate: Option<&PolicyGate>) {
    let kind = match outcome {
        Outcome::Exited(_) => "exited",
        Outcome::Trapped(e) => {
            eprintln!("waligate: guest trapped: {e}");
            "trapped"
        }
        Outcome::Killed(why) => {
            eprintln!("waligate: guest killed: {why}");
            "killed"
        }
    };
    if let Some(g) = gate {
        g.audit().exit(kind, outcome.status());
    }
}

/// Hooks for the backstop tests, selected by `WALIGATE_TEST_HOOK`; only in
/// builds with the `test-hooks` feature (the test build).
#[cfg(feature = "test-hooks")]
mod test_hooks {
    fn hook() -> String {
        std::env::var("WALIGATE_TEST_HOOK").unwrap_or_default()
    }

    /// `no-path-check`: the engine stops confining paths, so only Landlock
    /// stands between the guest and files outside the grants.
    pub fn engine_policy(policy: policy::Policy) -> policy::Policy {
        if hook() == "no-path-check" { policy.without_fs_confinement() } else { policy }
    }

    /// `host-reboot`: the host itself calls reboot(2) with bad magic
    /// (natively EINVAL, harmless), which no policy allows.
    /// `host-execve`: the host itself calls execve(2) on a path naming
    /// nothing (natively ENOENT).
    /// `host-create:PATH`: the host itself creates the file PATH.
    pub fn after_backstop() {
        let report = |call: &str, ret: libc::c_long| {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            eprintln!("test hook: host {call} = {ret}, errno {errno}");
        };
        match hook().as_str() {
            // SAFETY: bad magic numbers make reboot fail without effect.
            "host-reboot" => report("reboot", unsafe { libc::syscall(libc::SYS_reboot, 0, 0, 0, 0) }),
            "host-execve" => {
                let path = c"/nonexistent/waligate-test-hook";
                // SAFETY: a NUL-terminated path naming nothing and no argv
                // or envp: the call fails without replacing the image.
                report("execve", unsafe { libc::syscall(libc::SYS_execve, path.as_ptr(), 0, 0) })
            }
            hook => {
                if let Some(path) = hook.strip_prefix("host-create:") {
                    let path = std::ffi::CString::new(path).unwrap_or_default();
                    let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC;
                    // SAFETY: a NUL-terminated path; the descriptor is closed at once.
                    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o600) };
                    report("create", fd.into());
                    if fd >= 0 {
                        // SAFETY: closes the descriptor just opened.
                        unsafe { libc::close(fd) };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Deriving the backstop of a WASI application takes the application's
    /// imports alone for whether the guest can execve.
    #[test]
    fn the_shim_cannot_execve() {
        let imports = wasmparser::Parser::new(0).parse_all(super::SHIM.bytes).find_map(|p| match p {
            Ok(wasmparser::Payload::ImportSection(reader)) => {
                Some(reader.into_imports().map(|i| i.unwrap().name).collect::<Vec<_>>())
            }
            _ => None,
        });
        let imports = imports.expect("the shim imports WALI calls");
        assert!(imports.contains(&"SYS_openat") && !imports.contains(&"SYS_execve"), "{imports:?}");
    }

    /// The cache key build.rs worked out is the embedded bytes' own: a
    /// wrong one would load whatever another shim left under it.
    #[test]
    fn the_embedded_shims_digest_is_its_own() {
        assert_eq!(blake3::hash(super::SHIM.bytes).as_bytes(), &super::SHIM.digest);
    }
}
