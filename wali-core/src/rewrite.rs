//! Module rewrite before compilation: the module's own memory becomes an
//! import (same limits, same sharedness), so the host creates it and can
//! share it between thread instances; table 0 is exported so the host can
//! call function pointers (signal handlers, thread entries).
//!
//! A module that can spawn threads but initialises memory with active data
//! segments (toolchains without shared-memory support emit those) would
//! overwrite live data each time a thread instantiates it. Its segments
//! become passive, applied by an exported `__waligate_init_data(first)`
//! that the host calls with 1 for the first instance only; its start
//! function, which must run after them, is exported as `__waligate_start`
//! instead. Modules built for threads (`__wasm_init_memory`) are left as
//! they are.

use anyhow::{Context, Result, bail};
use wasm_encoder::{
    BlockType, CodeSection, DataCountSection, DataSection, Encode, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, MemoryType, Module as Encoder, RawSection, TypeSection, ValType,
    reencode::Reencode, reencode::RoundtripReencoder,
};
use wasmparser::{DataKind, Parser, Payload, TypeRef};

/// Import module and name of the rewritten memory.
pub const MEMORY_MODULE: &str = "waligate";
pub const MEMORY_NAME: &str = "memory";
/// Export name of table 0 after the rewrite.
pub const TABLE_EXPORT: &str = "__indirect_function_table";
/// The data initialiser `(first: i32) -> ()` of a rewritten threaded module.
pub const INIT_DATA_EXPORT: &str = "__waligate_init_data";
/// The start function of a rewritten threaded module, run after the data.
pub const START_EXPORT: &str = "__waligate_start";
/// The import that makes a module threaded.
const THREAD_SPAWN: (&str, &str) = ("wali", "__wasm_thread_spawn");

/// Threaded or not, a WALI memory becomes shared: plain loads and stores
/// behave the same, and the host gets one memory that never moves.
fn shared(mut ty: MemoryType) -> MemoryType {
    ty.shared = true;
    // 4 GiB in the memory's own pages (64 KiB unless custom page sizes),
    // within the 32-bit page count a memory32 type allows.
    let pages = (MAX_BYTES >> ty.page_size_log2.unwrap_or(16)).min(u32::MAX.into());
    ty.maximum = Some(ty.maximum.unwrap_or(pages));
    ty
}

/// Largest Wasm32 memory in bytes (4 GiB).
const MAX_BYTES: u64 = 1 << 32;

/// What the first pass learns about the module.
#[derive(Default)]
struct Survey {
    memory: Option<MemoryType>,
    tables: u32,
    table_export_taken: bool,
    threaded: bool,
    has_exports: bool,
    /// Types, imported functions and defined functions (index spaces).
    types: u32,
    imported_funcs: u32,
    defined_funcs: u32,
    /// Active data segments for memory 0, as (segment index, offset
    /// expression, length).
    active: Vec<(u32, Vec<u8>, u32)>,
    /// Whether the module has a data count section, and how many data
    /// segments it has.
    data_count: bool,
    data_segments: u32,
    start: Option<u32>,
}

fn survey(sections: &[Payload<'_>], reencoder: &mut RoundtripReencoder) -> Result<Survey> {
    let mut s = Survey::default();
    for payload in sections {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.clone() {
                    s.types += group?.types().len() as u32;
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.clone().into_imports() {
                    let imp = imp?;
                    match imp.ty {
                        TypeRef::Memory(_) => bail!(
                            "the module imports its memory ({}.{}); a WALI module defines its own",
                            imp.module,
                            imp.name
                        ),
                        TypeRef::Table(_) => s.tables += 1,
                        TypeRef::Func(_) => s.imported_funcs += 1,
                        _ => {}
                    }
                    s.threaded |= (imp.module, imp.name) == THREAD_SPAWN;
                }
            }
            Payload::FunctionSection(reader) => s.defined_funcs = reader.count(),
            Payload::MemorySection(reader) => {
                let mems: Vec<_> = reader.clone().into_iter().collect::<Result<_, _>>()?;
                match mems.as_slice() {
                    [m] if m.memory64 => bail!("the module's memory is 64-bit; WALI memories are 32-bit"),
                    [m] => s.memory = Some(shared(reencoder.memory_type(*m)?)),
                    _ => bail!("the module defines {} memories; a WALI module defines exactly one", mems.len()),
                }
            }
            Payload::TableSection(reader) => s.tables += reader.count(),
            Payload::ExportSection(reader) => {
                s.has_exports = true;
                for e in reader.clone() {
                    let name = e?.name;
                    s.table_export_taken |= name == TABLE_EXPORT;
                    // The host calls these exports itself (see `process::instantiate`).
                    if [INIT_DATA_EXPORT, START_EXPORT].contains(&name) {
                        bail!("the module exports {name}, a name reserved for the host");
                    }
                }
            }
            Payload::StartSection { func, .. } => s.start = Some(*func),
            Payload::DataCountSection { .. } => s.data_count = true,
            Payload::DataSection(reader) => {
                s.data_segments = reader.count();
                for (i, data) in reader.clone().into_iter().enumerate() {
                    let data = data?;
                    if let DataKind::Active { memory_index: 0, offset_expr } = data.kind {
                        let mut expr = Vec::new();
                        for op in offset_expr.get_operators_reader() {
                            match op? {
                                wasmparser::Operator::End => {}
                                op => reencoder.instruction(op)?.encode(&mut expr),
                            }
                        }
                        s.active.push((i as u32, expr, data.data.len() as u32));
                    }
                }
            }
            _ => {}
        }
    }
    if !s.threaded {
        s.active.clear();
    }
    Ok(s)
}

