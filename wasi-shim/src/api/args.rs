//! args_* and environ_*: the configuration's sections as WASI lays them
//! out (pointer array, then NUL-terminated strings).

use super::clock::{aligned, strict};
use crate::app;
use crate::config::{self, Sections};
use crate::errno::WasiResult;

fn sizes(which: fn(&Sections) -> (usize, usize), count_out: u32, size_out: u32) -> WasiResult {
    let (n, size) = config::section(which).fold((0u32, 0u32), |(n, s), (_, b)| (n + 1, s + b.len() as u32 + 1));
    app::write_u32(aligned(count_out, 4)?, n)?;
    app::write_u32(aligned(size_out, 4)?, size)
}

fn get(which: fn(&Sections) -> (usize, usize), ptrs: u32, buf: u32) -> WasiResult {
    aligned(ptrs, 4)?;
    let mut at = buf;
    for (i, (_, b)) in config::section(which).enumerate() {
        app::write_u32(ptrs + 4 * i as u32, at)?;
        app::write(at, b)?;
        app::write(at + b.len() as u32, &[0])?;
        at += b.len() as u32 + 1;
    }
    Ok(())
}

#[unsafe(no_mangle)]
pub extern "C" fn args_sizes_get(argc: u32, size: u32) -> i32 {
    strict(sizes(|s| s.args, argc, size))
}

#[unsafe(no_mangle)]
pub extern "C" fn args_get(argv: u32, buf: u32) -> i32 {
    strict(get(|s| s.args, argv, buf))
}

#[unsafe(no_mangle)]
pub extern "C" fn environ_sizes_get(count: u32, size: u32) -> i32 {
    strict(sizes(|s| s.env, count, size))
}

#[unsafe(no_mangle)]
pub extern "C" fn environ_get(environ: u32, buf: u32) -> i32 {
    strict(get(|s| s.env, environ, buf))
}
