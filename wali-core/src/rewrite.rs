//! Module rewrite before compilation: the module's own memory becomes an
//! import (same limits, same sharedness), so the host creates it and can
//! share it between thread instances; table 0 is exported so the host can
//! call function pointers (signal handlers, thread entries).

use anyhow::{Context, Result, bail};
use wasm_encoder::{
    ExportKind, ExportSection, ImportSection, MemoryType, Module as Encoder, RawSection, reencode::Reencode,
    reencode::RoundtripReencoder,
};
use wasmparser::{Parser, Payload, TypeRef};

/// Import module and name of the rewritten memory.
pub const MEMORY_MODULE: &str = "waligate";
pub const MEMORY_NAME: &str = "memory";
/// Export name of table 0 after the rewrite.
pub const TABLE_EXPORT: &str = "__indirect_function_table";

/// Threaded or not, a WALI memory becomes shared: plain loads and stores
/// behave the same, and the host gets one memory that never moves.
fn shared(mut ty: MemoryType) -> MemoryType {
    ty.shared = true;
    ty.maximum = Some(ty.maximum.unwrap_or(MAX_PAGES));
    ty
}

/// Largest Wasm32 memory in pages (4 GiB).
const MAX_PAGES: u64 = 65536;

/// Rewrites `wasm` (the memory's type is then that of its import).
pub fn rewrite(wasm: &[u8]) -> Result<Vec<u8>> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(wasm)
        .context("not a valid WebAssembly module")?;
    let mut out = Encoder::new();
    let mut memory: Option<MemoryType> = None;
    let mut imports_done = false;
    let mut tables = 0u32;
    let mut export_taken = false;
    let mut pending_exports: Option<ExportSection> = None;
    let mut reencoder = RoundtripReencoder;

    let sections: Vec<_> = Parser::new(0).parse_all(wasm).collect::<Result<_, _>>()?;
    // The memory section comes after imports, so find it first.
    for payload in &sections {
        match payload {
            Payload::ImportSection(reader) => {
                for imp in reader.clone().into_imports() {
                    let imp = imp?;
                    match imp.ty {
                        TypeRef::Memory(_) => bail!(
                            "the module imports its memory ({}.{}); a WALI module defines its own",
                            imp.module,
                            imp.name
                        ),
                        TypeRef::Table(_) => tables += 1,
                        _ => {}
                    }
                }
            }
            Payload::MemorySection(reader) => {
                let mems: Vec<_> = reader.clone().into_iter().collect::<Result<_, _>>()?;
                match mems.as_slice() {
                    [m] if m.memory64 => {
                        bail!("the module's memory is 64-bit; WALI memories are 32-bit")
                    }
                    [m] => memory = Some(shared(reencoder.memory_type(*m)?)),
                    _ => bail!("the module defines {} memories; a WALI module defines exactly one", mems.len()),
                }
            }
            Payload::TableSection(reader) => tables += reader.count(),
            Payload::ExportSection(reader) => {
                for e in reader.clone() {
                    let e = e?;
                    export_taken |= e.name == TABLE_EXPORT;
                }
            }
            _ => {}
        }
    }
    let memory = memory.context("the module defines no memory; a WALI module defines exactly one")?;

    let add_memory_import = |imports: &mut ImportSection| {
        imports.import(MEMORY_MODULE, MEMORY_NAME, memory);
    };
    for payload in &sections {
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        // Sections after the import slot: make sure the import exists.
        if !imports_done && id > 2 && id != 0 {
            let mut imports = ImportSection::new();
            add_memory_import(&mut imports);
            out.section(&imports);
            imports_done = true;
        }
        match payload {
            Payload::ImportSection(reader) => {
                let mut imports = ImportSection::new();
                reencoder.parse_import_section(&mut imports, reader.clone())?;
                add_memory_import(&mut imports);
                out.section(&imports);
                imports_done = true;
            }
            Payload::MemorySection(_) => {}
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                reencoder.parse_export_section(&mut exports, reader.clone())?;
                if tables > 0 && !export_taken {
                    exports.export(TABLE_EXPORT, ExportKind::Table, 0);
                }
                pending_exports = Some(exports);
                out.section(pending_exports.as_ref().unwrap());
            }
            _ => {
                out.section(&RawSection { id, data: &wasm[range] });
            }
        }
    }
    if pending_exports.is_none() {
        bail!("the module exports nothing; a WALI module exports _start and memory");
    }
    Ok(out.finish())
}
