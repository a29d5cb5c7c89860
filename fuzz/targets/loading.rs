//! Fuzz target `loading`: modules with random imports through the CLI's
//! `inspect` and wali-core's load path (rewrite, compile, linking, linking
//! with the WASI shim). An input starting with the Wasm magic number is a
//! module given to `inspect`, the rewrite and the shim's linking as it is;
//! anything else
//! describes a module whose imports have random modules, names and types.
//!
//! Properties: nothing panics, and linking accepts exactly what the ABI
//! allows: `wali.SYS_*` and `wali_app.SYS_*` functions of at most six
//! i32/i64 parameters and at most one i32/i64 result, the auxiliary `wali`
//! imports with their ABI types, nothing else. Linked with the WASI shim
//! (`wali_core::merge`), a module is accepted exactly when it imports only
//! WASI preview1 functions under their own types, and the result validates.

use arbitrary::Unstructured;
use std::collections::HashMap;
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
    let name = match u.int_in_range(0u8..=11)? {
        0..=4 => format!("SYS_{}", u.choose(policy::syscalls::names())?),
        5 => format!("SYS_{}", u.choose(&["fstatat", "fadvise64", "nonexistent", "", "SYS_read"])?),
        6..=8 => aux.0.to_string(),
        9 | 10 => u.choose(wali_core::wasi::FUNCTIONS)?.to_string(),
        _ => u.choose(&["SYS", "sys_read", "__init ", "", "memory", wali_core::wasi::INIT])?.to_string(),
    };
    // A WASI function's own type, or a near miss.
    if let Some((params, results)) = wasi_types().get(name.as_str())
        && u.ratio(1, 2)?
    {
        let mut params = params.clone();
        if u.ratio(1, 4)? {
            params.push(u.choose(TYPES)?);
        }
        return Ok(Import { module, name, kind: Kind::Func(params, results.clone()) });
    }
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

/// A WASI preview1 import, mostly of its own type.
fn wasi_import(u: &mut Unstructured<'_>) -> arbitrary::Result<Import> {
    let name = u.choose(wali_core::wasi::FUNCTIONS)?.to_string();
    let (mut params, results) = wasi_types()[name.as_str()].clone();
    if u.ratio(1, 8)? {
        params.push(u.choose(TYPES)?);
    }
    Ok(Import { module: wali_core::wasi::WASI_MODULE.to_string(), name, kind: Kind::Func(params, results) })
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

/// A function type as parameter and result type names.
type Signature = (Vec<&'static str>, Vec<&'static str>);

/// The WASI functions the shim defines, with their types.
fn wasi_types() -> &'static HashMap<String, Signature> {
    static TYPES: OnceLock<HashMap<String, Signature>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let name = |t: &wasmparser::ValType| match t {
            wasmparser::ValType::I32 => "i32",
            wasmparser::ValType::I64 => "i64",
            other => panic!("the shim uses {other:?}"),
        };
        let (mut types, mut funcs, mut out) = (Vec::new(), Vec::new(), HashMap::new());
        for payload in wasmparser::Parser::new(0).parse_all(waligate::run::SHIM.bytes) {
            match payload.unwrap() {
                wasmparser::Payload::TypeSection(r) => {
                    types = r.into_iter_err_on_gc_types().collect::<Result<_, _>>().unwrap();
                }
                wasmparser::Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        if let wasmparser::TypeRef::Func(t) = i.unwrap().ty {
                            funcs.push(t);
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(r) => funcs.extend(r.into_iter().map(Result::unwrap)),
                wasmparser::Payload::ExportSection(r) => {
                    for e in r.into_iter().map(Result::unwrap) {
                        if wali_core::wasi::FUNCTIONS.contains(&e.name) {
                            let ty: &wasmparser::FuncType = &types[funcs[e.index as usize] as usize];
                            let sig = (ty.params().iter().map(name).collect(), ty.results().iter().map(name).collect());
                            out.insert(e.name.to_string(), sig);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    })
}

/// The shim as `waligate run` links it: rewritten.
fn rewritten_shim() -> &'static [u8] {
    static SHIM: OnceLock<Vec<u8>> = OnceLock::new();
    SHIM.get_or_init(|| wali_core::rewrite::rewrite(waligate::run::SHIM.bytes).unwrap())
}

/// Links `wasm` with the shim when it rewrites: never a panic, and a result
/// that validates. Whether it is accepted.
fn linked_with_the_shim(wasm: &[u8]) -> Option<bool> {
    let app = wali_core::rewrite::rewrite(wasm).ok()?;
    let linked = wali_core::merge::merge(&app, rewritten_shim()).ok();
    if let Some(linked) = &linked {
        let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
        validator.validate_all(linked).unwrap_or_else(|e| panic!("a linked module does not validate: {e}"));
    }
    Some(linked.is_some())
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| wali_core::run::engine(true).unwrap())
}

pub fn check(data: &[u8]) {
    if data.starts_with(MAGIC) {
        let _ = waligate::inspect::inspect(data).map(|r| r.suggested_policy());
        let _ = linked_with_the_shim(data);
        return;
    }
    let mut u = Unstructured::new(data);
    let n = u.int_in_range(0usize..=6).unwrap_or(0);
    // A third of the modules import only WASI names, as WASI applications do.
    let wasi_only = u.ratio(1, 3).unwrap_or(false);
    let imports: Vec<Import> =
        (0..n).map_while(|_| if wasi_only { wasi_import(&mut u) } else { import(&mut u) }.ok()).collect();
    let text = wat(&imports);
    let Ok(wasm) = wat::parse_str(&text) else {
        // Names wat cannot spell: nothing to load.
        return;
    };
    let wasi = |i: &Import| match &i.kind {
        Kind::Func(p, r) => {
            i.module == wali_core::wasi::WASI_MODULE && wasi_types().get(&i.name) == Some(&(p.clone(), r.clone()))
        }
        Kind::Other(_) => false,
    };
    if let Some(accepted) = linked_with_the_shim(&wasm) {
        assert_eq!(accepted, imports.iter().all(wasi), "linking with the WASI shim:\n{text}");
    }
    let report = waligate::inspect::inspect(&wasm).expect("inspect reads a valid module");
    let _ = report.suggested_policy();
    let module = match wali_core::run::load_bytes(engine(), &wasm, true) {
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
