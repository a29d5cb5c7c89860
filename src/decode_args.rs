//! Guest syscall arguments rendered for people: names from the WALI
//! specification, flags and enums by name, paths and socket addresses as
//! text, guest pointers as addresses.

use policy::constants::CONSTANTS;
use policy::net::SockAddr;
use serde_json::Value;
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

fn exact(prefix: &str, v: u64) -> Option<String> {
    CONSTANTS.iter().find(|(n, val)| n.starts_with(prefix) && *val == v).map(|(n, _)| n.to_string())
}

/// `base|FLAG|FLAG|0x..` for the single-bit constants with `prefix`.
fn bits(prefix: &str, base: Option<String>, mut v: u64, exclude: &[&str]) -> String {
    let mut parts: Vec<String> = base.into_iter().collect();
    for (n, bit) in CONSTANTS {
        if n.starts_with(prefix) && bit.count_ones() == 1 && v & bit != 0 && !exclude.contains(n) {
            parts.push(n.to_string());
            v &= !bit;
        }
    }
    if v != 0 || parts.is_empty() {
        parts.push(format!("{v:#x}"));
    }
    parts.join("|")
}

fn named(f: Family, v: u64) -> String {
    let v32 = v as u32 as u64;
    match f {
        Family::Open => {
            let mode = exact("O_", v32 & 3).unwrap_or_default();
            let rest = v32 & !3;
            if rest == 0 { mode } else { bits("O_", Some(mode), rest, &["O_ACCMODE"]) }
        }
        Family::At if v32 == 0 => "0".into(),
        Family::At => bits("AT_", None, v32, &[]),
        Family::Prot if v32 == 0 => "PROT_NONE".into(),
        Family::Prot => bits("PROT_", None, v32, &[]),
        Family::Map => bits("MAP_", None, v32, &[]),
        Family::Sock => {
            let ty = exact("SOCK_", v32 & 0xf).unwrap_or_else(|| format!("{:#x}", v32 & 0xf));
            let rest = v32 & !0xf;
            if rest == 0 { ty } else { bits("SOCK_", Some(ty), rest, &["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"]) }
        }
        Family::Exact(prefix) => exact(prefix, v).unwrap_or_else(|| (v as i64).to_string()),
        Family::Mode => format!("0{:o}", v32),
    }
}

/// The value of argument `i` of `call` for the audit log.
pub fn value(call: &Call<'_>, i: usize) -> Value {
    let raw = call.raw[i];
    let kind = call.sys.args.get(i).copied().unwrap_or(Arg::Int);
    match kind {
        Arg::Fd if raw == -100 => "AT_FDCWD".into(),
        Arg::Fd => raw.into(),
        Arg::Path => call.path(i).map_or(Value::Null, |p| p.to_string_lossy().into()),
        Arg::AddrIn(_) => call.copied(i).and_then(SockAddr::decode).map_or(Value::Null, |a| a.to_string().into()),
        Arg::Int | Arg::UInt => {
            let v = if kind == Arg::UInt { raw as u32 as u64 } else { raw as u64 };
            match family(call.sys.name, i) {
                Some(f) => named(f, v).into(),
                None if kind == Arg::UInt => v.into(),
                None => raw.into(),
            }
        }
        // Everything else points into guest memory.
        _ if raw as u32 == 0 => "NULL".into(),
        _ => format!("{:#x}", raw as u32).into(),
    }
}

/// Argument `i` as strace shows it: strings quoted, flags and addresses bare.
pub fn strace_value(call: &Call<'_>, i: usize) -> String {
    match (call.sys.args.get(i), value(call, i)) {
        (Some(Arg::Path | Arg::AddrIn(_)), v) => v.to_string(),
        (_, Value::String(s)) => s,
        (_, v) => v.to_string(),
    }
}

/// All arguments, keyed by the specification's names.
pub fn args(call: &Call<'_>) -> serde_json::Map<String, Value> {
    let names = policy::syscalls::arg_names(call.sys.name);
    (0..call.sys.args.len())
        .map(|i| (names.get(i).map_or_else(|| format!("arg{i}"), |n| n.to_string()), value(call, i)))
        .collect()
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
}
