//! Fuzz target `loading`: modules with random imports through the CLI's
//! `inspect` and wali-core's load path (rewrite, compile, interface
//! detection, linking). An input starting with the Wasm magic number is a
//! module given to `inspect` and the rewrite as it is; anything else
//! describes a module whose imports have random modules, names and types.
//!
//! Properties: nothing panics, and linking accepts exactly what the ABI
//! allows: `wali.SYS_*` and `wali_app.SYS_*` functions of at most six
//! i32/i64 parameters and at most one i32/i64 result, the auxiliary `wali`
//! imports with their ABI types, nothing else.

use arbitrary::Unstructured;
use std::sync::OnceLock;
use wali_core::linker::define_imports;
use wali_core::rewrite::MEMORY_MODULE;
use wasmtime::{Engine, Linker};

const MAGIC: &[u8] = b"\0asm";

const MODULES: &[&str] = &["wali", "wali", "wali", "wali_app", "env", "wasi_snapshot_preview1", "waligate_bridge"];

/// The auxiliary imports and their ABI types.
const AUX: &[(&str, &[&str], &[&str])] = &[
    ("__init", &[], &["i32"]),
    ("__deinit", &[], &["i32"]),
    ("__proc_exit", &["i32"], &[]),
    ("__cl_get_argc", &[], &["i32"]),
    ("__cl_get_argv_len", &["i32"], &["i32"]),
    ("__cl_copy_argv", &["i32", "i32"], &["i32"]),
    ("__get_init_envfile", &["i32", "i32"], &["i32"]),
    ("__wasm_thread_spawn", &["i32", "i32"], &["i32"]),
    ("setjmp", &["i32"], &["i32"]),
    ("sigsetjmp", &["i32", "i32"], &["i32"]),
    ("longjmp", &["i32", "i32"], &[]),
    ("__restore_rt", &[], &[]),
];

const TYPES: &[&str] = &["i32", "i32", "i64", "i64", "f32", "f64", "v128", "funcref", "externref"];

enum Kind {
    Func(Vec<&'static str>, Vec<&'static str>),
    Other(&'static str),
}

struct Import {
    module: String,
    name: String,
    kind: Kind,
}

fn import(u: &mut Unstructured<'_>) -> arbitrary::Result<Import> {
    let module = match u.int_in_range(0u8..=9)? {
        0 => {
            let n = u.int_in_range(0usize..=8)?;
            (0..n).map(|_| u.int_in_range(b'a'..=b'z').map(char::from)).collect::<arbitrary::Result<String>>()?
        }
        _ => u.choose(MODULES)?.to_string(),
    };
    let aux = u.choose(AUX)?;
    let name = match u.int_in_range(0u8..=9)? {
        0..=4 => format!("SYS_{}", u.choose(policy::syscalls::names())?),
        5 => format!("SYS_{}", u.choose(&["fstatat", "fadvise64", "nonexistent", "", "SYS_read"])?),
        6..=8 => aux.0.to_string(),
        _ => u.choose(&["SYS", "sys_read", "__init ", "", "memory"])?.to_string(),
    };
    let kind = match u.int_in_range(0u8..=11)? {
        // The right type for an auxiliary name, or a near miss.
        0..=3 => {
            let (mut params, mut results) = (aux.1.to_vec(), aux.2.to_vec());
            if u.ratio(1, 3)? {
                match u.int_in_range(0u8..=2)? {
                    0 => params.push(u.choose(TYPES)?),
                    1 => results = vec!["i64"],
                    _ => params.clear(),
                }
            }
            Kind::Func(params, results)
        }
        4..=8 => {
            let n = u.int_in_range(0usize..=8)?;
            let params = (0..n).map(|_| u.choose(TYPES).copied()).collect::<arbitrary::Result<_>>()?;
            let m = u.int_in_range(0usize..=2)?;
            let results = (0..m).map(|_| u.choose(TYPES).copied()).collect::<arbitrary::Result<_>>()?;
            Kind::Func(params, results)
        }
        9 => Kind::Other("(global i32)"),
        10 => Kind::Other("(table 1 funcref)"),
        _ => Kind::Other("(tag)"),
    };
    Ok(Import { module, name, kind })
}

fn wat(imports: &[Import]) -> String {
    let mut out = String::from("(module\n");
    for i in imports {
        let ty = match &i.kind {
            Kind::Func(p, r) => format!("(func (param {}) (result {}))", p.join(" "), r.join(" ")),
            Kind::Other(t) => t.to_string(),
        };
        out += &format!("  (import {:?} {:?} {ty})\n", i.module, i.name);
    }
    out += "  (memory 1)\n  (func (export \"_start\"))\n)\n";
    out
}

/// Whether the host links import `i` (alone), by the ABI's rules.
fn linkable(i: &Import) -> bool {
    let scalar = |t: &&str| matches!(*t, "i32" | "i64");
    match (&i.kind, i.module.as_str()) {
        (_, m) if m == MEMORY_MODULE => true,
        (Kind::Func(p, r), "wali" | "wali_app") if i.name.starts_with("SYS_") => {
            p.len() <= 6 && p.iter().all(scalar) && r.len() <= 1 && r.iter().all(scalar)
        }
        (Kind::Func(p, r), "wali") => AUX.iter().any(|(n, ap, ar)| *n == i.name && ap == p && ar == r),
        _ => false,
    }
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| wali_core::run::engine(true).unwrap())
}

