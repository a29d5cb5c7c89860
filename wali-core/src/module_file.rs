//! A module file as start-up reads it: one streaming pass gives its
//! imports (they sit near the front) and the BLAKE3 digest the
//! compiled-module cache is keyed by. The bytes are not kept: only a module
//! missing from the cache is read whole, to be compiled. Reading a whole
//! module into fresh heap pages cost more than hashing it (each new page is
//! a fault), and a cached module never needs them. A module that cannot be
//! read twice (a pipe, `<(...)`) or that is text is kept whole from the
//! first read.

use crate::wasi::Interface;
use anyhow::{Context, Result, bail};
use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The least read at a time for the front of the file.
const CHUNK: usize = 16 << 10;

/// (module, name) of each import.
type Imports = Vec<(String, String)>;

pub struct ModuleFile {
    pub path: PathBuf,
    /// `None` when the binary could not be parsed as far as its imports
    /// (compiling it says what is wrong).
    imports: Option<Imports>,
    digest: [u8; 32],
    /// The binary module kept from the first read (text, converted at
    /// once, or a file that is not a regular one).
    binary: Option<Vec<u8>>,
}

impl ModuleFile {
    pub fn open(path: &Path) -> Result<ModuleFile> {
        let read = || -> std::io::Result<_> {
            let mut file = std::fs::File::open(path)?;
            let regular = file.metadata()?.is_file();
            let (prefix, imports) = read_imports(&mut file)?;
            Ok((file, regular, prefix, imports))
        };
        let (mut file, regular, prefix, imports) =
            read().with_context(|| format!("cannot read module {}", path.display()))?;
        if !regular || !prefix.starts_with(b"\0asm") {
            let mut bytes = prefix;
            file.read_to_end(&mut bytes).with_context(|| format!("cannot read module {}", path.display()))?;
            // Text converts to a new binary; a binary comes back borrowed.
            let converted = match wat::parse_bytes(&bytes)
                .with_context(|| format!("{} is not a WebAssembly module", path.display()))?
            {
                Cow::Borrowed(_) => None,
                Cow::Owned(binary) => Some(binary),
            };
            let binary = converted.unwrap_or(bytes);
            let (_, imports) = read_imports(&mut binary.as_slice())?;
            let digest = blake3::hash(&binary).into();
            return Ok(ModuleFile { path: path.to_owned(), imports, digest, binary: Some(binary) });
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&prefix);
        // The rest streams through std's small stack buffer.
        std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read module {}", path.display()))?;
        Ok(ModuleFile { path: path.to_owned(), imports, digest: hasher.finalize().into(), binary: None })
    }

    /// The BLAKE3 digest of the binary module.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// WASI if the module imports from `wasi_snapshot_preview1` and not
    /// from `wali`.
    pub fn interface(&self) -> Interface {
        let imports_from = |m: &str| self.imports.iter().flatten().any(|(module, _)| module == m);
        if imports_from(crate::wasi::WASI_MODULE) && !imports_from(crate::linker::WALI) {
            Interface::Wasi
        } else {
            Interface::Wali
        }
    }

    /// Whether the module can install signal handlers (imports
    /// rt_sigaction). An unparsable module says yes; compiling it reports
    /// what is wrong.
    pub fn installs_handlers(&self) -> bool {
        self.imports.as_ref().is_none_or(|imports| {
            imports.iter().any(|(module, name)| module == crate::linker::WALI && name == "SYS_rt_sigaction")
        })
    }

    /// The whole binary module, to compile it: read again, and refused if
    /// it is no longer what was hashed (its compiled form is stored under
    /// that digest).
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>> {
        if let Some(binary) = &self.binary {
            return Ok(Cow::Borrowed(binary));
        }
        let bytes = std::fs::read(&self.path).with_context(|| format!("cannot read module {}", self.path.display()))?;
        if blake3::hash(&bytes) != self.digest {
            bail!("module {} changed while it was being loaded", self.path.display());
        }
        Ok(Cow::Owned(bytes))
    }
}

