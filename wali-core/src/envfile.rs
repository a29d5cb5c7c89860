//! The environment file a WALI guest's libc reads at startup. It lives in a
//! fresh private directory (mode 0700, random name) that is removed when
//! the run ends, never under a guessable name in a shared directory.

use anyhow::{Context, Result, bail};
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

pub struct EnvFile {
    _dir: tempfile::TempDir,
    pub path: CString,
}

/// Checks one `KEY=VALUE` entry.
pub fn validate(entry: &str) -> Result<()> {
    match entry.split_once('=') {
        Some((key, _)) if !key.is_empty() && !entry.contains(['\n', '\0']) => Ok(()),
        _ => bail!("invalid environment entry {entry:?}: expected KEY=VALUE on one line"),
    }
}

impl EnvFile {
    /// Writes `entries` (`KEY=VALUE`, one per line) to a new private file.
    pub fn create(entries: &[String]) -> Result<EnvFile> {
        for e in entries {
            validate(e)?;
        }
        let dir = tempfile::Builder::new().prefix("waligate-env-").tempdir().context("cannot create env directory")?;
        let path = dir.path().join("env");
        let mut file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        file.write_all(entries.join("\n").as_bytes())?;
        let path = CString::new(path.as_os_str().as_bytes()).context("temporary path contains NUL")?;
        Ok(EnvFile { _dir: dir, path })
    }
}
