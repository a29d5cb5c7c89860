//! Guest syscall arguments rendered for people: names from the WALI
//! specification, flags and enums by name, paths and socket addresses as
//! text, guest pointers as addresses.

use policy::constants::CONSTANTS;
use policy::net::SockAddr;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::OnceLock;
use wali_core::decode::Call;
use wali_core::table::Arg;

/// The constant families an argument's value is named from.
#[derive(Clone, Copy)]
enum Family {
    /// `O_*`: an access mode plus flag bits.
    Open,
    /// `AT_*` flag bits.
    At,
    Prot,
    Map,
    /// Exact values with this prefix.
    Exact(&'static str),
    /// `SOCK_*` type plus flag bits.
    Sock,
    /// A file mode, in octal.
    Mode,
}

fn family(syscall: &str, arg: usize) -> Option<Family> {
    use Family::*;
    Some(match (syscall, arg) {
        ("open", 1) | ("openat", 2) => Open,
        ("newfstatat" | "fchmodat", 3) | ("statx" | "unlinkat", 2) | ("fchownat" | "linkat", 4) => At,
        ("utimensat", 3) => At,
        ("mmap" | "mprotect", 2) => Prot,
        ("mmap", 3) => Map,
        ("socket" | "socketpair", 0) => Exact("AF_"),
        ("socket" | "socketpair", 1) => Sock,
        ("fcntl", 1) => Exact("F_"),
        ("open", 2) | ("openat", 3) | ("mkdirat" | "fchmodat", 2) => Mode,
        ("mkdir" | "chmod" | "fchmod" | "creat", 1) | ("umask", 0) => Mode,
        ("kill" | "tkill", 1) | ("tgkill", 2) | ("rt_sigaction", 0) => Exact("SIG"),
        ("clock_gettime" | "clock_getres" | "clock_nanosleep", 0) => Exact("CLOCK_"),
        _ => return None,
    })
}

/// The constants named with `prefix`. Those of the families above are
/// gathered once, so naming an argument scans its family, not the table.
fn constants(prefix: &str) -> impl Iterator<Item = &'static (&'static str, u64)> {
    const PREFIXES: [&str; 9] = ["O_", "AT_", "PROT_", "MAP_", "SOCK_", "AF_", "F_", "SIG", "CLOCK_"];
    static GROUPS: OnceLock<Vec<Vec<(&'static str, u64)>>> = OnceLock::new();
    let groups = GROUPS.get_or_init(|| {
        PREFIXES.iter().map(|p| CONSTANTS.iter().filter(|(n, _)| n.starts_with(p)).copied().collect()).collect()
    });
    let group = PREFIXES.iter().position(|p| *p == prefix).map_or(CONSTANTS, |i| &groups[i][..]);
    group.iter().filter(move |(n, _)| n.starts_with(prefix))
}

fn exact(prefix: &str, v: u64) -> Option<&'static str> {
    constants(prefix).find(|(_, val)| *val == v).map(|(n, _)| *n)
}

/// `base|FLAG|FLAG|0x..` for the single-bit constants with `prefix`.
fn bits(prefix: &str, base: Option<&str>, mut v: u64, exclude: &[&str]) -> String {
    let mut parts: Vec<Cow<'_, str>> = base.into_iter().map(Cow::Borrowed).collect();
    for (n, bit) in constants(prefix) {
        if bit.count_ones() == 1 && v & bit != 0 && !exclude.contains(n) {
            parts.push(Cow::Borrowed(n));
            v &= !bit;
        }
    }
    if v != 0 || parts.is_empty() {
        parts.push(format!("{v:#x}").into());
    }
    parts.join("|")
}

fn named(f: Family, v: u64) -> Cow<'static, str> {
    let v32 = v as u32 as u64;
    match f {
        Family::Open => {
            let mode = exact("O_", v32 & 3).unwrap_or_default();
            let rest = v32 & !3;
            if rest == 0 { mode.into() } else { bits("O_", Some(mode), rest, &["O_ACCMODE"]).into() }
        }
        Family::At if v32 == 0 => "0".into(),
        Family::At => bits("AT_", None, v32, &[]).into(),
        Family::Prot if v32 == 0 => "PROT_NONE".into(),
        Family::Prot => bits("PROT_", None, v32, &[]).into(),
        Family::Map => bits("MAP_", None, v32, &[]).into(),
        Family::Sock => {
            let ty: Cow<'static, str> =
                exact("SOCK_", v32 & 0xf).map_or_else(|| format!("{:#x}", v32 & 0xf).into(), Cow::Borrowed);
            let rest = v32 & !0xf;
            if rest == 0 {
                ty
            } else {
                bits("SOCK_", Some(&ty), rest, &["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"]).into()
            }
        }
        Family::Exact(prefix) => exact(prefix, v).map_or_else(|| (v as i64).to_string().into(), Cow::Borrowed),
        Family::Mode => format!("0{:o}", v32).into(),
    }
}

/// How argument `i` of a call is shown: built without allocating for the
/// common kinds (descriptors, counts, pointers, valid UTF-8 paths), since
/// an audit of every call renders every argument.
pub enum Shown<'a> {
    Int(i64),
    UInt(u64),
    Text(Cow<'a, str>),
    /// A guest pointer: `"NULL"` or `"0x..."`.
    Ptr(u32),
    /// A path or address that could not be read.
    Null,
}