/// The body of `__waligate_init_data(first)`.
fn init_data_body(active: &[(u32, Vec<u8>, u32)]) -> Function {
    let mut f = Function::new([]);
    f.instructions().local_get(0).if_(BlockType::Empty);
    for (seg, offset, len) in active {
        f.raw(offset.iter().copied());
        f.instructions().i32_const(0).i32_const(*len as i32).memory_init(0, *seg);
    }
    f.instructions().end();
    for (seg, _, _) in active {
        f.instructions().data_drop(*seg);
    }
    f.instructions().end();
    f
}

/// Rewrites `wasm` (the memory's type is then that of its import).
pub fn rewrite(wasm: &[u8]) -> Result<Vec<u8>> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(wasm)
        .context("not a valid WebAssembly module")?;
    // A component validates too, but its nested modules' sections cannot
    // be copied as a module's.
    if Parser::is_component(wasm) {
        bail!("the file is a WebAssembly component; waligate runs core modules");
    }
    let mut reencoder = RoundtripReencoder;
    let sections: Vec<_> = Parser::new(0).parse_all(wasm).collect::<Result<_, _>>()?;
    let survey = survey(&sections, &mut reencoder)?;
    let memory = survey.memory.context("the module defines no memory; a WALI module defines exactly one")?;
    if !survey.has_exports {
        bail!("the module exports nothing; a WALI module exports _start and memory");
    }
    let split_data = !survey.active.is_empty();
    let init_func = survey.imported_funcs + survey.defined_funcs;

    let mut out = Encoder::new();
    let mut imports_done = false;
    // A module without functions still gets the initialiser's.
    let (mut funcs_done, mut code_done) = (!split_data, !split_data);
    let mut data_count_done = survey.data_count;
    for payload in &sections {
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        // Sections after the import slot: make sure the import exists.
        if !imports_done && id > 2 && id != 0 {
            let mut imports = ImportSection::new();
            imports.import(MEMORY_MODULE, MEMORY_NAME, memory);
            out.section(&imports);
            imports_done = true;
        }
        if !funcs_done && id > 3 {
            let mut funcs = FunctionSection::new();
            funcs.function(survey.types);
            out.section(&funcs);
            funcs_done = true;
        }
        // memory.init needs a data count section before the code.
        if split_data && !data_count_done && (id == 10 || id == 11) {
            out.section(&DataCountSection { count: survey.data_segments });
            data_count_done = true;
        }
        if !code_done && id == 11 {
            let mut code = CodeSection::new();
            code.function(&init_data_body(&survey.active));
            out.section(&code);
            code_done = true;
        }
        match payload {
            Payload::TypeSection(reader) if split_data => {
                let mut types = TypeSection::new();
                reencoder.parse_type_section(&mut types, reader.clone())?;
                types.ty().function([ValType::I32], []);
                out.section(&types);
            }
            Payload::ImportSection(reader) => {
                let mut imports = ImportSection::new();
                reencoder.parse_import_section(&mut imports, reader.clone())?;
                imports.import(MEMORY_MODULE, MEMORY_NAME, memory);
                out.section(&imports);
                imports_done = true;
            }
            Payload::FunctionSection(reader) if split_data => {
                let mut funcs = FunctionSection::new();
                reencoder.parse_function_section(&mut funcs, reader.clone())?;
                funcs.function(survey.types);
                out.section(&funcs);
                funcs_done = true;
            }
            Payload::MemorySection(_) => {}
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                reencoder.parse_export_section(&mut exports, reader.clone())?;
                if survey.tables > 0 && !survey.table_export_taken {
                    exports.export(TABLE_EXPORT, ExportKind::Table, 0);
                }
                if split_data {
                    exports.export(INIT_DATA_EXPORT, ExportKind::Func, init_func);
                    if let Some(start) = survey.start {
                        exports.export(START_EXPORT, ExportKind::Func, start);
                    }
                }
                out.section(&exports);
            }
            Payload::StartSection { .. } if split_data => {}
            Payload::CodeSectionStart { .. } if split_data => {
                let mut code = CodeSection::new();
                for body in code_bodies(&sections) {
                    code.raw(body);
                }
                code.function(&init_data_body(&survey.active));
                out.section(&code);
                code_done = true;
            }
            Payload::DataSection(reader) if split_data => {
                let mut data = DataSection::new();
                for d in reader.clone() {
                    let d = d?;
                    match d.kind {
                        DataKind::Active { memory_index: 0, .. } => {
                            data.passive(d.data.iter().copied());
                        }
                        _ => reencoder.parse_data(&mut data, d)?,
                    }
                }
                out.section(&data);
            }
            _ => {
                out.section(&RawSection { id, data: &wasm[range] });
            }
        }
    }
    Ok(out.finish())
}

