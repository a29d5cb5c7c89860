//! The audit trail: one JSON line per event, rendered straight into a
//! per-thread buffer (no JSON tree) and handed to a buffered [`Sink`] that
//! a writer thread drains, so auditing every call stays cheap; and the
//! `--strace` view of the same events.

mod sink;

use policy::constants::errno_name;
use policy::{By, Decision, Effect, PathAccess, Policy};
use serde_json::{Value, json};
use sink::Sink;
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::path::Path;
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

thread_local! {
    /// This thread's kernel id, asked once (0: not yet).
    static TID: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn tid() -> i32 {
    TID.with(|t| match t.get() {
        0 => {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            t.set(tid);
            tid
        }
        tid => tid,
    })
}

/// In a fork child: the forking thread's cached id is its parent's.
fn forget_tid() {
    TID.with(|t| t.set(0));
}

pub struct Audit {
    sink: Option<&'static Sink>,
    pub strace: bool,
    pub level: Level,
    seq: AtomicU64,
    guest: String,
    /// `guest` as a JSON string, rendered once.
    guest_json: String,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Builds one JSON object with its keys in the order they are added.
struct Line<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Line<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Line { out, first: true }
    }

    /// Starts the member `key` (plain ASCII, needing no escapes).
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        let _ = serde_json::to_writer(out, value);
    }

    fn int(&mut self, key: &str, value: i64) {
        let out = self.key(key);
        let _ = serde_json::to_writer(out, &value);
    }

    /// A member whose value is already JSON.
    fn raw(&mut self, key: &str, json: &str) {
        self.key(key).extend_from_slice(json.as_bytes());
    }

    fn close(self) {
        self.out.push(b'}');
    }

    /// Closes the object and the line.
    fn end(self) {
        self.out.extend_from_slice(b"}\n");
    }
}

