//! The bounded fuzz loop behind the `fuzz_*` tests (see `fuzz/README.md`).
//!
//! A target is a `check(&[u8])` that panics when a property fails, and a
//! `generate` that makes a new input from a seeded random source and the
//! corpus. One run replays every file of `fuzz/corpus/<target>/`, then
//! checks generated inputs until the time budget is spent:
//!
//! - `WALIGATE_FUZZ_SECS`: seconds of generated inputs per target (default
//!   [`DEFAULT_SECS`]; `0` replays the corpus only);
//! - `WALIGATE_FUZZ_SEED`: the seed (default: a fixed one, so a CI run
//!   tries the same inputs as the last and cannot fail on someone else's
//!   commit by chance; set a new seed, or `clock`, to explore);
//! - `WALIGATE_FUZZ_ITER`: with a seed, check only that iteration.
//!
//! A failing input is shrunk (chunks removed while it still fails) and
//! written to `target/fuzz-failures/<target>/`, ready to be copied into the
//! corpus as a regression.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Seconds of generated inputs per target when `WALIGATE_FUZZ_SECS` is unset.
pub const DEFAULT_SECS: f64 = 8.0;

/// The seed when `WALIGATE_FUZZ_SEED` is unset.
const FIXED_SEED: u64 = 0x005e_ed0f_3a11_9a7e;

/// A small, fast, seedable generator (SplitMix64).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn u32(&mut self) -> u32 {
        self.u64() as u32
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.u64() % (hi - lo + 1)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u64() as u8).collect()
    }

    /// A number drawn to hit edges often: small values, powers of two and
    /// their neighbours, the extremes of each width.
    pub fn edgy(&mut self) -> u64 {
        match self.below(8) {
            0 => self.below(16) as u64,
            1 => {
                let p = 1u64 << self.below(64);
                p.wrapping_add(self.range(0, 2)).wrapping_sub(1)
            }
            2 => *self.pick(&[u32::MAX as u64, i32::MAX as u64, i32::MIN as i64 as u64, u64::MAX, i64::MAX as u64]),
            3 => (-(self.below(4096) as i64)) as u64,
            _ => self.u64(),
        }
    }
}

/// Seconds of generated inputs for this run.
pub fn budget() -> Duration {
    let secs = std::env::var("WALIGATE_FUZZ_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(DEFAULT_SECS);
    Duration::from_secs_f64(secs.max(0.0))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

/// The repository root (where `fuzz/` is), from a crate's manifest dir.
pub fn repo_root(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir)
        .ancestors()
        .find(|d| d.join("fuzz/corpus").is_dir())
        .unwrap_or_else(|| panic!("no fuzz/corpus above {manifest_dir}"))
        .to_path_buf()
}

/// Every file of `fuzz/corpus/<target>/` (recursively), sorted by path.
pub fn corpus(root: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n != "README.md") {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("fuzz/corpus").join(target), &mut out);
    out.sort();
    out
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic)".into())
}

