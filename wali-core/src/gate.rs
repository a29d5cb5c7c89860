//! The choke point every guest syscall passes: the gate decides on the
//! decoded call (arguments already copied out of guest memory) before the
//! host acts on it. The policy engine implements [`Gate`].

use crate::decode::Call;

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

pub trait Gate: Send + Sync {
    /// Decides on a call. Must not read guest memory: everything it may
    /// look at has been copied into `call`.
    fn decide(&self, call: &Call<'_>) -> Verdict;

    /// Sees the outcome of a call the gate allowed or denied.
    fn record(&self, _call: &Call<'_>, _verdict: Verdict, _ret: i64) {}
}

/// Allows everything; the host with no policy.
pub struct AllowAll;

impl Gate for AllowAll {
    fn decide(&self, _call: &Call<'_>) -> Verdict {
        Verdict::Allow
    }
}
