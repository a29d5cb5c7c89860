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
/// the caller left to it).
fn search(out: &mut Vec<Insn>, runs: &[(u32, Target)]) {
    if runs.len() <= RUN {
        for pair in runs.windows(2) {
            out.push(Insn::SkipUnlessBelow(pair[1].0));
            out.push(Insn::Jump(pair[0].1));
        }
        out.push(Insn::Jump(runs[runs.len() - 1].1));
        return;
    }
    let (low, high) = runs.split_at(runs.len() / 2);
    // nr >= high[0]: take the jump over the lower half's code.
    out.push(Insn::SkipIfBelow(high[0].0));
    let mut lower = Vec::new();
    search(&mut lower, low);
    out.push(Insn::JumpOver(lower.len()));
    out.extend(lower);
    search(out, high);
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
    let mut code = vec![
        Insn::Plain(stmt(BPF_LD_W_ABS, ARCH_OFFSET)),
        Insn::Plain(sock_filter { code: BPF_JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 }),
        Insn::Plain(stmt(BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS)),
        Insn::Plain(stmt(BPF_LD_W_ABS, NR_OFFSET)),
        // nr >= X32_BIT: refuse; else skip the jump.
        Insn::Plain(sock_filter { code: BPF_JGE_K, jt: 0, jf: 1, k: X32_BIT }),
        Insn::Jump(Target::Refuse),
    ];
    search(&mut code, &runs(leaves));
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
        .map(|(pc, insn)| match insn {
            Insn::Plain(f) => f.clone(),
            &Insn::SkipIfBelow(k) => sock_filter { code: BPF_JGE_K, jt: 0, jf: 1, k },
            &Insn::SkipUnlessBelow(k) => sock_filter { code: BPF_JGE_K, jt: 1, jf: 0, k },
            &Insn::Jump(t) => stmt(BPF_JA, (at(t) - pc - 1) as u32),
            &Insn::JumpOver(n) => stmt(BPF_JA, n as u32),
        })
        .collect();
    out.push(stmt(BPF_RET_K, matched));
    out.push(stmt(BPF_RET_K, mismatch));
    out.push(stmt(BPF_RET_K, refuse));
    out.extend_from_slice(conditional);
    out
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
