//! The syscall instruction itself, inlined into its caller. Returning from
//! the kernel leaves the CPU's return predictions stale (with the kernel's
//! speculation mitigations, each function return between the syscall and
//! the guest's Wasm code costs several nanoseconds), so the hot path makes
//! the call in the same frame rather than through libc's `syscall()`.

/// Makes syscall `nr` and returns the kernel's raw result (`-errno` on
/// failure).
///
/// # Safety
/// As for `syscall(2)`: pointer arguments must be valid for the call.
#[inline(always)]
pub unsafe fn syscall6(nr: i64, a: [u64; 6]) -> i64 {
    #[cfg(target_arch = "x86_64")]
    {
        let ret: i64;
        // SAFETY: the x86_64 syscall convention; the kernel clobbers rcx
        // and r11 and touches no user stack.
        unsafe {
            std::arch::asm!(
                "syscall",
                inlateout("rax") nr => ret,
                in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
                in("r10") a[3], in("r8") a[4], in("r9") a[5],
                lateout("rcx") _, lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: as above.
    crate::errno::from_libc(unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) })
}

#[cfg(test)]
mod tests {
    use super::syscall6;

    #[test]
    fn returns_results_and_negative_errnos() {
        // SAFETY: no pointers.
        unsafe {
            assert_eq!(syscall6(libc::SYS_getpid, [0; 6]), std::process::id() as i64);
            assert_eq!(syscall6(libc::SYS_close, [-1i64 as u64, 0, 0, 0, 0, 0]), -(libc::EBADF as i64));
        }
    }
}
