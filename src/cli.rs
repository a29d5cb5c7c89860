//! The `waligate` command line.

use crate::audit::{Audit, Level};
use crate::gate::PolicyGate;
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use wali_core::envfile::EnvFile;
use wali_core::wasi::{Interface, Preopen};
use wali_core::{Outcome, RunOptions};

/// Exit status when waligate itself fails (bad module, bad arguments).
pub const EXIT_HOST_ERROR: i32 = 125;

#[derive(Parser)]
#[command(name = "waligate", version, about = "Run untrusted WebAssembly behind a syscall gate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WALI module. Everything after MODULE goes to the guest.
    Run(RunArgs),
    /// Print the WALI syscall table: how each syscall is carried out.
    Syscalls,
    /// Check, show and learn policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Read audit logs.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Show a module's interface, the syscalls its imports allow, and a
    /// suggested policy.
    Inspect { module: PathBuf },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file: errors and warnings with their JSON path,
    /// line and column. Exit status 0 when valid, 1 when not.
    Check {
        /// A policy file or built-in profile name.
        policy: String,
    },
    /// Print a profile or policy file with its `extends` merged in.
    Show {
        /// A built-in profile name (default, strict, unrestricted) or a file.
        policy: String,
    },
    /// Print the JSON Schema of policy files (docs/policy.schema.json).
    Schema,
    /// Write the smallest policy allowing what an audit log recorded
    /// (record it with --audit FILE --audit-level all).
    Learn {
        /// The audit log (JSON lines).
        audit: PathBuf,
        /// Where to write the policy.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Write the seccomp filter derived from a policy, in seccompiler's
    /// JSON format (or, with --bpf, as the compiled BPF program).
    Seccomp {
        /// A policy file or built-in profile name.
        policy: String,
        /// Where to write the filter.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Write the compiled program (struct sock_filter array) instead.
        #[arg(long)]
        bpf: bool,
    },
    /// Print the Landlock ruleset derived from a policy's fs grants.
    Landlock {
        /// A policy file or built-in profile name.
        policy: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Calls, errors, denials and time per syscall, like `strace -c`.
    Summary {
        /// The audit log (JSON lines).
        audit: PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
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
    /// Do not read or write the compiled-module cache.
    #[arg(long)]
    no_cache: bool,
    /// The module, then the guest's arguments, passed untouched.
    #[arg(value_name = "MODULE [ARGS]", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

pub fn main() -> i32 {
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // Without WALIGATE_LOG, a plain level: building an EnvFilter costs a
    // noticeable part of start-up.
    match tracing_subscriber::EnvFilter::try_from_env("WALIGATE_LOG") {
        Ok(filter) => log.with_env_filter(filter).init(),
        Err(_) => log.with_max_level(tracing::Level::WARN).init(),
    }
    command(Cli::parse().command).unwrap_or_else(|e| {
        eprintln!("waligate: {e:#}");
        EXIT_HOST_ERROR
    })
}

fn command(command: Command) -> Result<i32> {
    match command {
        Command::Run(args) => run(args),
        Command::Syscalls => {
            print!("{}", crate::syscall_doc::markdown());
            Ok(0)
        }
        Command::Policy(cmd) => policy_command(cmd),
        Command::Audit(AuditCommand::Summary { audit }) => {
            print!("{}", crate::summary::summary(&audit)?);
            Ok(0)
        }
        Command::Inspect { module } => {
            let bytes = std::fs::read(&module).with_context(|| format!("cannot read module {}", module.display()))?;
            let report = crate::inspect::inspect(&bytes).with_context(|| format!("{}", module.display()))?;
            print!("{}", report.render()?);
            Ok(0)
        }
    }
}

/// The guest environment: the env file's non-empty lines, then `--env`.
fn environment(args: &RunArgs) -> Result<Vec<String>> {
    let mut env = Vec::new();
    if let Some(path) = &args.env_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read env file {}", path.display()))?;
        env.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    if let Some(fd) = args.env_fd {
        env.extend(read_env_fd(fd)?.lines().filter(|l| !l.is_empty()).map(str::to_owned));
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

/// Reads and closes the environment fd an execve handed over.
fn read_env_fd(fd: i32) -> Result<String> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_GETFD only queries; it fails for a descriptor that is not open.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        anyhow::bail!("--env-fd {fd} is not an open file descriptor");
    }
    // SAFETY: the descriptor is open and handed to us to own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).context("cannot read --env-fd")?;
    Ok(text)
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
static SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wasi_shim.wasm"));

fn context(extra: Vec<(PathBuf, u8)>) -> Result<policy::Context> {
    Ok(policy::Context {
        cwd: std::env::current_dir().context("cannot read the working directory")?,
        extra_grants: extra,
    })
}

/// Loads a policy, printing its warnings; errors become one message.
fn load_policy(arg: &str, ctx: &policy::Context) -> Result<policy::Policy> {
    match policy::load(arg, ctx) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("waligate: warning: {w}");
            }
            Ok(loaded.policy)
        }
        Err(problems) => {
            let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            anyhow::bail!("invalid policy:\n{}", all.join("\n"))
        }
    }
}

fn policy_command(cmd: PolicyCommand) -> Result<i32> {
    let ctx = context(Vec::new())?;
    match cmd {
        PolicyCommand::Check { policy } => match policy::load(&policy, &ctx) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    println!("warning: {w}");
                }
                println!("{policy}: valid");
                Ok(0)
            }
            Err(problems) => {
                for p in &problems {
                    println!("error: {p}");
                }
                Ok(1)
            }
        },
        PolicyCommand::Show { policy } => {
            let p = load_policy(&policy, &ctx)?;
            println!("{}", serde_json::to_string_pretty(&p.source)?);
            Ok(0)
        }
        PolicyCommand::Schema => {
            print!("{}", policy::model::schema());
            Ok(0)
        }
        PolicyCommand::Learn { audit, output } => {
            let events = crate::summary::events(&audit)?;
            let name = output.file_stem().map_or_else(|| "learned".into(), |s| s.to_string_lossy().into_owned());
            let learned = crate::learn::learn(&events, &name)?;
            let text = serde_json::to_string_pretty(&learned)? + "\n";
            std::fs::write(&output, text).with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "waligate: wrote {} ({} rules, {} fs grants) from {} events",
                output.display(),
                learned.rules.len(),
                learned.fs.as_ref().map_or(0, Vec::len),
                events.len()
            );
            Ok(0)
        }
        PolicyCommand::Seccomp { policy, output, bpf } => {
            let p = load_policy(&policy, &ctx)?;
            let Some(plan) = crate::backstop::seccomp_plan(&p) else {
                anyhow::bail!("{policy} denies nothing by default: there is no filter to write");
            };
            let bytes = if bpf {
                let program = plan.bpf()?;
                program
                    .iter()
                    .flat_map(|i| [&i.code.to_ne_bytes()[..], &[i.jt, i.jf], &i.k.to_ne_bytes()].concat())
                    .collect()
            } else {
                (serde_json::to_string_pretty(&plan.json())? + "\n").into_bytes()
            };
            std::fs::write(&output, bytes).with_context(|| format!("cannot write {}", output.display()))?;
            Ok(0)
        }
        PolicyCommand::Landlock { policy } => {
            let p = load_policy(&policy, &ctx)?;
            match crate::backstop::landlock_rules(&p) {
                Some(rules) => print!("{}", policy::landlock::describe(&rules)),
                None => println!("{policy} does not confine paths: no ruleset"),
            }
            Ok(0)
        }
    }
}

