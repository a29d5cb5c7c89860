//! A module file as start-up reads it: one streaming pass gives its
//! imports (they sit near the front) and the BLAKE3 digest the
//! compiled-module cache is keyed by. The bytes are not kept: only a module
//! missing from the cache is read whole, to be compiled. Reading a whole
//! module into fresh heap pages cost more than hashing it (each new page is
//! a fault), and a cached module never needs them. A module that cannot be
//! read twice (a pipe, `<(...)`) or that is text is kept whole from the
//! first read.
//!
//! What the read found (digest, what the imports say) is also remembered
//! in the cache directory for that file (a stamp, by device and inode,
//! with its size, mtime and ctime), so a later start of an unchanged
//! module reads neither it nor its hash. Any write to a file moves its
//! ctime, which nobody can set back; a stamp is only written for a file
//! whose ctime is over a second old, so no write can follow it within the
//! clock's granularity unseen (git's index trusts file stamps alike).

use crate::wasi::Interface;
use anyhow::{Context, Result, bail};
use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The least read at a time for the front of the file.
const CHUNK: usize = 16 << 10;

/// (module, name) of each import.
type Imports = Vec<(String, String)>;

/// What start-up needs of a module's imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ImportFacts {
    /// The binary parsed as far as its imports (else compiling it says
    /// what is wrong).
    parsed: bool,
    wasi: bool,
    wali: bool,
    rt_sigaction: bool,
    execve: bool,
}

impl ImportFacts {
    fn of(imports: Option<&Imports>) -> Self {
        let all = || imports.into_iter().flatten();
        let from = |m: &str| all().any(|(module, _)| module == m);
        let wali = |call: &str| all().any(|(module, name)| module == crate::linker::WALI && name == call);
        ImportFacts {
            parsed: imports.is_some(),
            wasi: from(crate::wasi::WASI_MODULE),
            wali: from(crate::linker::WALI),
            rt_sigaction: wali("SYS_rt_sigaction"),
            execve: wali("SYS_execve"),
        }
    }

    /// As the bits of one byte (for stamps), in one order both ways.
    fn to_bits(self) -> u8 {
        let ImportFacts { parsed, wasi, wali, rt_sigaction, execve } = self;
        [parsed, wasi, wali, rt_sigaction, execve].iter().enumerate().fold(0, |m, (i, &b)| m | u8::from(b) << i)
    }

    fn from_bits(bits: u8) -> Self {
        let bit = |i: u8| bits & (1 << i) != 0;
        ImportFacts { parsed: bit(0), wasi: bit(1), wali: bit(2), rt_sigaction: bit(3), execve: bit(4) }
    }
}

pub struct ModuleFile {
    pub path: PathBuf,
    facts: ImportFacts,
    digest: [u8; 32],
    /// The binary module kept from the first read (text, converted at
    /// once, or a file that is not a regular one).
    binary: Option<Vec<u8>>,
}

