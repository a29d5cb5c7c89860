//! The specification's syscall table as Rust data (names and numbers in
//! number order, a lookup by name, and the groups' members by index), so a
//! run does not parse it at start-up.

use std::fmt::Write;

mod groups {
    include!("src/groups.rs");
}

fn main() {
    let spec = "../wali-core/spec/syscalls.tsv";
    println!("cargo:rerun-if-changed={spec}");
    println!("cargo:rerun-if-changed=src/groups.rs");
    let text = std::fs::read_to_string(spec).expect("read the syscall specification");
    let mut names: Vec<(&str, Option<i64>)> = Vec::new();
    for line in text.lines().skip(1) {
        let mut cols = line.split('\t');
        let Some(name) = cols.next().and_then(|c| c.strip_prefix("SYS_")) else { continue };
        names.push((name, cols.next().and_then(|n| n.parse().ok())));
    }
    // By name, the first row of a name (as a scan in number order finds it).
    let mut sorted: Vec<(&str, usize, Option<i64>)> =
        names.iter().enumerate().map(|(i, &(n, nr))| (n, i, nr)).collect();
    sorted.sort_by_key(|&(n, i, _)| (n, i));
    sorted.dedup_by_key(|e| e.0);
    let mut out = String::new();
    writeln!(out, "pub(crate) static NAMES: [&str; {}] = [", names.len()).unwrap();
    for (n, _) in &names {
        writeln!(out, "    {n:?},").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(out, "pub(crate) static NUMBERS: [Option<i64>; {}] = [", names.len()).unwrap();
    for (_, nr) in &names {
        writeln!(out, "    {nr:?},").unwrap();
    }
    writeln!(out, "];").unwrap();
    // A perfect hash from name to row (a `match` on strings compares arm
    // after arm; the seccomp derivation looks up every syscall it allows).
    let mut map = phf_codegen::Map::new();
    for (n, i, nr) in &sorted {
        map.entry(*n, &format!("({i}, {nr:?})"));
    }
    writeln!(out, "static BY_NAME: phf::Map<&str, (usize, Option<i64>)> = {};", map.build()).unwrap();
    writeln!(out, "pub(crate) fn row(name: &str) -> Option<(usize, Option<i64>)> {{").unwrap();
    writeln!(out, "    BY_NAME.get(name).copied()\n}}").unwrap();
    let index = |name: &str| names.iter().position(|&(n, _)| n == name);
    writeln!(out, "pub(crate) static GROUP_MEMBERS: [&[u16]; {}] = [", groups::GROUPS.len()).unwrap();
    for (group, _, members) in groups::GROUPS {
        let indexes: Vec<usize> =
            members.iter().map(|m| index(m).unwrap_or_else(|| panic!("@{group}: no syscall {m}"))).collect();
        writeln!(out, "    &{indexes:?},").unwrap();
    }
    writeln!(out, "];").unwrap();
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("spec_table.rs");
    std::fs::write(dest, out).expect("write the syscall table");
}
