//! Fuzz target `rewrite`: modules through wali-core's rewrite before
//! compilation. An input starting with the Wasm magic number is a module
//! (real guests, hand-written edge cases, and byte mutations of them);
//! anything else drives `wasm-smith` to build a valid module, with threads,
//! shared memory, a `__wasm_thread_spawn` import, active data and start
//! functions turning up often.
//!
//! Properties: the rewrite never panics. A valid module with one defined
//! 32-bit memory, no imported memory and some export is accepted, and its
//! rewrite validates (with the input's features plus threads and bulk
//! memory) and keeps the promised contract: the memory becomes the import
//! `waligate.memory` with the same limits, shared, maximum 4 GiB if it had
//! none; the other imports and exports are kept in order; table 0 is
//! exported as `__indirect_function_table` unless the name is taken (the
//! names the host calls itself, `__waligate_*`, are refused); a
//! threaded module's active data segments become passive, applied by an
//! exported `__waligate_init_data(i32)`, its start function exported as
//! `__waligate_start` instead of started; any other module keeps its data
//! and start as they were. Any other input is an error, not a panic.

use arbitrary::Unstructured;
use wali_core::rewrite::{INIT_DATA_EXPORT, MEMORY_MODULE, MEMORY_NAME, START_EXPORT, TABLE_EXPORT, rewrite};
use wasmparser::{DataKind, ExternalKind, Parser, Payload, TypeRef, Validator, WasmFeatures};

const MAGIC: &[u8] = b"\0asm";

/// What the rewrite must preserve or produce, read from a module.
#[derive(Debug, Default, Clone, PartialEq)]
struct Shape {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, ExternalKind, u32)>,
    memories: Vec<wasmparser::MemoryType>,
    imported_memories: usize,
    tables: u32,
    start: Option<u32>,
    /// Per data segment: its bytes and whether it is active for memory 0.
    data: Vec<(Vec<u8>, bool)>,
    funcs: u32,
}

fn shape(wasm: &[u8]) -> Shape {
    let mut s = Shape::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("a validated module parses") {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.unwrap();
                    match imp.ty {
                        TypeRef::Memory(_) => s.imported_memories += 1,
                        TypeRef::Table(_) => s.tables += 1,
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => s.funcs += 1,
                        _ => {}
                    }
                    s.imports.push((imp.module.into(), imp.name.into(), format!("{:?}", imp.ty)));
                }
            }
            Payload::MemorySection(r) => s.memories.extend(r.into_iter().map(Result::unwrap)),
            Payload::TableSection(r) => s.tables += r.count(),
            Payload::FunctionSection(r) => s.funcs += r.count(),
            Payload::ExportSection(r) => {
                s.exports.extend(r.into_iter().map(|e| e.unwrap()).map(|e| (e.name.to_string(), e.kind, e.index)))
            }
            Payload::StartSection { func, .. } => s.start = Some(func),
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.unwrap();
                    let active0 = matches!(d.kind, DataKind::Active { memory_index: 0, .. });
                    s.data.push((d.data.to_vec(), active0));
                }
            }
            _ => {}
        }
    }
    s
}

