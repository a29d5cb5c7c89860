//! `waligate audit summary`: an audit log as a table like `strace -c`.

use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

#[derive(Default)]
struct Row {
    calls: u64,
    errors: u64,
    denials: u64,
    ns: u64,
}

/// Reads the syscall events of an audit log (line numbers in errors).
pub fn events(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str::<Value>(l).with_context(|| format!("{}:{}: not a JSON event", path.display(), n + 1))
        })
        .filter(|e| e.as_ref().map_or(true, |e| e["event"] == "syscall"))
        .collect()
}

pub fn summary(path: &Path) -> Result<String> {
    let mut rows: HashMap<String, Row> = HashMap::new();
    for e in events(path)? {
        let row = rows.entry(e["syscall"].as_str().unwrap_or("?").to_string()).or_default();
        row.calls += 1;
        row.errors += u64::from(e["ret"].as_i64().is_some_and(|r| (-4095..0).contains(&r)));
        row.denials += u64::from(matches!(e["decision"].as_str(), Some("deny" | "kill")));
        row.ns += e["dur_ns"].as_u64().unwrap_or(0);
    }
    let mut rows: Vec<(String, Row)> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.ns.cmp(&a.1.ns).then(b.1.calls.cmp(&a.1.calls)).then(a.0.cmp(&b.0)));
    let total_ns: u64 = rows.iter().map(|(_, r)| r.ns).sum();
    let mut out = String::new();
    let _ = writeln!(out, "% time     seconds  usecs/call     calls    errors   denials syscall");
    let _ = writeln!(out, "------ ----------- ----------- --------- --------- --------- ----------------");
    let line = |out: &mut String, name: &str, r: &Row| {
        let pct = if total_ns == 0 { 0.0 } else { 100.0 * r.ns as f64 / total_ns as f64 };
        let per = r.ns / 1000 / r.calls.max(1);
        let _ = writeln!(
            out,
            "{pct:6.2} {:11.6} {per:11} {:9} {:9} {:9} {name}",
            r.ns as f64 / 1e9,
            r.calls,
            r.errors,
            r.denials
        );
    };
    for (name, r) in &rows {
        line(&mut out, name, r);
    }
    let _ = writeln!(out, "------ ----------- ----------- --------- --------- --------- ----------------");
    let total = rows.iter().fold(Row::default(), |t, (_, r)| Row {
        calls: t.calls + r.calls,
        errors: t.errors + r.errors,
        denials: t.denials + r.denials,
        ns: t.ns + r.ns,
    });
    line(&mut out, "total", &total);
    Ok(out)
}
