//! A generated WALI module of about 3 MiB of code, for start-up figures of
//! a module the size of a real application (an interpreter, a database):
//! FUNCS distinct functions of straight-line integer mixing, all reached
//! from `_start` through the table, which prints one line and exits.

use std::borrow::Cow;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, MemorySection, MemoryType, Module, RefType, TableSection, TableType, TypeSection,
    ValType,
};

const FUNCS: u32 = 10_000;
/// Mixing steps per function: about 300 bytes of code each.
const STEPS: u64 = 18;
const MESSAGE: &[u8] = b"big module ran\n";

/// The module's bytes (deterministic).
pub fn generate() -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I64], [ValType::I64]); // 0: the mixers
    types.ty().function([], []); // 1: _start
    types.ty().function([ValType::I32, ValType::I32, ValType::I32], [ValType::I64]); // 2: write
    types.ty().function([ValType::I32], [ValType::I64]); // 3: exit_group
    let mut imports = ImportSection::new();
    imports.import("wali", "SYS_write", EntityType::Function(2));
    imports.import("wali", "SYS_exit_group", EntityType::Function(3));
    const IMPORTED: u32 = 2;

    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    for i in 0..FUNCS {
        functions.function(0);
        code.function(&mixer(i));
    }
    functions.function(1);
    code.function(&start());

    let mut tables = TableSection::new();
    let size = u64::from(FUNCS);
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: size,
        maximum: Some(size),
        shared: false,
    });
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("_start", ExportKind::Func, IMPORTED + FUNCS);
    let mut elements = ElementSection::new();
    let indices: Vec<u32> = (IMPORTED..IMPORTED + FUNCS).collect();
    elements.active(None, &ConstExpr::i32_const(0), Elements::Functions(Cow::Borrowed(&indices)));
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(16), MESSAGE.iter().copied());

    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&tables)
        .section(&memories)
        .section(&exports)
        .section(&elements)
        .section(&code)
        .section(&data);
    module.finish()
}

/// Function `i`: x -> a chain of multiply, rotate and xor with the
/// argument, with constants of its own (so no two bodies are alike).
fn mixer(i: u32) -> Function {
    let mut f = Function::new([]);
    let mut ins = f.instructions();
    ins.local_get(0);
    let mut seed = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for _ in 0..STEPS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ins.i64_const((seed | 1) as i64).i64_mul();
        ins.i64_const((seed >> 58) as i64).i64_rotl();
        ins.local_get(0).i64_xor();
    }
    ins.end();
    f
}

/// `_start`: folds every table entry over an accumulator (exiting with 1
/// should it come out zero, so the compiler must keep the calls), writes
/// the message, exits with 0.
fn start() -> Function {
    use wasm_encoder::BlockType;
    // Locals: 0 = index (i32), 1 = accumulator (i64).
    let mut f = Function::new([(1, ValType::I32), (1, ValType::I64)]);
    let mut ins = f.instructions();
    ins.i64_const(1).local_set(1);
    ins.loop_(BlockType::Empty);
    ins.local_get(1).local_get(0).call_indirect(0, 0).local_set(1);
    ins.local_get(0).i32_const(1).i32_add().local_tee(0);
    ins.i32_const(FUNCS as i32).i32_lt_u().br_if(0);
    ins.end();
    ins.local_get(1).i64_eqz();
    ins.if_(BlockType::Empty);
    ins.i32_const(1).call(1).drop();
    ins.end();
    ins.i32_const(1).i32_const(16).i32_const(MESSAGE.len() as i32).call(0).drop();
    ins.i32_const(0).call(1).drop();
    ins.end();
    f
}
