//! The choke point every guest syscall passes: the gate decides on the
//! decoded call (arguments already copied out of guest memory) before the
//! host acts on it. The policy engine implements [`Gate`].

use crate::decode::Call;
use crate::table::Syscall;

/// What the gate says about one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Carry the call out.
    Allow,
    /// Return `-errno` to the guest without carrying the call out.
    Deny(i32),
    /// End the guest.
    Kill,
}

/// Who made a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// A WALI program.
    Wali,
    /// The WASI shim, while carrying out this WASI function (if known and
    /// asked for).
    Wasi(Option<&'static str>),
}

/// A gate's answer to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ruling {
    pub verdict: Verdict,
    /// Gate-defined detail, handed back to [`Gate::record`].
    pub note: u64,
    /// Whether the gate wants to see the outcome. When false the host
    /// measures nothing, so an unrecorded call costs nothing.
    pub record: bool,
    /// Whether the outcome becomes an event: then it is timed and says
    /// which WASI call made it (found from the Wasm stack, which is costly).
    pub attribute: bool,
}

impl Ruling {
    pub const ALLOW: Ruling = Ruling { verdict: Verdict::Allow, note: 0, record: false, attribute: false };
}

pub trait Gate: Send + Sync {
    /// Decides on a call. Must not read guest memory: everything it may
    /// look at has been copied into `call`.
    fn decide(&self, call: &Call<'_>) -> Ruling;

    /// Whether every call of `sys`, whatever its arguments, is allowed and
    /// unrecorded for the whole run: [`Gate::decide`] would return
    /// [`Ruling::ALLOW`]. The host then skips asking (asked once, at link
    /// time).
    fn unconditional(&self, _sys: &'static Syscall) -> bool {
        false
    }

    /// Sees the outcome of a call whose ruling asked for it: the raw
    /// result (0 for a call that ended the guest), how long it took, and
    /// which layer made it.
    fn record(&self, _call: &Call<'_>, _ruling: Ruling, _ret: i64, _dur_ns: u64, _layer: Layer) {}

    /// A resource limit (see [`crate::limits`]) was exceeded; the guest is
    /// about to end.
    fn limit(&self, _name: &str, _detail: &str) {}

    /// Writes out whatever the gate buffers: the process image is about to
    /// be replaced (execve) or to end without running exit handlers.
    fn flush(&self) {}
}

/// Allows everything; the host with no policy.
pub struct AllowAll;

impl Gate for AllowAll {
    fn decide(&self, _call: &Call<'_>) -> Ruling {
        Ruling::ALLOW
    }

    fn unconditional(&self, _sys: &'static Syscall) -> bool {
        true
    }
}
