//! The `waligate` command line.

use crate::run::{RunArgs, run};
use anyhow::{Context, Result};
use clap::{Args, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

/// Exit status when waligate itself fails (bad module, bad arguments).
pub const EXIT_HOST_ERROR: i32 = 125;

#[derive(Parser)]
#[command(name = "waligate", version, about = "Run untrusted WebAssembly behind a syscall gate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Deferred: a subcommand's arguments are built only when it is the one
// invoked (building them all was a noticeable part of start-up).
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    #[command(about = RUN_ABOUT)]
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

/// The `run` subcommand's description.
const RUN_ABOUT: &str = "Run a WALI module. Everything after MODULE goes to the guest";

pub fn main() -> i32 {
    crate::diagnostics::init();
    command(parse()).unwrap_or_else(|e| {
        eprintln!("waligate: {e:#}");
        EXIT_HOST_ERROR
    })
}

/// The command line. `run`, on the path of every guest start, is parsed by
/// its own clap command, as the whole CLI would parse it: building the
/// whole CLI first (the top level and every subcommand's command) cost
/// ~0.1 ms of each start.
fn parse() -> Command {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    if args.next().is_none_or(|a| a != "run") {
        return Cli::parse().command;
    }
    let name = std::path::Path::new(&program).file_name().unwrap_or(program.as_os_str()).to_string_lossy();
    let matches = run_command(&name).get_matches_from(std::iter::once("run".into()).chain(args));
    Command::Run(RunArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

/// `run` as a command of its own, for the program called `program`.
fn run_command(program: &str) -> clap::Command {
    RunArgs::augment_args(clap::Command::new("run").bin_name(format!("{program} run")).about(RUN_ABOUT))
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

fn context(extra: Vec<(PathBuf, u8)>) -> Result<policy::Context> {
    Ok(policy::Context {
        cwd: std::env::current_dir().context("cannot read the working directory")?,
        extra_grants: extra,
    })
}

/// Loads a policy, printing its warnings; errors become one message.
fn load_policy(arg: &str, ctx: &policy::Context) -> Result<policy::Policy> {
    let (name, text) = policy::load::source(arg).map_err(problems)?;
    load_policy_text(&name, &text, ctx)
}

pub(crate) fn load_policy_text(name: &str, text: &str, ctx: &policy::Context) -> Result<policy::Policy> {
    match policy::load_str(name, text, ctx) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("waligate: warning: {w}");
            }
            Ok(loaded.policy)
        }
        Err(e) => Err(problems(e)),
    }
}

pub(crate) fn problems(problems: Vec<policy::Problem>) -> anyhow::Error {
    let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    anyhow::anyhow!("invalid policy:\n{}", all.join("\n"))
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
            // For any module: one that can execve included.
            let Some(plan) = crate::backstop::seccomp_plan(&p, true) else {
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
            match crate::backstop::landlock_rules(&p, true, None) {
                Some(rules) => print!("{}", policy::landlock::describe(&rules)),
                None => println!("{policy} does not confine paths: no ruleset"),
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// `run` parsed on its own says what the whole CLI says: the same help,
    /// the same errors.
    #[test]
    fn run_on_its_own_is_the_whole_clis_run() {
        let mut whole = Cli::command().bin_name("waligate");
        whole.build();
        let mut whole_run = whole.find_subcommand("run").unwrap().clone();
        let mut own = run_command("waligate");
        assert_eq!(own.render_long_help().to_string(), whole_run.render_long_help().to_string());
        assert_eq!(own.render_help().to_string(), whole_run.render_help().to_string());
        for args in [&[][..], &["--interface", "bogus", "m.wasm"], &["--policy"], &["--audit-level", "some", "m.wasm"]]
        {
            let error = |e: clap::Error| (e.kind(), e.render().to_string());
            let theirs = Cli::command().try_get_matches_from(["waligate", "run"].iter().chain(args)).unwrap_err();
            let ours = run_command("waligate").try_get_matches_from(["run"].iter().chain(args)).unwrap_err();
            assert_eq!(error(ours), error(theirs), "{args:?}");
        }
        // Everything after the module goes to the guest, also what looks
        // like an option.
        let matches = run_command("waligate").get_matches_from(["run", "--dir", "/tmp", "m.wasm", "--dir", "-x"]);
        let command: Vec<&std::ffi::OsString> = matches.get_many("command").unwrap().collect();
        assert_eq!(command, ["m.wasm", "--dir", "-x"]);
        assert_eq!(matches.get_many::<String>("dirs").unwrap().collect::<Vec<_>>(), ["/tmp"]);
    }
}