thread_local! {
    /// Where the last panic of this thread happened.
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
    /// Whether this thread's panics are printed (not while shrinking).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Records where each panic happens, for the shrinker to keep to one bug.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            PANIC_AT.with(|p| *p.borrow_mut() = at);
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `check` on `input`; where it panicked and the message, if it did.
fn fails(check: &dyn Fn(&[u8]), input: &[u8]) -> Option<(String, String)> {
    let result = catch_unwind(AssertUnwindSafe(|| check(input)));
    result.err().map(|p| (PANIC_AT.with(|a| a.borrow().clone()), message(&*p)))
}

/// Removes chunks of `input`, halving their size, while `check` still
/// panics at the same place.
fn shrink(check: &dyn Fn(&[u8]), input: &[u8], at: &str) -> Vec<u8> {
    QUIET.with(|q| q.set(true));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut best = input.to_vec();
    let mut chunk = best.len().div_ceil(2).max(1);
    while Instant::now() < deadline {
        let mut i = 0;
        let mut shrunk = false;
        while i < best.len() && Instant::now() < deadline {
            let mut candidate = best[..i].to_vec();
            candidate.extend_from_slice(&best[(i + chunk).min(best.len())..]);
            if fails(check, &candidate).is_some_and(|(a, _)| a == at) {
                best = candidate;
                shrunk = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 && !shrunk {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    QUIET.with(|q| q.set(false));
    best
}

/// Reports a failing input and panics.
fn report(root: &Path, target: &str, check: &dyn Fn(&[u8]), input: &[u8], what: &str, failure: (String, String)) -> ! {
    let (at, msg) = failure;
    let small = shrink(check, input, &at);
    let dir = root.join("target/fuzz-failures").join(target);
    let _ = std::fs::create_dir_all(&dir);
    let name = format!("{:016x}", fnv(&small));
    let (full, min) = (dir.join(format!("{name}.full")), dir.join(&name));
    let _ = std::fs::write(&full, input);
    let _ = std::fs::write(&min, &small);
    panic!(
        "fuzz target {target} failed on {what}: {msg} (at {at})\n  input ({} bytes): {}\n  shrunk ({} bytes): {}\n  \
         to keep it as a regression: cp {} fuzz/corpus/{target}/",
        input.len(),
        full.display(),
        small.len(),
        min.display(),
        min.display(),
    );
}

/// 64-bit FNV-1a, for naming inputs.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Replays the corpus of `target`, then checks generated inputs for the
/// time budget. `manifest_dir` is the calling crate's `CARGO_MANIFEST_DIR`.
pub fn fuzz(
    manifest_dir: &str,
    target: &str,
    extra_seeds: &[&[u8]],
    check: impl Fn(&[u8]),
    mut generate: impl FnMut(&mut Rng, &[Vec<u8>]) -> Vec<u8>,
) {
    install_hook();
    let root = repo_root(manifest_dir);
    let corpus = corpus(&root, target);
    assert!(!corpus.is_empty() || !extra_seeds.is_empty(), "fuzz/corpus/{target}/ is empty");
    let started = Instant::now();
    for (path, input) in &corpus {
        if let Some(failure) = fails(&check, input) {
            report(&root, target, &check, input, &format!("corpus file {}", path.display()), failure);
        }
    }
    for (i, input) in extra_seeds.iter().enumerate() {
        if let Some(failure) = fails(&check, input) {
            report(&root, target, &check, input, &format!("built-in seed {i}"), failure);
        }
    }
    let replayed = started.elapsed();
    let mut seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, b)| b).collect();
    seeds.extend(extra_seeds.iter().map(|s| s.to_vec()));
    let seed = match std::env::var("WALIGATE_FUZZ_SEED").as_deref() {
        Ok("clock") => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (t.as_nanos() as u64) ^ ((std::process::id() as u64) << 40)
        }
        _ => env_u64("WALIGATE_FUZZ_SEED").unwrap_or(FIXED_SEED),
    };
    let only = env_u64("WALIGATE_FUZZ_ITER");
    let budget = budget();
    let start = Instant::now();
    let mut iter = only.unwrap_or(0);
    let mut count = 0u64;
    loop {
        let more = match only {
            Some(_) => count == 0,
            None => start.elapsed() < budget,
        };
        if !more {
            break;
        }
        // Each iteration has its own generator, so one can be replayed alone.
        let mut rng = Rng::new(seed ^ iter.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let input = generate(&mut rng, &seeds);
        if let Some(failure) = fails(&check, &input) {
            let what = format!("a generated input (WALIGATE_FUZZ_SEED={seed} WALIGATE_FUZZ_ITER={iter})");
            report(&root, target, &check, &input, &what, failure);
        }
        iter += 1;
        count += 1;
    }
    eprintln!(
        "fuzz {target}: {} corpus files in {:.1?}, {count} generated inputs in {:.1?} (WALIGATE_FUZZ_SEED={seed})",
        seeds.len(),
        replayed,
        start.elapsed()
    );
}

/// Byte-level mutations of `data`, for targets whose inputs are bytes.
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..rng.range(1, 8) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.edgy() as u8;
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(64) + 1;
                data.drain(i..(i + n).min(len));
            }
            3 => {
                let i = rng.below(len + 1);
                let n = rng.range(1, 16) as usize;
                let extra = rng.bytes(n);
                data.splice(i..i, extra);
            }
            4 if len > 0 => {
                // Duplicate a chunk somewhere else.
                let i = rng.below(len);
                let n = rng.below(len - i).min(256) + 1;
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            5 if len >= 4 => {
                let i = rng.below(len - 3);
                data[i..i + 4].copy_from_slice(&(rng.edgy() as u32).to_le_bytes());
            }
            _ => {
                let n = rng.below(len + 1);
                data.truncate(n);
            }
        }
    }
}
