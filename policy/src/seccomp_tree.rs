//! The seccomp program as a binary search over syscall numbers.
//!
//! seccompiler emits one linear chain over every syscall in the filter.
//! When a filter is installed the kernel checks and translates the program
//! and runs it once per syscall number to fill its allow cache, so a chain
//! of ~600 instructions costs ~0.5 ms of start-up. Here the numbers are
//! cut into maximal runs that share an outcome (the default profile's 230
//! syscalls are 39 runs of consecutive numbers), and a search tree over the
//! runs' boundaries reaches any number in ~2 log2(runs) instructions.
//! Syscalls matched without conditions are decided in the tree; the few
//! with argument conditions jump to seccompiler's own program for just
//! them, appended after the tree (it checks the architecture and loads the
//! number again, then walks its short chain).
//!
//! A comparison jumps to its target directly when the distance fits the
//! instruction's 8-bit offsets, as it does whenever the tree is under 256
//! instructions (a leaf group's last comparison then leads to both its
//! runs' targets); a larger tree pairs each comparison with a 32-bit `JA`.
//! Installing costs the kernel time in proportion to the program's length
//! (it checks, translates and compiles it to native code): the default
//! profile's program is 129 instructions in short form, 244 in long.

use seccompiler::sock_filter;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGE_K: u16 = 0x35;
const BPF_JA: u16 = 0x05;
const BPF_RET_K: u16 = 0x06;
const ARCH_OFFSET: u32 = 4;
const NR_OFFSET: u32 = 0;
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// x32 syscalls carry this bit; waligate never makes them.
const X32_BIT: u32 = 0x4000_0000;
/// Runs compared one by one rather than split further.
const RUN: usize = 4;

/// Where a syscall number leads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Leaf {
    /// The filter's matched action, whatever the arguments.
    Matched,
    /// The argument conditions: seccompiler's program for them.
    Conditional,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Matched,
    Mismatch,
    Refuse,
    Conditional,
}

enum Insn {
    Plain(sock_filter),
    /// `JGE k`: fall through, or jump to the target (short form).
    BelowTo(u32, Target),
    /// `JGE k`: jump to the second target, or to the first (short form).
    Split(u32, Target, Target),
    /// `JGE k`: jump over the next `n` instructions, or fall through
    /// (short form).
    AtLeastOver(u32, usize),
    /// `JGE k`: fall through to the jump over the lower half, or skip it.
    SkipIfBelow(u32),
    /// `JGE k`: skip the next instruction, or fall through to it.
    SkipUnlessBelow(u32),
    Jump(Target),
    /// A jump over the next `n` instructions.
    JumpOver(usize),
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter { code, jt: 0, jf: 0, k }
}

/// The maximal runs of numbers with one outcome, as `(first number,
/// target)`, from 0 on; each run ends where the next begins.
fn runs(leaves: &[(u32, Leaf)]) -> Vec<(u32, Target)> {
    // One leaf per number; an unconditional match wins over conditions.
    let mut sorted = leaves.to_vec();
    sorted.sort_unstable_by_key(|&(nr, leaf)| (nr, leaf != Leaf::Matched));
    sorted.dedup_by_key(|&mut (nr, _)| nr);
    fn push(runs: &mut Vec<(u32, Target)>, from: u32, t: Target) {
        match runs.last_mut() {
            Some(last) if last.1 == t => {}
            Some(last) if last.0 == from => last.1 = t,
            _ => runs.push((from, t)),
        }
    }
    let mut runs = vec![(0, Target::Mismatch)];
    for &(nr, leaf) in &sorted {
        push(&mut runs, nr, if leaf == Leaf::Matched { Target::Matched } else { Target::Conditional });
        push(&mut runs, nr + 1, Target::Mismatch);
    }
    // Retargeting a run may have made it continue the one before it.
    runs.dedup_by(|later, earlier| later.1 == earlier.1);
    runs
}

