//! Reading and writing the application's memory through the bridge.

use crate::errno::{EFAULT, WasiResult};
use crate::sys::{copy_in, copy_out};

/// Copies `out.len()` bytes from application address `src`.
pub fn read(src: u32, out: &mut [u8]) -> WasiResult {
    match unsafe { copy_in(out.as_mut_ptr(), src, out.len() as u32) } {
        0 => Ok(()),
        _ => Err(EFAULT),
    }
}

/// Copies `bytes` to application address `dst`.
pub fn write(dst: u32, bytes: &[u8]) -> WasiResult {
    match unsafe { copy_out(dst, bytes.as_ptr(), bytes.len() as u32) } {
        0 => Ok(()),
        _ => Err(EFAULT),
    }
}

pub fn write_u32(dst: u32, v: u32) -> WasiResult {
    write(dst, &v.to_le_bytes())
}

pub fn write_u64(dst: u32, v: u64) -> WasiResult {
    write(dst, &v.to_le_bytes())
}

pub fn read_u32(src: u32) -> WasiResult<u32> {
    let mut b = [0; 4];
    read(src, &mut b)?;
    Ok(u32::from_le_bytes(b))
}
