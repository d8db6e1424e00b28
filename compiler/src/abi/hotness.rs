//! What fast-tier code compiled in-process needs to count itself hot for
//! tier-up (see `translate/limits.rs` and the runtime's `lazy.rs`).

/// What fast-tier code needs to count itself hot (see
/// `translate/limits.rs`): addresses in the compiling process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotnessCounter {
    /// Address of the function's `i32` counter, counted down.
    pub counter: u64,
    /// Address of the hook, an `extern "C" fn(u64, u32)` in the platform's
    /// convention, called when a count brings the counter to zero.
    pub hook: u64,
    /// The hook's first argument.
    pub context: u64,
    /// The hook's second argument.
    pub index: u32,
}
