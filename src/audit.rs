//! The audit trail: one JSON line per event, written with a single
//! `write(2)` each so that nothing is lost however the run ends (guest
//! exit, kill, trap, or a signal to waligate itself), and the `--strace`
//! view of the same events.

use policy::constants::errno_name;
use policy::{By, Decision, Effect, PathAccess, Policy};
use serde_json::{Value, json};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use wali_core::decode::Call;

/// Which calls become events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// Denials, kills, `log` rules and audit-mode would-denials.
    Decisions,
    /// Every call.
    All,
}

/// One recorded syscall.
pub struct Event<'a, 'c> {
    pub call: &'a Call<'c>,
    pub decision: Decision,
    /// The raw result (0 for a call that ended the guest).
    pub ret: i64,
    pub dur_ns: u64,
    /// The paths it names, resolved, with the access each needs.
    pub paths: &'a [PathAccess],
    pub layer: wali_core::Layer,
}

/// This thread's kernel id. Asked each time: a cached one would be the
/// parent's in a forked child.
fn tid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

pub struct Audit {
    file: Option<Mutex<File>>,
    pub strace: bool,
    pub level: Level,
    seq: AtomicU64,
    guest: String,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl Audit {
    pub fn new(path: Option<&Path>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                File::create(p)
                    .and_then(wali_core::fdspace::to_host)
                    .map_err(|e| anyhow::anyhow!("cannot write audit log {}: {e}", p.display()))?,
            )),
            None => None,
        };
        Audit::with_file(file, level, strace, guest)
    }

    fn with_file(file: Option<Mutex<File>>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        // The guest may not open the trail, whatever path it tries.
        if let Some(f) = &file {
            let meta = f.lock().map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?.metadata()?;
            wali_core::fdspace::protect(&meta);
        }
        Ok(Audit { file, strace, level, seq: AtomicU64::new(0), guest: guest.to_string() })
    }

    /// Continues the trail a guest's execve handed over: `fd` is the
    /// previous waligate's open log.
    pub fn inherit(fd: Option<RawFd>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        let file = match fd {
            Some(fd) => {
                // Close-on-exec again (only a `.wasm` execve hands it on);
                // this also fails for a descriptor that is not open.
                // SAFETY: only sets a flag on a descriptor handed to us.
                if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
                    anyhow::bail!("the handed-over audit log (fd {fd}) is not open");
                }
                // SAFETY: the descriptor is open and was handed to us to own.
                Some(Mutex::new(wali_core::fdspace::to_host(unsafe { File::from_raw_fd(fd) })?))
            }
            None => None,
        };
        Audit::with_file(file, level, strace, guest)
    }

    /// The log's descriptor, for handing the trail to an execve'd guest.
    pub fn fd(&self) -> Option<RawFd> {
        self.file.as_ref().and_then(|f| f.lock().ok().map(|f| f.as_raw_fd()))
    }

    /// Whether any event is wanted at all.
    pub fn active(&self) -> bool {
        self.file.is_some() || self.strace
    }

    /// Whether every call becomes an event (so none may skip the policy).
    pub fn records_all(&self) -> bool {
        self.active() && (self.level == Level::All || self.strace)
    }

    /// Whether a call with this decision becomes an event.
    pub fn wants(&self, d: &Decision) -> bool {
        self.records_all() || self.active() && d.effect != Effect::Allow
    }

    fn write(&self, event: &Value) {
        if let Some(f) = &self.file {
            let mut line = event.to_string();
            line.push('\n');
            if let Ok(mut f) = f.lock() {
                // One write per event: a partial log is always whole lines.
                let _ = f.write_all(line.as_bytes());
            }
        }
    }

    /// Records one syscall.
    pub fn syscall(&self, policy: &Policy, e: &Event<'_, '_>) {
        let (call, d, ret) = (e.call, &e.decision, e.ret);
        let args = crate::decode_args::args(call);
        if self.strace {
            let shown: Vec<String> = (0..args.len()).map(|i| crate::decode_args::strace_value(call, i)).collect();
            let result = if (-4095..0).contains(&ret) {
                format!("{ret} {}", errno_name(-ret as i32).unwrap_or("E?"))
            } else {
                ret.to_string()
            };
            let note = match d.effect {
                Effect::Allow => String::new(),
                e => format!(" [{} by {}{}]", effect_name(e), policy.by_name(d.by), mode_note(d)),
            };
            eprintln!("{}({}) = {result}{note}", call.sys.name, shown.join(", "));
        }
        if self.file.is_none() || (self.level == Level::Decisions && d.effect == Effect::Allow) {
            return;
        }
        let mut event = json!({
            "event": "syscall",
            "ts": now_ns(),
            "seq": self.seq.fetch_add(1, Ordering::Relaxed),
            "guest": self.guest,
            "pid": std::process::id(),
            "tid": tid(),
            "layer": match e.layer { wali_core::Layer::Wali => "wali", wali_core::Layer::Wasi(_) => "wasi" },
            "syscall": call.sys.name,
            "args": args,
            "decision": effect_name(d.effect),
            "rule": policy.by_name(d.by),
            "mode": match d.mode { policy::model::Mode::Enforce => "enforce", policy::model::Mode::Audit => "audit" },
            "ret": ret,
            "dur_ns": e.dur_ns,
        });
        if (-4095..0).contains(&ret) {
            event["errno"] = errno_name(-ret as i32).map_or(Value::Null, Value::from);
        }
        if let wali_core::Layer::Wasi(Some(call)) = e.layer {
            event["wasi"] = call.into();
        }
        if !e.paths.is_empty() {
            event["paths"] = e
                .paths
                .iter()
                .map(|p| json!({"path": p.shown().to_string_lossy(), "need": policy::access::perm_names(p.need)}))
                .collect();
        }
        if let By::Fs { need, .. } = d.by {
            event["need"] = policy::access::perm_names(need).into();
        }
        self.write(&event);
    }

    /// Records what the kernel backstop (`layer`: seccomp or landlock) does
    /// for this run: `state` is installed, disabled, unsupported...
    pub fn backstop(&self, layer: &str, state: &str, detail: &str) {
        self.write(&json!({
            "event": "backstop",
            "ts": now_ns(),
            "seq": self.seq.fetch_add(1, Ordering::Relaxed),
            "guest": self.guest,
            "pid": std::process::id(),
            "layer": layer,
            "state": state,
            "detail": detail,
        }));
    }

    /// Records the resource limit that is ending the guest.
    pub fn limit(&self, name: &str, detail: &str) {
        self.write(&json!({
            "event": "limit",
            "ts": now_ns(),
            "seq": self.seq.fetch_add(1, Ordering::Relaxed),
            "guest": self.guest,
            "pid": std::process::id(),
            "tid": tid(),
            "limit": name,
            "detail": detail,
        }));
    }

    /// Records how the run ended.
    pub fn exit(&self, outcome: &str, status: i32) {
        self.write(&json!({
            "event": "exit",
            "ts": now_ns(),
            "seq": self.seq.fetch_add(1, Ordering::Relaxed),
            "guest": self.guest,
            "pid": std::process::id(),
            "outcome": outcome,
            "status": status,
        }));
    }
}

fn effect_name(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Log => "log",
        Effect::Deny(_) => "deny",
        Effect::Kill => "kill",
    }
}

fn mode_note(d: &Decision) -> &'static str {
    if d.mode == policy::model::Mode::Audit && d.effect.denies() { ", audit mode: allowed" } else { "" }
}
