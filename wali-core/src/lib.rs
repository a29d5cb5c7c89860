//! wali-core: the WALI host on wasmtime. A WALI module's `wali.SYS_*`
//! imports are satisfied from one data table of syscalls ([`table`]); every
//! call is decoded ([`decode`]), put before the [`gate`], and carried out by
//! the kernel or by an emulation ([`emu`]).

pub mod cache;
pub mod compile;
pub mod decode;
pub mod dispatch;
pub mod emu;
pub mod envfile;
pub mod errno;
pub mod fdspace;
pub mod gate;
pub mod guest;
pub mod limits;
pub mod linker;
pub mod memory;
pub mod merge;
pub mod module_file;
pub mod process;
pub mod regions;
pub mod rewrite;
pub mod run;
pub mod sys;
pub mod table;
pub mod wasi;

pub use gate::{AllowAll, Gate, Layer, Ruling, Verdict};
pub use run::{EXIT_KILLED, EXIT_TRAP, Embedded, Outcome, RunOptions, run};