thread_local! {
    /// Where this thread renders an event before handing it to the sink.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Audit {
    pub fn new(path: Option<&Path>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        let file = match path {
            Some(p) => Some(
                std::fs::File::create(p)
                    .and_then(wali_core::fdspace::to_host)
                    .map_err(|e| anyhow::anyhow!("cannot write audit log {}: {e}", p.display()))?,
            ),
            None => None,
        };
        Audit::with_file(file, level, strace, guest)
    }

    /// Continues the trail a guest's execve handed over: `fd` is the
    /// previous waligate's open log.
    pub fn inherit(fd: Option<RawFd>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        let file = match fd {
            Some(fd) => Some(std::fs::File::from(
                wali_core::fdspace::adopt(fd)
                    .map_err(|e| anyhow::anyhow!("cannot take over the handed-over audit log (fd {fd}): {e}"))?,
            )),
            None => None,
        };
        Audit::with_file(file, level, strace, guest)
    }

    fn with_file(file: Option<std::fs::File>, level: Level, strace: bool, guest: &str) -> anyhow::Result<Audit> {
        if let Some(f) = &file {
            // The guest may not open the trail, whatever path it tries.
            wali_core::fdspace::protect(&f.metadata()?);
        }
        Ok(Audit {
            sink: file.map(Sink::open),
            strace,
            level,
            seq: AtomicU64::new(0),
            guest: guest.to_string(),
            guest_json: Value::from(guest).to_string(),
        })
    }

    /// The log's descriptor, for handing the trail to an execve'd guest.
    pub fn fd(&self) -> Option<RawFd> {
        self.sink.map(|s| s.fd())
    }

    /// Whether any event is wanted at all.
    pub fn active(&self) -> bool {
        self.sink.is_some() || self.strace
    }

    /// Whether every call becomes an event (so none may skip the policy).
    pub fn records_all(&self) -> bool {
        self.active() && (self.level == Level::All || self.strace)
    }

    /// Whether a call with this decision becomes an event.
    pub fn wants(&self, d: &Decision) -> bool {
        self.records_all() || self.active() && d.effect != Effect::Allow
    }

    /// Writes every event recorded so far to the file (before the process
    /// image is replaced, say: the buffer would be lost with it).
    pub fn flush(&self) {
        if let Some(sink) = self.sink {
            sink.flush();
        }
    }

    /// Appends a host event of kind `event`: the members every event has,
    /// then those `fields` builds (a JSON object); without a log nothing is
    /// built.
    fn write(&self, event: &str, fields: impl FnOnce() -> Value) {
        let Some(sink) = self.sink else { return };
        let mut line = json!({
            "event": event,
            "ts": now_ns(),
            "seq": self.seq(),
            "guest": self.guest,
            "pid": sink::pid(),
        });
        if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields()) {
            line.extend(fields);
        }
        let mut text = line.to_string();
        text.push('\n');
        sink.append(text.as_bytes());
    }

    fn seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Records one syscall.
    pub fn syscall(&self, policy: &Policy, e: &Event<'_, '_>) {
        let (call, d, ret) = (e.call, &e.decision, e.ret);
        if self.strace {
            let shown: Vec<String> =
                (0..call.sys.args.len()).map(|i| crate::decode_args::strace_value(call, i)).collect();
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
        let Some(sink) = self.sink else { return };
        if (self.level == Level::Decisions && d.effect == Effect::Allow) || !sink::event_begins() {
            return;
        }
        LINE.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            self.render(&mut buf, policy, e);
            sink.append(&buf);
        });
        sink::event_done();
    }

    /// One syscall event as a JSON line: the members, in order, of the
    /// format in docs/audit.md.
    fn render(&self, out: &mut Vec<u8>, policy: &Policy, e: &Event<'_, '_>) {
        let (call, d, ret) = (e.call, &e.decision, e.ret);
        let mut line = Line::new(out);
        line.str("event", "syscall");
        line.int("ts", now_ns() as i64);
        line.int("seq", self.seq() as i64);
        line.raw("guest", &self.guest_json);
        line.int("pid", i64::from(sink::pid()));
        line.int("tid", i64::from(tid()));
        line.str(
            "layer",
            match e.layer {
                wali_core::Layer::Wali => "wali",
                wali_core::Layer::Wasi(_) => "wasi",
            },
        );
        line.str("syscall", call.sys.name);
        let names = crate::decode_args::spec_names(call);
        let args = line.key("args");
        args.push(b'{');
        for i in 0..call.sys.args.len() {
            if i > 0 {
                args.push(b',');
            }
            let _ = serde_json::to_writer(&mut *args, crate::decode_args::arg_name(&names, i).as_ref());
            args.push(b':');
            crate::decode_args::shown(call, i).write_json(args);
        }
        args.push(b'}');
        line.str("decision", effect_name(d.effect));
        match d.by {
            By::Rule(r) => line.str("rule", policy.rule_id(r)),
            by => line.str("rule", &policy.by_name(by)),
        }
        line.str(
            "mode",
            match d.mode {
                policy::model::Mode::Enforce => "enforce",
                policy::model::Mode::Audit => "audit",
            },
        );
        line.int("ret", ret);
        line.int("dur_ns", e.dur_ns as i64);
        if (-4095..0).contains(&ret) {
            match errno_name(-ret as i32) {
                Some(name) => line.str("errno", name),
                None => line.raw("errno", "null"),
            }
        }
        if let wali_core::Layer::Wasi(Some(call)) = e.layer {
            line.str("wasi", call);
        }
        if !e.paths.is_empty() {
            let paths = line.key("paths");
            paths.push(b'[');
            for (i, p) in e.paths.iter().enumerate() {
                if i > 0 {
                    paths.push(b',');
                }
                let mut member = Line::new(paths);
                member.str("path", &p.shown().to_string_lossy());
                member.str("need", &policy::access::perm_names(p.need));
                member.close();
            }
            paths.push(b']');
        }
        if let By::Fs { need, .. } = d.by {
            line.str("need", &policy::access::perm_names(need));
        }
        line.end();
    }

    /// Records what the kernel backstop (`layer`: seccomp or landlock) does
    /// for this run: `state` is installed, disabled, unsupported...
    pub fn backstop(&self, layer: &str, state: &str, detail: &str) {
        self.write("backstop", || json!({ "layer": layer, "state": state, "detail": detail }));
    }

    /// Records the resource limit that is ending the guest.
    pub fn limit(&self, name: &str, detail: &str) {
        self.write("limit", || json!({ "tid": tid(), "limit": name, "detail": detail }));
    }

    /// Records how the run ended.
    pub fn exit(&self, outcome: &str, status: i32) {
        // Other threads' events under way go first; later ones are dropped.
        sink::end_events();
        self.write("exit", || json!({ "outcome": outcome, "status": status }));
        // The process ends next: the trail must be complete before it does.
        self.flush();
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
