//! Architecture-specific code: one small module per architecture with the
//! same items (`context_registers`, `redirect_to_unwind`, `frame_record`,
//! `callee_saved_registers`, `preserve_all_adapter!`, `gc_exit_adapter!`,
//! `Resume::
//! unwind_to_entry` and `cljit_throw`, `flush_icache`, relocation
//! patching, veneers, and lazy compilation's stubs, counting prefixes and
//! entries), each with its own `cljit_enter`, `cljit_unwind` and lazy
//! entries in assembly. What every architecture shares is here: the
//! entry's saved frame, its arguments, where a throw resumes, and the
//! lazy entries' addresses.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("cljit's runtime supports x86-64 and aarch64 only");

/// Where a vmctx holds its store's `VmRuntimeLimits` pointer, for the
/// assembly of `gc_exit_adapter!` (tests check it against `VmOffsets`).
pub(crate) const VMCTX_RUNTIME_LIMITS: usize = 2 * size_of::<usize>();

/// Where `VmRuntimeLimits` holds `last_exit_fp`, for the same assembly.
pub(crate) const LIMITS_LAST_EXIT_FP: usize = 8 + 3 * size_of::<usize>();

/// Where `cljit_enter` saved its frame.
#[repr(C)]
#[derive(Debug, Default)]
pub struct JmpBuf {
    /// Stack pointer after the saves.
    pub sp: usize,
    /// Frame pointer of `cljit_enter`.
    pub fp: usize,
}

/// The arguments of an array call, passed by pointer.
#[repr(C)]
#[derive(Debug)]
pub struct EntryArgs {
    /// The array-call entry to call.
    pub array_call: *const u8,
    /// Callee vmctx.
    pub callee_vmctx: *mut u8,
    /// Caller vmctx.
    pub caller_vmctx: *mut u8,
    /// Native entry of the callee (used by wasm trampolines).
    pub wasm_call: *const u8,
    /// The value slots.
    pub values: *mut u8,
    /// Number of value slots.
    pub values_len: usize,
}

/// Where a throw resumes: a landing pad in a wasm frame (with the
/// exception in the first payload register), or `cljit_unwind` (with the
/// entry's `JmpBuf` in the first argument register) when nothing catches
/// it. Filled by the unwinder, read by the architecture's `cljit_throw`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Resume {
    /// Where to jump.
    pub pc: usize,
    /// The stack pointer to jump with.
    pub sp: usize,
    /// The frame pointer to jump with.
    pub fp: usize,
    /// The first exception payload register (`rax`, `x0`): the exception.
    pub payload: usize,
    /// The first argument register (`rdi`, `x0`): the `JmpBuf` for
    /// `cljit_unwind`. On AArch64 both are `x0`, so a throw to the entry
    /// sets `payload` to the `JmpBuf` too.
    pub arg: usize,
}

unsafe extern "C" {
    /// Saves the callee-saved registers and the frame in `buf`, calls
    /// `args.array_call`, and returns 0, or 1 when `cljit_unwind` came
    /// back through it after a trap (defined per architecture).
    fn cljit_enter(buf: *mut JmpBuf, args: *const EntryArgs) -> u32;
}

/// Calls `args.array_call`, returning `false` normally and `true` if wasm
/// trapped and the handler unwound back here.
///
/// # Safety
///
/// `args` must describe a valid array call; `buf` must stay valid during the
/// call; traps must have been armed for this thread (see `traps`).
pub unsafe fn enter(buf: *mut JmpBuf, args: &EntryArgs) -> bool {
    // SAFETY: `cljit_enter` saves every callee-saved register and restores
    // it on both ways out (returning or unwound to by `cljit_unwind`), so
    // the Rust frame around the call sees no register change; `args` and
    // `buf` are valid for the whole call, as this function requires.
    unsafe { cljit_enter(buf, args) != 0 }
}

unsafe extern "C" {
    // Lazy compilation's entries (defined per architecture by its
    // `lazy_entry!`): entered from stubs with their own register contract,
    // never called from Rust; only their addresses are taken.
    fn cljit_lazy_entry();
    fn cljit_tier_entry();
}

/// Whether lazy compilation's stubs and entries exist for this
/// architecture (both supported ones have them; `Engine::compiles_lazily`
/// asks).
pub const LAZY_COMPILATION: bool = true;

/// The address of lazy compilation's entry, which a not-yet-compiled
/// function's slow stub reaches (see the architecture's file).
pub fn lazy_entry() -> usize {
    cljit_lazy_entry as *const () as usize
}

/// The address of the tier-up entry, which a fast-tier function's counting
/// prefix reaches when it finds the function hot.
pub fn tier_entry() -> usize {
    cljit_tier_entry as *const () as usize
}