/// Reads `file` up to the end of its import section (or to the first
/// section that cannot precede one), returning what was read and the
/// imports; `None` for a binary that does not parse that far.
fn read_imports(file: &mut impl Read) -> std::io::Result<(Vec<u8>, Option<Imports>)> {
    use wasmparser::{Chunk, Payload};
    let mut buf = Vec::with_capacity(CHUNK);
    let mut parser = wasmparser::Parser::new(0);
    let (mut at, mut eof) = (0, false);
    loop {
        match parser.parse(&buf[at..], eof) {
            Ok(Chunk::NeedMoreData(hint)) if !eof => {
                let want = (hint as usize).max(CHUNK);
                // Short only at the end of the file.
                eof = (&mut *file).take(want as u64).read_to_end(&mut buf)? < want;
            }
            Ok(Chunk::Parsed { consumed, payload }) => {
                at += consumed;
                let imports = match payload {
                    Payload::Version { .. } | Payload::TypeSection(_) | Payload::CustomSection(_) => continue,
                    Payload::ImportSection(reader) => reader
                        .into_imports()
                        .map(|i| i.map(|i| (i.module.to_owned(), i.name.to_owned())))
                        .collect::<Result<Vec<_>, _>>()
                        .ok(),
                    // Past where imports can be: there are none.
                    _ => Some(Vec::new()),
                };
                return Ok((buf, imports));
            }
            _ => return Ok((buf, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ModuleFile;
    use crate::wasi::Interface;

    fn module_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, ModuleFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let file = ModuleFile::open(&path).unwrap();
        (dir, file)
    }

    /// A module larger than the streaming buffer: its digest is that of
    /// all its bytes, and its imports come from the front.
    #[test]
    fn streams_digest_and_imports() {
        let wat = format!(
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                 (memory 1) (data (i32.const 0) "{}"))"#,
            "x".repeat(100_000)
        );
        let binary = wat::parse_str(&wat).unwrap();
        let (_dir, file) = module_file("app.wasm", &binary);
        assert_eq!(file.digest(), blake3::hash(&binary).as_bytes());
        assert_eq!(file.interface(), Interface::Wasi);
        assert!(!file.installs_handlers());
        assert_eq!(&*file.bytes().unwrap(), &binary[..]);
    }

    #[test]
    fn text_modules_are_converted_and_hashed_as_binary() {
        let wat = r#"(module (import "wali" "SYS_rt_sigaction" (func (param i32 i32 i32 i32) (result i64))))"#;
        let (_dir, file) = module_file("app.wat", wat.as_bytes());
        let binary = wat::parse_str(wat).unwrap();
        assert_eq!(file.digest(), blake3::hash(&binary).as_bytes());
        assert_eq!(file.interface(), Interface::Wali);
        assert!(file.installs_handlers());
    }

    /// A pipe cannot be read twice: its module is kept from the first read.
    #[test]
    fn a_module_from_a_pipe_is_kept() {
        let binary = wat::parse_str(r#"(module (import "wali" "SYS_getpid" (func (result i64))))"#).unwrap();
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the two-element array; both ends are closed below.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: writes our buffer (smaller than a pipe's capacity) to the write end.
        assert_eq!(unsafe { libc::write(fds[1], binary.as_ptr().cast(), binary.len()) }, binary.len() as isize);
        // SAFETY: closes the write end, so the read end reaches end of file.
        unsafe { libc::close(fds[1]) };
        let file = ModuleFile::open(std::path::Path::new(&format!("/proc/self/fd/{}", fds[0]))).unwrap();
        // SAFETY: closes the read end, which `open` read to its end.
        unsafe { libc::close(fds[0]) };
        assert_eq!(&*file.bytes().unwrap(), &binary[..]);
        assert_eq!(file.digest(), blake3::hash(&binary).as_bytes());
        assert_eq!(file.interface(), Interface::Wali);
    }

    #[test]
    fn a_module_changed_after_hashing_is_not_compiled() {
        let (dir, file) = module_file("app.wasm", &wat::parse_str("(module)").unwrap());
        std::fs::write(dir.path().join("app.wasm"), wat::parse_str("(module (memory 1))").unwrap()).unwrap();
        let err = file.bytes().unwrap_err().to_string();
        assert!(err.contains("changed while it was being loaded"), "{err}");
    }

    #[test]
    fn an_unparsable_binary_may_install_handlers() {
        let (_dir, file) = module_file("bad.wasm", b"\0asm\x01\0\0\0\x02\xff\xff");
        assert!(file.installs_handlers());
        assert_eq!(file.interface(), Interface::Wali);
    }
}