impl Shown<'_> {
    /// Appends the JSON form (what [`value`] serializes to).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        match self {
            Shown::Int(v) => drop(serde_json::to_writer(out, v)),
            Shown::UInt(v) => drop(serde_json::to_writer(out, v)),
            Shown::Text(s) => drop(serde_json::to_writer(out, s.as_ref())),
            Shown::Ptr(0) => out.extend_from_slice(b"\"NULL\""),
            Shown::Ptr(p) => drop(write!(out, "\"{p:#x}\"")),
            Shown::Null => out.extend_from_slice(b"null"),
        }
    }
}

impl From<Shown<'_>> for Value {
    fn from(s: Shown<'_>) -> Value {
        match s {
            Shown::Int(v) => v.into(),
            Shown::UInt(v) => v.into(),
            Shown::Text(t) => t.into_owned().into(),
            Shown::Ptr(0) => "NULL".into(),
            Shown::Ptr(p) => format!("{p:#x}").into(),
            Shown::Null => Value::Null,
        }
    }
}

/// Argument `i` of `call` as the audit log shows it.
pub fn shown<'a>(call: &'a Call<'_>, i: usize) -> Shown<'a> {
    let raw = call.raw[i];
    let kind = call.sys.args.get(i).copied().unwrap_or(Arg::Int);
    match kind {
        Arg::Fd if raw == -100 => Shown::Text("AT_FDCWD".into()),
        Arg::Fd => Shown::Int(raw),
        Arg::Path => call.path(i).map_or(Shown::Null, |p| Shown::Text(p.to_string_lossy())),
        Arg::AddrIn(_) => {
            call.copied(i).and_then(SockAddr::decode).map_or(Shown::Null, |a| Shown::Text(a.to_string().into()))
        }
        Arg::Int | Arg::UInt => {
            let v = if kind == Arg::UInt { raw as u32 as u64 } else { raw as u64 };
            match family(call.sys.name, i) {
                Some(f) => Shown::Text(named(f, v)),
                None if kind == Arg::UInt => Shown::UInt(v),
                None => Shown::Int(raw),
            }
        }
        // Everything else points into guest memory.
        _ => Shown::Ptr(raw as u32),
    }
}

/// The value of argument `i` of `call` for the audit log.
pub fn value(call: &Call<'_>, i: usize) -> Value {
    shown(call, i).into()
}

/// Argument `i` as strace shows it: strings quoted, flags and addresses bare.
pub fn strace_value(call: &Call<'_>, i: usize) -> String {
    match (call.sys.args.get(i), value(call, i)) {
        (Some(Arg::Path | Arg::AddrIn(_)), v) => v.to_string(),
        (_, Value::String(s)) => s,
        (_, v) => v.to_string(),
    }
}

/// The specification's names of `call`'s arguments (possibly fewer than it
/// has: see [`arg_name`]), looked up once per syscall, since the lookup
/// scans the specification.
pub fn spec_names(call: &Call<'_>) -> Cow<'static, [&'static str]> {
    static NAMES: OnceLock<Vec<OnceLock<Vec<&'static str>>>> = OnceLock::new();
    // Rows made up for unknown imports are not in the table (and rare).
    let Some(row) = wali_core::table::position(call.sys) else {
        return policy::syscalls::arg_names(call.sys.name).into();
    };
    let rows = NAMES.get_or_init(|| wali_core::table::SYSCALLS.iter().map(|_| OnceLock::new()).collect());
    rows[row].get_or_init(|| policy::syscalls::arg_names(call.sys.name)).as_slice().into()
}

/// The key of argument `i`: its specification name, else `arg{i}`.
pub fn arg_name<'a>(names: &'a [&'static str], i: usize) -> Cow<'a, str> {
    names.get(i).map_or_else(|| format!("arg{i}").into(), |n| Cow::Borrowed(*n))
}

/// All arguments, keyed by the specification's names.
pub fn args(call: &Call<'_>) -> serde_json::Map<String, Value> {
    let names = spec_names(call);
    (0..call.sys.args.len()).map(|i| (arg_name(&names, i).into_owned(), value(call, i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_by_name() {
        assert_eq!(named(Family::Open, 0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(named(Family::Open, 0), "O_RDONLY");
        assert_eq!(named(Family::Open, 0o2000002), "O_RDWR|O_CLOEXEC");
        assert_eq!(named(Family::Sock, 2 | 0o2000000), "SOCK_DGRAM|SOCK_CLOEXEC");
        assert_eq!(named(Family::Prot, 3), "PROT_READ|PROT_WRITE");
        assert_eq!(named(Family::Map, 0x22), "MAP_PRIVATE|MAP_ANONYMOUS");
        assert_eq!(named(Family::Exact("AF_"), 10), "AF_INET6");
        assert_eq!(named(Family::Exact("SIG"), 99), "99");
        assert_eq!(named(Family::At, 0x100), "AT_SYMLINK_NOFOLLOW");
        assert_eq!(named(Family::Mode, 0o644), "0644");
    }

    #[test]
    fn written_json_is_the_values_json() {
        let cases = || {
            [
                Shown::Int(-100),
                Shown::UInt(u64::MAX),
                Shown::Text("a \"quoted\"\n\u{1} p\u{e4}th".into()),
                Shown::Ptr(0),
                Shown::Ptr(0x1008d5),
                Shown::Null,
            ]
        };
        for (shown, value) in cases().into_iter().zip(cases()) {
            let mut out = Vec::new();
            shown.write_json(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), Value::from(value).to_string());
        }
    }
}