/// The raw bytes of each function body (locals and code).
fn code_bodies<'a>(sections: &[Payload<'a>]) -> impl Iterator<Item = &'a [u8]> {
    sections.iter().filter_map(|p| match p {
        Payload::CodeSectionEntry(body) => Some(body.as_bytes()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Config, Engine, Instance, Module, SharedMemory, Store};

    /// A threaded module with an active data segment and a start function
    /// that records the byte the segment wrote.
    const THREADED: &str = r#"(module
        (import "wali" "__wasm_thread_spawn" (func (param i32 i32) (result i32)))
        (memory 1 1)
        (global $seen (export "seen") (mut i32) (i32.const -1))
        (func $start (global.set $seen (i32.load8_u (i32.const 16))))
        (start $start)
        (data (i32.const 16) "A")
        (export "memory" (memory 0)))"#;

    fn instance(store: &mut Store<()>, module: &Module, memory: &SharedMemory, first: bool) -> Instance {
        let spawn = wasmtime::Func::wrap(&mut *store, |_: i32, _: i32| 0i32);
        let instance = Instance::new(&mut *store, module, &[spawn.into(), memory.clone().into()]).unwrap();
        let init = instance.get_typed_func::<i32, ()>(&mut *store, INIT_DATA_EXPORT).unwrap();
        init.call(&mut *store, i32::from(first)).unwrap();
        let start = instance.get_typed_func::<(), ()>(&mut *store, START_EXPORT).unwrap();
        start.call(&mut *store, ()).unwrap();
        instance
    }

    #[test]
    fn thread_instances_do_not_reapply_data_segments() {
        let engine = Engine::new(Config::new().wasm_threads(true).shared_memory(true)).unwrap();
        let module = Module::new(&engine, rewrite(&wat::parse_str(THREADED).unwrap()).unwrap()).unwrap();
        let memory = SharedMemory::new(&engine, wasmtime::MemoryType::shared(1, 1)).unwrap();
        let mut store = Store::new(&engine, ());
        let seen = |store: &mut Store<()>, i: &Instance| i.get_global(&mut *store, "seen").unwrap().get(store).i32();

        let first = instance(&mut store, &module, &memory, true);
        assert_eq!(seen(&mut store, &first), Some(b'A' as i32), "the start function runs after the data");
        // SAFETY: a single-threaded test writes one byte of the memory.
        unsafe { *memory.data()[16].get() = b'B' };
        let second = instance(&mut store, &module, &memory, false);
        assert_eq!(seen(&mut store, &second), Some(b'B' as i32), "a thread instance keeps live data");
    }

    #[test]
    fn modules_without_threads_keep_their_data_segments() {
        let unthreaded =
            THREADED.replace(r#"(import "wali" "__wasm_thread_spawn" (func (param i32 i32) (result i32)))"#, "");
        let out = rewrite(&wat::parse_str(unthreaded).unwrap()).unwrap();
        let exports: Vec<String> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                Payload::ExportSection(r) => {
                    Some(r.into_iter().map(|e| e.unwrap().name.to_string()).collect::<Vec<_>>())
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(exports, ["seen", "memory"]);
    }
}