/// Emits the search over `runs` (sorted, the first covering the numbers
/// the caller left to it), in short form or with a `JA` per comparison.
fn search(out: &mut Vec<Insn>, runs: &[(u32, Target)], short: bool) {
    if runs.len() <= RUN {
        let last = runs.len() - 1;
        for (i, pair) in runs.windows(2).enumerate() {
            if !short {
                out.push(Insn::SkipUnlessBelow(pair[1].0));
                out.push(Insn::Jump(pair[0].1));
            } else if i + 1 == last {
                // The last comparison leads to both its runs' targets.
                out.push(Insn::Split(pair[1].0, pair[0].1, pair[1].1));
                return;
            } else {
                out.push(Insn::BelowTo(pair[1].0, pair[0].1));
            }
        }
        out.push(Insn::Jump(runs[last].1));
        return;
    }
    let (low, high) = runs.split_at(runs.len() / 2);
    let mut lower = Vec::new();
    search(&mut lower, low, short);
    // nr >= high[0]: jump over the lower half's code.
    if short {
        out.push(Insn::AtLeastOver(high[0].0, lower.len()));
    } else {
        out.push(Insn::SkipIfBelow(high[0].0));
        out.push(Insn::JumpOver(lower.len()));
    }
    out.extend(lower);
    search(out, high, short);
}

/// The whole program: `leaves` decided by the tree with `matched`, other
/// numbers get `mismatch`, conditional ones go to `conditional` (a complete
/// seccompiler program), and x32 numbers and foreign architectures are
/// refused with `refuse`.
pub fn program(
    leaves: &[(u32, Leaf)],
    matched: u32,
    mismatch: u32,
    refuse: u32,
    conditional: &[sock_filter],
) -> Vec<sock_filter> {
    let runs = runs(leaves);
    emit(&runs, true, matched, mismatch, refuse, conditional)
        .unwrap_or_else(|| emit(&runs, false, matched, mismatch, refuse, conditional).expect("long jumps fit"))
}

/// The program in short or long form; `None` if a short jump does not fit.
fn emit(
    runs: &[(u32, Target)],
    short: bool,
    matched: u32,
    mismatch: u32,
    refuse: u32,
    conditional: &[sock_filter],
) -> Option<Vec<sock_filter>> {
    let mut code = vec![
        Insn::Plain(stmt(BPF_LD_W_ABS, ARCH_OFFSET)),
        Insn::Plain(sock_filter { code: BPF_JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 }),
        Insn::Plain(stmt(BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS)),
        Insn::Plain(stmt(BPF_LD_W_ABS, NR_OFFSET)),
        // nr >= X32_BIT: refuse; else skip the jump.
        Insn::Plain(sock_filter { code: BPF_JGE_K, jt: 0, jf: 1, k: X32_BIT }),
        Insn::Jump(Target::Refuse),
    ];
    search(&mut code, runs, short);
    // The shared targets, then the conditional program.
    let tail = code.len();
    let at = |t: Target| match t {
        Target::Matched => tail,
        Target::Mismatch => tail + 1,
        Target::Refuse => tail + 2,
        Target::Conditional => tail + 3,
    };
    let mut out: Vec<sock_filter> = code
        .iter()
        .enumerate()
        .map(|(pc, insn)| {
            Some(match insn {
                Insn::Plain(f) => f.clone(),
                &Insn::BelowTo(k, t) => {
                    sock_filter { code: BPF_JGE_K, jt: 0, jf: u8::try_from(at(t) - pc - 1).ok()?, k }
                }
                &Insn::Split(k, below, above) => sock_filter {
                    code: BPF_JGE_K,
                    jt: u8::try_from(at(above) - pc - 1).ok()?,
                    jf: u8::try_from(at(below) - pc - 1).ok()?,
                    k,
                },
                &Insn::AtLeastOver(k, n) => sock_filter { code: BPF_JGE_K, jt: u8::try_from(n).ok()?, jf: 0, k },
                &Insn::SkipIfBelow(k) => sock_filter { code: BPF_JGE_K, jt: 0, jf: 1, k },
                &Insn::SkipUnlessBelow(k) => sock_filter { code: BPF_JGE_K, jt: 1, jf: 0, k },
                &Insn::Jump(t) => stmt(BPF_JA, (at(t) - pc - 1) as u32),
                &Insn::JumpOver(n) => stmt(BPF_JA, n as u32),
            })
        })
        .collect::<Option<_>>()?;
    out.push(stmt(BPF_RET_K, matched));
    out.push(stmt(BPF_RET_K, mismatch));
    out.push(stmt(BPF_RET_K, refuse));
    out.extend_from_slice(conditional);
    Some(out)
}