pub fn check(data: &[u8]) {
    if data.starts_with(MAGIC) {
        let _ = waligate::inspect::inspect(data).map(|r| r.suggested_policy());
        let _ = wali_core::rewrite::rewrite(data);
        return;
    }
    let mut u = Unstructured::new(data);
    let n = u.int_in_range(0usize..=6).unwrap_or(0);
    let imports: Vec<Import> = (0..n).map_while(|_| import(&mut u).ok()).collect();
    let text = wat(&imports);
    let Ok(wasm) = wat::parse_str(&text) else {
        // Names wat cannot spell: nothing to load.
        return;
    };
    let report = waligate::inspect::inspect(&wasm).expect("inspect reads a valid module");
    let _ = report.suggested_policy();
    let module = match wali_core::run::load_bytes(engine(), &wasm, None) {
        Ok(m) => m,
        Err(e) => {
            // Only modules using what the engine is built without: tags
            // and reference types.
            let unsupported = |i: &Import| match &i.kind {
                Kind::Other(t) => t.contains("tag") || t.contains("funcref"),
                Kind::Func(p, r) => p.iter().chain(r).any(|t| t.ends_with("ref")),
            };
            assert!(imports.iter().any(unsupported), "a valid module does not load: {e:#}\n{text}");
            return;
        }
    };
    let _ = wali_core::wasi::interface(&module);
    let mut linker = Linker::new(engine());
    let linked = define_imports(&mut linker, &module, &[MEMORY_MODULE], &wali_core::AllowAll);
    let mut seen = std::collections::HashSet::new();
    let duplicates = imports.iter().any(|i| !seen.insert((&i.module, &i.name)));
    let want = imports.iter().all(linkable);
    match linked {
        Ok(()) => assert!(want, "linked a module the ABI does not allow:\n{text}"),
        // A name imported twice is defined twice in the linker.
        Err(_) if duplicates || !want => {}
        Err(e) => panic!("refused a module the ABI allows: {e:#}\n{text}"),
    }
}

pub fn generate(rng: &mut crate::harness::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let modules: Vec<&Vec<u8>> = corpus.iter().filter(|c| c.starts_with(MAGIC)).collect();
    if !modules.is_empty() && rng.one_in(4) {
        let mut m = modules[rng.below(modules.len())].clone();
        crate::harness::mutate_bytes(rng, &mut m);
        m.splice(0..4.min(m.len()), MAGIC.iter().copied());
        return m;
    }
    let n = rng.range(4, 200) as usize;
    let mut data = rng.bytes(n);
    data[0] = data[0].max(1);
    data
}
