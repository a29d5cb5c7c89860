//! A WASI application and the shim linked into one module before
//! compilation: the application's `wasi_snapshot_preview1` imports become
//! direct calls to the shim's functions, and one module is loaded and
//! instantiated per run instead of two (the shim as a second module, its
//! load, link by name and instantiation, cost about a twentieth of a WASI
//! hello's start-up).
//!
//! Both inputs are rewritten modules ([`crate::rewrite`]), each importing
//! its memory as `waligate.memory`. In the result the application's memory
//! stays `waligate.memory` (memory 0) and the shim's is
//! `waligate.shim_memory` (memory 1); every index space is the
//! application's entries followed by the shim's, so the application's code
//! keeps its indexes and can name no shim function it did not import, nor
//! the shim's memory, tables or globals. The shim's exports other than its
//! set-up are dropped; the application's start function, if any, is
//! exported as [`START_EXPORT`] for the host to run after the shim's
//! set-up.

use crate::rewrite::{MEMORY_MODULE, MEMORY_NAME, START_EXPORT};
use crate::wasi::{INIT, WASI_MODULE};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{
    CodeSection, DataCountSection, DataSection, ElementSection, EntityType, ExportKind, ExportSection, FunctionSection,
    GlobalSection, ImportSection, Module as Encoder, NameMap, NameSection, TableSection, TypeSection,
};
use wasmparser::{
    CompositeInnerType, DataSectionReader, ElementSectionReader, ExternalKind, FunctionBody, GlobalSectionReader,
    KnownCustom, Name, Parser, Payload, TableSectionReader, TypeRef, TypeSectionReader,
};

/// Import name of the shim's memory in the linked module.
pub const SHIM_MEMORY_NAME: &str = "shim_memory";