/// Checks one input module with the features it was made with.
fn check_module(wasm: &[u8], features: WasmFeatures) {
    let result = rewrite(wasm);
    let valid = Validator::new_with_features(features).validate_all(wasm).is_ok();
    if Parser::is_component(wasm) {
        assert!(result.is_err(), "a component was rewritten");
        return;
    }
    if !valid {
        // Invalid input is refused (it may still be valid with features the
        // rewrite accepts and the generator did not use).
        if Validator::new_with_features(WasmFeatures::all()).validate_all(wasm).is_err() {
            assert!(result.is_err(), "an invalid module was rewritten");
        }
        return;
    }
    let before = shape(wasm);
    let eligible = before.imported_memories == 0
        && before.memories.len() == 1
        && !before.memories[0].memory64
        && !before.exports.is_empty()
        && !before.exports.iter().any(|(n, _, _)| [INIT_DATA_EXPORT, START_EXPORT].contains(&n.as_str()));
    let out = match result {
        Ok(out) => out,
        Err(e) if !eligible => {
            let _ = format!("{e:#}");
            return;
        }
        Err(e) => panic!("a valid WALI-shaped module was refused: {e:#}"),
    };
    assert!(eligible, "a module the rewrite cannot serve was accepted: {before:?}");
    let out_features = features | WasmFeatures::THREADS | WasmFeatures::BULK_MEMORY;
    if let Err(e) = Validator::new_with_features(out_features).validate_all(&out) {
        panic!("the rewritten module does not validate: {e}\nbefore: {before:?}\nafter: {:?}", shape(&out));
    }
    let after = shape(&out);
    let threaded = before.imports.iter().any(|(m, n, _)| m == "wali" && n == "__wasm_thread_spawn");
    let split = threaded && before.data.iter().any(|(_, active)| *active);

    // Memory: defined -> imported, same limits, shared, bounded.
    let old = before.memories[0];
    assert!(after.memories.is_empty(), "the rewrite still defines a memory");
    let (last, rest) = after.imports.split_last().expect("the memory import");
    assert_eq!(rest, &before.imports[..], "the imports are kept, in order, before the memory");
    assert_eq!((last.0.as_str(), last.1.as_str()), (MEMORY_MODULE, MEMORY_NAME));
    let mut want = old;
    want.shared = true;
    let four_gib = ((1u64 << 32) >> old.page_size_log2.unwrap_or(16)).min(u32::MAX as u64);
    want.maximum = Some(old.maximum.unwrap_or(four_gib));
    assert_eq!(last.2, format!("{:?}", TypeRef::Memory(want)), "the memory import's type");

    // Exports: the module's, then what the rewrite adds.
    let mut exports = before.exports.clone();
    if before.tables > 0 && !before.exports.iter().any(|(n, _, _)| n == TABLE_EXPORT) {
        exports.push((TABLE_EXPORT.into(), ExternalKind::Table, 0));
    }
    if split {
        exports.push((INIT_DATA_EXPORT.into(), ExternalKind::Func, before.funcs));
        if let Some(start) = before.start {
            exports.push((START_EXPORT.into(), ExternalKind::Func, start));
        }
    }
    assert_eq!(after.exports, exports, "exports");

    // Data and start.
    let bytes = |s: &Shape| s.data.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>();
    assert_eq!(bytes(&after), bytes(&before), "data segments keep their bytes");
    if split {
        assert!(after.data.iter().all(|(_, active)| !active), "a threaded module keeps active data");
        assert_eq!(after.start, None, "a threaded module with data keeps its start function");
        assert_eq!(after.funcs, before.funcs + 1, "one function is added");
    } else {
        assert_eq!(after.data, before.data, "data segments");
        assert_eq!(after.start, before.start, "start function");
        assert_eq!(after.funcs, before.funcs, "functions");
    }
}

/// Imports a generated module may pick: the thread spawn that makes it
/// threaded, and a few syscalls.
fn available_imports() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (import "wali" "__wasm_thread_spawn" (func (param i32 i32) (result i32)))
            (import "wali" "SYS_write" (func (param i32 i32 i32) (result i64)))
            (import "wali" "SYS_exit_group" (func (param i32)))
            (import "env" "table" (table 1 funcref))
            (import "env" "g" (global i32)))"#,
    )
    .unwrap()
}

/// A module built by wasm-smith from `data`, with the features it used.
fn smith(data: &[u8]) -> Option<(Vec<u8>, WasmFeatures)> {
    let mut u = Unstructured::new(data);
    let mut config = wasm_smith::Config {
        min_memories: 1,
        max_memories: 1,
        min_exports: 1,
        memory64_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        max_memory32_bytes: 1 << 24,
        ..Default::default()
    };
    let knobs: u16 = u.arbitrary().ok()?;
    let bit = |b: u32| knobs & (1 << b) != 0;
    config.threads_enabled = bit(0);
    config.available_imports = bit(1).then(available_imports);
    if bit(1) && bit(2) {
        config.min_imports = 1;
    }
    config.min_data_segments = usize::from(bit(3));
    config.max_funcs = if bit(4) { 0 } else { 20 };
    config.max_tables = usize::from(!bit(5)) * 2;
    config.reference_types_enabled = !bit(5);
    config.bulk_memory_enabled = !bit(6) || bit(1);
    if bit(7) {
        // Shapes the rewrite refuses.
        config.min_memories = 0;
        config.max_memories = 2;
        config.memory64_enabled = bit(8);
        config.min_exports = 0;
    }
    config.gc_enabled = bit(9);
    config.exceptions_enabled = bit(10);
    config.export_everything = bit(11);
    config.custom_page_sizes_enabled = bit(12);
    let features = config.features();
    let module = wasm_smith::Module::new(config, &mut u).ok()?;
    Some((module.to_bytes(), features))
}

pub fn check(data: &[u8]) {
    if data.starts_with(MAGIC) {
        check_module(data, WasmFeatures::all());
    } else if let Some((wasm, features)) = smith(data) {
        check_module(&wasm, features);
    }
}

pub fn generate(rng: &mut crate::harness::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let modules: Vec<&Vec<u8>> = corpus.iter().filter(|c| c.starts_with(MAGIC)).collect();
    if !modules.is_empty() && rng.one_in(4) {
        let mut m = modules[rng.below(modules.len())].clone();
        crate::harness::mutate_bytes(rng, &mut m);
        if m.len() < 4 || rng.one_in(2) {
            // Keep it a module, so the rewrite sees it as one.
            m.splice(0..4.min(m.len()), MAGIC.iter().copied());
        }
        return m;
    }
    let n = rng.range(8, 2000) as usize;
    let mut data = rng.bytes(n);
    if data.starts_with(MAGIC) {
        data[0] = 1;
    }
    data
}