fn run(args: RunArgs) -> Result<i32> {
    let module = PathBuf::from(&args.command[0]);
    let interface = match args.interface {
        Some(i) => i,
        None => crate::inspect::interface_of_file(&module)
            .with_context(|| format!("cannot read module {}", module.display()))?,
    };
    let entries = environment(&args)?;
    let preopens = dir_args(&args.dirs)?;
    // A WALI program's libc reads its environment from a file; the WASI
    // shim gets it with its configuration.
    let (env, wasi_env) = match interface {
        Interface::Wali => {
            if let Some(p) = preopens.iter().find(|p| Path::new(&p.guest) != p.host) {
                anyhow::bail!(
                    "--dir {}::{}: a WALI program sees host paths, so GUEST must equal HOST",
                    p.host.display(),
                    p.guest
                );
            }
            (if entries.is_empty() { None } else { Some(EnvFile::create(&entries)?) }, Vec::new())
        }
        Interface::Wasi => (None, entries),
    };
    let rw = policy::access::READ | policy::access::WRITE | policy::access::CREATE;
    let mut grants: Vec<(PathBuf, u8)> = preopens.iter().map(|p| (p.host.clone(), rw)).collect();
    if let Some(e) = &env {
        grants.push((PathBuf::from(std::ffi::OsStr::from_bytes(e.path.to_bytes())), policy::access::READ));
    }
    // The gate lives as long as the process: the guest's calls borrow it.
    let gated: Option<(&'static PolicyGate, crate::backstop::Backstop)> = if args.policy == "none" {
        None
    } else {
        let policy = load_policy(&args.policy, &context(grants)?)?;
        let backstop = crate::backstop::Backstop::derive(&policy);
        #[cfg(feature = "test-hooks")]
        let policy = test_hooks::engine_policy(policy);
        let level = args.audit_level.unwrap_or(if policy.audit_all { Level::All } else { Level::Decisions });
        let guest_name = module.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let audit = Audit::new(args.audit.as_deref(), level, args.strace, &guest_name)?;
        Some((Box::leak(Box::new(PolicyGate::new(policy, audit))), backstop))
    };
    let policy_gate = gated.as_ref().map(|(g, _)| *g);
    let gate: &'static dyn wali_core::Gate = match policy_gate {
        Some(g) => g,
        None => &wali_core::AllowAll,
    };
    let mut argv = args.command;
    if let Some(argv0) = args.argv0 {
        argv[0] = argv0;
    }
    let outcome = wali_core::run(RunOptions {
        module,
        argv,
        env,
        cache_dir: if args.no_cache { None } else { wali_core::cache::default_dir() },
        gate,
        shim: SHIM,
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
    })?;
    report(&outcome, policy_gate);
    Ok(outcome.status())
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
    pub fn after_backstop() {
        if hook() == "host-reboot" {
            // SAFETY: bad magic numbers make reboot fail without effect.
            let ret = unsafe { libc::syscall(libc::SYS_reboot, 0, 0, 0, 0) };
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            eprintln!("test hook: host reboot = {ret}, errno {errno}");
        }
    }
}