/// One input module's sections and the sizes of its index spaces.
#[derive(Default)]
struct Parts<'a> {
    types: Option<TypeSectionReader<'a>>,
    type_count: u32,
    /// Imported functions as (module, name, type index).
    func_imports: Vec<(&'a str, &'a str, u32)>,
    /// Imported memories as (name, type).
    memory_imports: Vec<(&'a str, wasmparser::MemoryType)>,
    /// Type indexes of the defined functions.
    funcs: Vec<u32>,
    tables: Option<TableSectionReader<'a>>,
    table_count: u32,
    globals: Option<GlobalSectionReader<'a>>,
    global_count: u32,
    exports: Vec<wasmparser::Export<'a>>,
    start: Option<u32>,
    elements: Option<ElementSectionReader<'a>>,
    element_count: u32,
    data: Option<DataSectionReader<'a>>,
    data_count: u32,
    code: Vec<FunctionBody<'a>>,
    /// Function names from the name section, by function index.
    names: Vec<(u32, &'a str)>,
}

fn parts<'a>(wasm: &'a [u8], what: &str) -> Result<Parts<'a>> {
    let mut p = Parts::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(r) => {
                p.type_count =
                    r.clone().into_iter().map(|g| g.map(|g| g.types().len() as u32)).sum::<Result<_, _>>()?;
                p.types = Some(r);
            }
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(ty) => p.func_imports.push((import.module, import.name, ty)),
                        TypeRef::Memory(ty) if import.module == MEMORY_MODULE => {
                            p.memory_imports.push((import.name, ty))
                        }
                        _ => bail!("{what} imports {}.{}, which is not a function", import.module, import.name),
                    }
                }
            }
            Payload::FunctionSection(r) => p.funcs = r.into_iter().collect::<Result<_, _>>()?,
            Payload::TableSection(r) => {
                p.table_count = r.count();
                p.tables = Some(r);
            }
            Payload::MemorySection(r) if r.count() > 0 => bail!("{what} defines a memory after the rewrite"),
            Payload::TagSection(r) if r.count() > 0 => {
                bail!("{what} uses exception tags, which waligate does not link")
            }
            Payload::GlobalSection(r) => {
                p.global_count = r.count();
                p.globals = Some(r);
            }
            Payload::ExportSection(r) => p.exports = r.into_iter().collect::<Result<_, _>>()?,
            Payload::StartSection { func, .. } => p.start = Some(func),
            Payload::ElementSection(r) => {
                p.element_count = r.count();
                p.elements = Some(r);
            }
            Payload::DataSection(r) => {
                p.data_count = r.count();
                p.data = Some(r);
            }
            Payload::CodeSectionEntry(body) => p.code.push(body),
            Payload::CustomSection(c) => {
                // Names are for backtraces (and the audit's WASI function);
                // a malformed name section is left out, not an error.
                if let KnownCustom::Name(reader) = c.as_known() {
                    for name in reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            p.names.extend(map.into_iter().flatten().map(|n| (n.index, n.name)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(p)
}

/// An index no input module can have once validated.
#[derive(Debug, thiserror::Error)]
#[error("index {0} out of range while linking the WASI shim")]
struct OutOfRange(u32);

/// Where one input's indexes go in the linked module.
struct Remap {
    /// Function index -> linked function index.
    funcs: Vec<u32>,
    types: u32,
    tables: u32,
    memories: u32,
    globals: u32,
    elements: u32,
    data: u32,
}

impl Reencode for Remap {
    type Error = OutOfRange;
    fn function_index(&mut self, f: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        self.funcs.get(f as usize).copied().ok_or(ReencodeError::UserError(OutOfRange(f)))
    }
    fn type_index(&mut self, t: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(t + self.types)
    }
    fn table_index(&mut self, t: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(t + self.tables)
    }
    fn memory_index(&mut self, m: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(m + self.memories)
    }
    fn global_index(&mut self, g: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(g + self.globals)
    }
    fn element_index(&mut self, e: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(e + self.elements)
    }
    fn data_index(&mut self, d: u32) -> Result<u32, ReencodeError<OutOfRange>> {
        Ok(d + self.data)
    }
}

/// The function type at `index` of a module's type section, for comparing
/// an application's WASI import with the shim's function.
fn func_type(types: Option<&TypeSectionReader<'_>>, index: u32) -> Result<wasmparser::FuncType> {
    let mut i = 0;
    for group in types.into_iter().flat_map(|t| t.clone()) {
        for sub in group?.into_types() {
            if i == index {
                match sub.composite_type.inner {
                    CompositeInnerType::Func(f) => return Ok(f),
                    _ => bail!("type index {index} is not a function type"),
                }
            }
            i += 1;
        }
    }
    bail!("type index {index} out of range")
}

/// Links the rewritten application `app` with the rewritten shim `shim`.
pub fn merge(app: &[u8], shim: &[u8]) -> Result<Vec<u8>> {
    let a = parts(app, "the application")?;
    let s = parts(shim, "the WASI shim")?;
    if s.start.is_some() {
        bail!("the WASI shim has a start function");
    }
    for p in [&a, &s] {
        if p.memory_imports.len() != 1 || p.memory_imports[0].0 != MEMORY_NAME {
            bail!("a rewritten module imports exactly its memory");
        }
    }
    // The shim's functions in the linked module: its imports first (the
    // only imported functions), its defined ones after the application's.
    let (s_imported, a_imported) = (s.func_imports.len() as u32, a.func_imports.len() as u32);
    let s_funcs: Vec<u32> =
        (0..s_imported).chain((0..s.funcs.len() as u32).map(|i| s_imported + a.funcs.len() as u32 + i)).collect();
    let shim_exports: HashMap<&str, u32> =
        s.exports.iter().filter(|e| e.kind == ExternalKind::Func).map(|e| (e.name, e.index)).collect();
    let shim_func_type = |f: u32| -> Result<wasmparser::FuncType> {
        let ty = match f.checked_sub(s_imported) {
            None => s.func_imports.get(f as usize).map(|i| i.2),
            Some(d) => s.funcs.get(d as usize).copied(),
        };
        func_type(s.types.as_ref(), ty.context("a shim export out of range")?)
    };
    // The application's imported functions become the shim's.
    let mut a_funcs = Vec::with_capacity(a_imported as usize + a.funcs.len());
    for &(module, name, ty) in &a.func_imports {
        if module != WASI_MODULE {
            bail!(
                "the application imports {module}.{name}; a WASI application imports functions only from {WASI_MODULE}"
            );
        }
        let &f = shim_exports.get(name).filter(|_| crate::wasi::FUNCTIONS.contains(&name)).with_context(|| {
            format!("the application imports {WASI_MODULE}.{name}, which WASI preview1 does not define")
        })?;
        let (want, have) = (func_type(a.types.as_ref(), ty)?, shim_func_type(f)?);
        if want != have {
            bail!("the application imports {WASI_MODULE}.{name} as {want}, but WASI preview1 defines it as {have}");
        }
        a_funcs.push(*s_funcs.get(f as usize).context("a shim export out of range")?);
    }
    a_funcs.extend((0..a.funcs.len() as u32).map(|i| s_imported + i));

    let mut ar = Remap { funcs: a_funcs, types: 0, tables: 0, memories: 0, globals: 0, elements: 0, data: 0 };
    let mut sr = Remap {
        funcs: s_funcs,
        types: a.type_count,
        tables: a.table_count,
        memories: 1,
        globals: a.global_count,
        elements: a.element_count,
        data: a.data_count,
    };

    let mut out = Encoder::new();
    let mut types = TypeSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        if let Some(t) = &p.types {
            r.parse_type_section(&mut types, t.clone())?;
        }
    }
    out.section(&types);

    let mut imports = ImportSection::new();
    imports.import(MEMORY_MODULE, MEMORY_NAME, EntityType::Memory(ar.memory_type(a.memory_imports[0].1)?));
    imports.import(MEMORY_MODULE, SHIM_MEMORY_NAME, EntityType::Memory(sr.memory_type(s.memory_imports[0].1)?));
    for &(module, name, ty) in &s.func_imports {
        imports.import(module, name, EntityType::Function(sr.type_index(ty)?));
    }
    out.section(&imports);

    let mut funcs = FunctionSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        for &ty in &p.funcs {
            funcs.function(r.type_index(ty)?);
        }
    }
    out.section(&funcs);

    let mut tables = TableSection::new();
    let mut globals = GlobalSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        if let Some(t) = &p.tables {
            r.parse_table_section(&mut tables, t.clone())?;
        }
        if let Some(g) = &p.globals {
            r.parse_global_section(&mut globals, g.clone())?;
        }
    }
    out.section(&tables);
    out.section(&globals);

    let mut exports = ExportSection::new();
    for e in &a.exports {
        if [INIT, START_EXPORT].contains(&e.name) {
            bail!("the application exports {}, a name reserved for the host", e.name);
        }
        ar.parse_export(&mut exports, *e)?;
    }
    if let Some(start) = a.start {
        exports.export(START_EXPORT, ExportKind::Func, ar.function_index(start)?);
    }
    let init = *shim_exports.get(INIT).context("the WASI shim does not export its set-up")?;
    exports.export(INIT, ExportKind::Func, sr.function_index(init)?);
    out.section(&exports);

    let mut elements = ElementSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        if let Some(e) = &p.elements {
            r.parse_element_section(&mut elements, e.clone())?;
        }
    }
    out.section(&elements);
    // memory.init and data.drop need the count ahead of the code.
    out.section(&DataCountSection { count: a.data_count + s.data_count });

    let mut code = CodeSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        for body in &p.code {
            r.parse_function_body(&mut code, body.clone())?;
        }
    }
    out.section(&code);

    let mut data = DataSection::new();
    for (p, r) in [(&a, &mut ar), (&s, &mut sr)] {
        if let Some(d) = &p.data {
            r.parse_data_section(&mut data, d.clone())?;
        }
    }
    out.section(&data);

    // Function names, for backtraces and the audit's WASI function.
    let mut named: Vec<(u32, &str)> = Vec::new();
    // The application's imports are the shim's functions now: their names
    // are the shim's.
    for (p, r, first) in [(&a, &ar, a_imported), (&s, &sr, 0)] {
        let kept = p.names.iter().filter(|&&(i, _)| i >= first);
        named.extend(kept.filter_map(|&(i, n)| Some((*r.funcs.get(i as usize)?, n))));
    }
    named.sort_by_key(|&(i, _)| i);
    named.dedup_by_key(|&mut (i, _)| i);
    let mut map = NameMap::new();
    for (i, n) in named {
        map.append(i, n);
    }
    let mut names = NameSection::new();
    names.functions(&map);
    out.section(&names);
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::rewrite;
    use wasmtime::{Config, Engine, Instance, Linker, Module, SharedMemory, Store};

    /// A stand-in shim: `fd_write(a, b, c, d)` stores `a` in its own memory
    /// at its global's address, then returns the sum plus a byte of its
    /// data; a call with `a == 99` reaches `unreachable` (for the names in
    /// a backtrace). Its table and element segment are its own.
    const SHIM: &str = r#"(module
        (import "host" "base" (func $base (result i32)))
        (memory 1)
        (global $at (mut i32) (i32.const 64))
        (table 1 funcref)
        (elem (i32.const 0) $base)
        (data (i32.const 8) "\05")
        (func $trap (unreachable))
        (func $fd_write (export "fd_write") (param i32 i32 i32 i32) (result i32)
            (if (i32.eq (local.get 0) (i32.const 99)) (then (call $trap)))
            (i32.store (global.get $at) (local.get 0))
            (i32.add (i32.add (local.get 0) (local.get 1))
                (i32.add (i32.load8_u (i32.const 8)) (call_indirect (result i32) (i32.const 0)))))
        (func (export "__waligate_init") (result i32) (i32.store (i32.const 0) (i32.const 7)) (i32.const 0))
        (export "memory" (memory 0)))"#;

    /// An application whose start function and `_start` call `fd_write`,
    /// one directly and one through its own table, with its own global
    /// and data at the same addresses as the shim's.
    const APP: &str = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
        (memory 1)
        (global $at (mut i32) (i32.const 64))
        (table 2 funcref)
        (elem (i32.const 1) $w)
        (data (i32.const 8) "\01")
        (func $start (i32.store (i32.const 0) (call $w (i32.const 10) (i32.const 1) (i32.const 0) (i32.const 0))))
        (start $start)
        (func (export "_start")
            (i32.store (global.get $at)
                (call_indirect (param i32 i32 i32 i32) (result i32)
                    (i32.load8_u (i32.const 8)) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 1))))
        (func $crash (export "crash") (drop (call $w (i32.const 99) (i32.const 0) (i32.const 0) (i32.const 0))))
        (export "memory" (memory 0)))"#;

    fn linked(app: &str) -> Result<Vec<u8>> {
        let rewritten = |wat: &str| rewrite(&wat::parse_str(wat).unwrap());
        merge(&rewritten(app)?, &rewritten(SHIM)?)
    }

    fn engine() -> Engine {
        Engine::new(Config::new().wasm_threads(true).shared_memory(true)).unwrap()
    }

    fn word(memory: &SharedMemory, at: usize) -> u32 {
        // SAFETY: no Wasm runs while the test reads the memory.
        let bytes: Vec<u8> = memory.data()[at..at + 4].iter().map(|b| unsafe { *b.get() }).collect();
        u32::from_le_bytes(bytes.try_into().unwrap())
    }

    fn instantiate(engine: &Engine, store: &mut Store<()>) -> (Instance, SharedMemory, SharedMemory) {
        let module = Module::new(engine, linked(APP).unwrap()).unwrap();
        let memory = |name| crate::wasi::memory_for(engine, &module, name).unwrap();
        let (app, shim) = (memory(MEMORY_NAME), memory(SHIM_MEMORY_NAME));
        let mut linker = Linker::new(engine);
        linker.func_wrap("host", "base", || 1000).unwrap();
        linker.define(&mut *store, MEMORY_MODULE, MEMORY_NAME, app.clone()).unwrap();
        linker.define(&mut *store, MEMORY_MODULE, SHIM_MEMORY_NAME, shim.clone()).unwrap();
        (linker.instantiate(&mut *store, &module).unwrap(), app, shim)
    }

    #[test]
    fn each_side_keeps_its_own_memory_table_globals_and_data() {
        let engine = engine();
        let mut store = Store::new(&engine, ());
        let (instance, app, shim) = instantiate(&engine, &mut store);
        // The application's start function is the host's to run, after
        // the shim's set-up.
        assert_eq!(word(&app, 0), 0);
        let init = instance.get_typed_func::<(), i32>(&mut store, INIT).unwrap();
        assert_eq!(init.call(&mut store, ()).unwrap(), 0);
        assert_eq!(word(&shim, 0), 7);
        let start = instance.get_typed_func::<(), ()>(&mut store, START_EXPORT).unwrap();
        start.call(&mut store, ()).unwrap();
        // 10 + 1 + the shim's data byte 5 + the host's 1000, through the
        // shim's own table.
        assert_eq!((word(&app, 0), word(&shim, 64)), (1016, 10));
        let main = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
        main.call(&mut store, ()).unwrap();
        // The application's data byte 1 reached the shim through the
        // application's table; the result landed at its own global's address.
        assert_eq!((word(&app, 64), word(&shim, 64)), (1 + 2 + 5 + 1000, 1));
    }

    #[test]
    fn backtraces_name_the_functions_of_both_sides() {
        let engine = engine();
        let mut store = Store::new(&engine, ());
        let (instance, _, _) = instantiate(&engine, &mut store);
        let crash = instance.get_typed_func::<(), ()>(&mut store, "crash").unwrap();
        let e = crash.call(&mut store, ()).unwrap_err();
        let trace = e.downcast_ref::<wasmtime::WasmBacktrace>().unwrap();
        let names: Vec<Option<&str>> = trace.frames().iter().map(|f| f.func_name()).collect();
        assert_eq!(names, [Some("trap"), Some("fd_write"), Some("crash")]);
    }

    #[test]
    fn an_application_must_import_wasi_functions_the_shim_defines_as_it_defines_them() {
        let error = |import: &str, export: &str| {
            let app = format!("(module {import} (memory 1) (func (export {export:?})))");
            format!("{:#}", linked(&app).unwrap_err())
        };
        let fd_write = |module: &str, name: &str, ty: &str| format!("(import {module:?} {name:?} (func {ty}))");
        let ty = "(param i32 i32 i32 i32) (result i32)";
        assert_eq!(
            error(&fd_write("wasi_snapshot_preview1", "fd_wrote", ty), "_start"),
            "the application imports wasi_snapshot_preview1.fd_wrote, which WASI preview1 does not define"
        );
        // The shim's set-up is one of its exports, but not a WASI function.
        assert_eq!(
            error(&fd_write("wasi_snapshot_preview1", INIT, "(result i32)"), "_start"),
            "the application imports wasi_snapshot_preview1.__waligate_init, which WASI preview1 does not define"
        );
        assert_eq!(
            error(&fd_write("env", "fd_write", ty), "_start"),
            "the application imports env.fd_write; a WASI application imports functions only from wasi_snapshot_preview1"
        );
        assert_eq!(
            error(&fd_write("wasi_snapshot_preview1", "fd_write", "(param i32 i32 i32 i64) (result i32)"), "_start"),
            "the application imports wasi_snapshot_preview1.fd_write as (func (param i32 i32 i32 i64) (result i32)), \
             but WASI preview1 defines it as (func (param i32 i32 i32 i32) (result i32))"
        );
        assert_eq!(
            error(&fd_write("wasi_snapshot_preview1", "fd_write", ty), INIT),
            "the application exports __waligate_init, a name reserved for the host"
        );
    }
}