impl ModuleFile {
    /// Opens and reads the module at `path`; `stamps` is the cache
    /// directory (already checked private), where stamps are kept.
    pub fn open(path: &Path, stamps: Option<&Path>) -> Result<ModuleFile> {
        let open = || -> std::io::Result<_> {
            let file = std::fs::File::open(path)?;
            let meta = file.metadata()?;
            Ok((file, meta))
        };
        let (mut file, meta) = open().with_context(|| format!("cannot read module {}", path.display()))?;
        let regular = meta.is_file();
        let stamps = stamps.filter(|_| regular);
        if let Some(stamp) = stamps.and_then(|dir| stamp::read(dir, &meta)) {
            return Ok(ModuleFile { path: path.to_owned(), facts: stamp.facts, digest: stamp.digest, binary: None });
        }
        let (prefix, imports) =
            read_imports(&mut file).with_context(|| format!("cannot read module {}", path.display()))?;
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
            let facts = ImportFacts::of(imports.as_ref());
            let digest = blake3::hash(&binary).into();
            return Ok(ModuleFile { path: path.to_owned(), facts, digest, binary: Some(binary) });
        }
        let facts = ImportFacts::of(imports.as_ref());
        let mut hasher = blake3::Hasher::new();
        hasher.update(&prefix);
        // The rest streams through std's small stack buffer.
        std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read module {}", path.display()))?;
        let digest = hasher.finalize().into();
        if let Some(dir) = stamps {
            stamp::write(dir, &meta, &stamp::Stamp { digest, facts });
        }
        Ok(ModuleFile { path: path.to_owned(), facts, digest, binary: None })
    }

    /// The BLAKE3 digest of the binary module.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// WASI if the module imports from `wasi_snapshot_preview1` and not
    /// from `wali`.
    pub fn interface(&self) -> Interface {
        if self.facts.wasi && !self.facts.wali { Interface::Wasi } else { Interface::Wali }
    }

    /// Whether the module can install signal handlers (imports
    /// rt_sigaction). An unparsable module says yes; compiling it reports
    /// what is wrong.
    pub fn installs_handlers(&self) -> bool {
        !self.facts.parsed || self.facts.rt_sigaction
    }

    /// Whether the module can call execve (imports it): the only way a
    /// guest starts another program. An unparsable module says yes.
    pub fn imports_execve(&self) -> bool {
        !self.facts.parsed || self.facts.execve
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

/// Stamps: what a read of a regular module file found, by the file's
/// identity, in the cache directory.
mod stamp {
    use super::ImportFacts;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    const MAGIC: &[u8; 8] = b"wgstamp2";
    /// Magic, then size, mtime and ctime (seconds and nanoseconds).
    const HEADER: usize = 8 + 5 * 8;
    /// The header, the digest, the import facts.
    const LEN: usize = HEADER + 32 + 1;

    pub struct Stamp {
        pub digest: [u8; 32],
        pub facts: ImportFacts,
    }

    fn path(dir: &Path, meta: &std::fs::Metadata) -> PathBuf {
        dir.join(format!("{:016x}-{:016x}.stamp", meta.dev(), meta.ino()))
    }

    fn header(meta: &std::fs::Metadata) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        for v in [meta.size() as i64, meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h
    }

    /// The stamp of the file `meta` describes, if it has one for exactly
    /// this size, mtime and ctime.
    pub fn read(dir: &Path, meta: &std::fs::Metadata) -> Option<Stamp> {
        let mut bytes = [0u8; LEN + 1];
        let n = std::fs::File::open(path(dir, meta)).and_then(|mut f| f.read(&mut bytes)).ok()?;
        if n != LEN || bytes[..HEADER] != header(meta)[..] {
            return None;
        }
        let rest = &bytes[HEADER..LEN];
        Some(Stamp { digest: rest[..32].try_into().ok()?, facts: ImportFacts::from_bits(rest[32]) })
    }

    /// Stamps the file `meta` describes, once its ctime is over a second
    /// old. Failing to is only slower.
    pub fn write(dir: &Path, meta: &std::fs::Metadata, stamp: &Stamp) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if meta.ctime() + 1 >= now as i64 {
            return;
        }
        let mut bytes = header(meta);
        bytes.extend_from_slice(&stamp.digest);
        bytes.push(stamp.facts.to_bits());
        if let Err(e) = crate::cache::store(dir, &path(dir, meta), &bytes) {
            tracing::debug!("could not stamp module file: {e}");
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
        let file = ModuleFile::open(&path, None).unwrap();
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
        assert!(!file.imports_execve());
    }

    #[test]
    fn a_module_importing_execve_can_start_programs() {
        let wat = r#"(module (import "wali" "SYS_execve" (func (param i32 i32 i32) (result i64))))"#;
        let (_dir, file) = module_file("app.wat", wat.as_bytes());
        assert!(file.imports_execve());
        assert!(!file.installs_handlers());
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
        let file = ModuleFile::open(std::path::Path::new(&format!("/proc/self/fd/{}", fds[0])), None).unwrap();
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

    /// An unchanged module is known from its stamp: not read, not hashed
    /// (a stamp whose digest was altered shows it), its imports' facts
    /// kept; a module rewritten, even to the same size and mtime, is read
    /// again.
    #[test]
    fn a_stamp_spares_reading_an_unchanged_module() {
        let stamps = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.wasm");
        let wasi =
            wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))"#).unwrap();
        std::fs::write(&path, &wasi).unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        // Until its ctime is over a second old, a file gets no stamp.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let first = ModuleFile::open(&path, Some(stamps.path())).unwrap();
        assert_eq!(first.digest(), blake3::hash(&wasi).as_bytes());
        let stamp = std::fs::read_dir(stamps.path()).unwrap().next().unwrap().unwrap().path();
        let mut bytes = std::fs::read(&stamp).unwrap();
        bytes[48..80].copy_from_slice(&[7; 32]);
        std::fs::write(&stamp, &bytes).unwrap();
        let second = ModuleFile::open(&path, Some(stamps.path())).unwrap();
        assert_eq!(second.digest(), &[7; 32], "the stamp's digest");
        assert_eq!(
            (second.interface(), second.installs_handlers(), second.imports_execve()),
            (Interface::Wasi, false, false)
        );

        // Same size, mtime set back: the ctime still moved.
        let wali = wat::parse_str(r#"(module (import "wali" "SYS_rt_sigaction" (func (param i32))))"#).unwrap();
        assert!(wali.len() <= wasi.len());
        let mut same_size = wali;
        same_size.resize(wasi.len(), 0);
        std::fs::write(&path, &same_size).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        let third = ModuleFile::open(&path, Some(stamps.path())).unwrap();
        assert_eq!(third.digest(), blake3::hash(&same_size).as_bytes());
    }

    /// A file changed within the last second might change again within the
    /// clock's granularity: it gets no stamp.
    #[test]
    fn a_fresh_module_gets_no_stamp() {
        let stamps = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.wasm");
        std::fs::write(&path, wat::parse_str("(module)").unwrap()).unwrap();
        ModuleFile::open(&path, Some(stamps.path())).unwrap();
        assert_eq!(std::fs::read_dir(stamps.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_unparsable_binary_may_install_handlers() {
        let (_dir, file) = module_file("bad.wasm", b"\0asm\x01\0\0\0\x02\xff\xff");
        assert!(file.installs_handlers());
        assert!(file.imports_execve());
        assert_eq!(file.interface(), Interface::Wali);
    }
}