/// Runs `program` on a syscall as the kernel would (for tests and the fuzz
/// target): the instructions seccompiler and this module emit.
#[doc(hidden)]
pub fn run(program: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            0 => nr,
            4 => arch,
            8..=15 => 0,
            o => {
                let (i, hi) = (((o - 16) / 8) as usize, (o - 16) % 8 == 4);
                (if hi { args[i] >> 32 } else { args[i] }) as u32
            }
        }
    };
    let (mut pc, mut a) = (0usize, 0u32);
    loop {
        let f = &program[pc];
        pc += 1;
        match f.code {
            BPF_LD_W_ABS => a = word(f.k),
            0x54 => a &= f.k,
            BPF_RET_K => return f.k,
            BPF_JA => pc += f.k as usize,
            code => {
                let taken = match code {
                    BPF_JEQ_K => a == f.k,
                    BPF_JGE_K => a >= f.k,
                    0x25 => a > f.k,
                    0x45 => a & f.k != 0,
                    _ => panic!("unexpected BPF instruction {code:#x}"),
                };
                pc += if taken { f.jt } else { f.jf } as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BPF_JA, Leaf, program, run};

    const ARCH: u32 = super::AUDIT_ARCH_X86_64;
    const MATCHED: u32 = 0x7fff_0000;
    const MISMATCH: u32 = 0x0005_0001;
    const REFUSE: u32 = 0x0005_0002;

    /// Every number decides as its leaf says, in whichever form the tree
    /// takes; returns the program's length and its number of `JA`s.
    fn check(leaves: &[(u32, Leaf)]) -> (usize, usize) {
        // The conditional program: refuse, so it is told apart from mismatch.
        let conditional = [super::stmt(super::BPF_RET_K, REFUSE)];
        let p = program(leaves, MATCHED, MISMATCH, REFUSE, &conditional);
        for nr in 0..1100 {
            let want = match leaves.iter().find(|(n, _)| *n == nr) {
                Some((_, Leaf::Matched)) => MATCHED,
                Some((_, Leaf::Conditional)) => REFUSE,
                None => MISMATCH,
            };
            assert_eq!(run(&p, ARCH, nr, [0; 6]), want, "nr {nr}");
        }
        assert_eq!(run(&p, ARCH, 0x4000_0000 | 3, [0; 6]), REFUSE, "x32");
        (p.len(), p.iter().filter(|f| f.code == BPF_JA).count())
    }

    #[test]
    fn a_small_tree_jumps_directly() {
        let leaves: Vec<_> =
            (0..40).map(|i| (i * 7, if i % 5 == 0 { Leaf::Conditional } else { Leaf::Matched })).collect();
        let (len, jumps) = check(&leaves);
        assert!(len < 256, "{len}");
        // Every comparison jumps to its targets itself: only the x32
        // refusal's jump remains.
        assert_eq!(jumps, 1, "{len} instructions");
    }

    /// Hundreds of runs make a tree past the 8-bit offsets: each comparison
    /// then goes through a `JA`.
    #[test]
    fn a_large_tree_takes_long_jumps() {
        let leaves: Vec<_> = (0..500).map(|i| (i * 2, Leaf::Matched)).collect();
        let (len, jumps) = check(&leaves);
        assert!(len > 256 && jumps > len / 3, "{jumps} JA in {len}");
    }
}
