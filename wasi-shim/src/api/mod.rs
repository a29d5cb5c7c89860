//! The exported `wasi_snapshot_preview1` functions, grouped by area.

mod args;
mod clock;
mod fd;
mod path;
mod poll;
mod sock;

use crate::errno::{SUCCESS, WasiResult};

/// A WASI function's return value.
fn ret(r: WasiResult) -> i32 {
    match r {
        Ok(()) => SUCCESS as i32,
        Err(e) => e as i32,
    }
}
