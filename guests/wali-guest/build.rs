//! Generates the `wali` import declarations from the spec table, so guests
//! call every syscall with exactly the Wasm signature the spec gives it.

use std::fmt::Write;

fn main() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wali-core/spec/syscalls.tsv");
    println!("cargo:rerun-if-changed={spec}");
    let text = std::fs::read_to_string(spec).expect("read syscalls.tsv");
    let mut out = String::from("#[link(wasm_import_module = \"wali\")]\nunsafe extern \"C\" {\n");
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, sig, status) = (cols[0], cols[2], cols[4]);
        if status != "implemented" {
            continue;
        }
        let (params, ret) = sig.trim_start_matches('(').split_once(")->(").expect("signature");
        let params: Vec<String> =
            params.split(',').filter(|p| !p.is_empty()).enumerate().map(|(i, t)| format!("a{i}: {t}")).collect();
        let ret = ret.trim_end_matches(')');
        writeln!(out, "    pub fn {name}({}) -> {ret};", params.join(", ")).unwrap();
    }
    out.push_str("}\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("imports.rs");
    std::fs::write(dest, out).unwrap();
}
