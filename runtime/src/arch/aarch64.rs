//! AArch64 (64-bit Arm, Linux): entering wasm, unwinding back to the
//! entry, reading the registers of a signal context, and keeping the
//! instruction cache coherent with code written as data.
//!
//! The same design as `x86_64.rs`: `cljit_enter` saves the callee-saved
//! registers (`x19`-`x28`, the frame record `x29`/`x30`, and `d8`-`d15`,
//! the low halves of `v8`-`v15` that AAPCS64 preserves) and its stack
//! pointer in a [`JmpBuf`], then calls an array-call entry. If wasm traps
//! (a fault in a guard page or on a `udf` trap instruction), the signal
//! handler rewrites the interrupted context so that it resumes at
//! `cljit_unwind` with the `JmpBuf` in `x0`, which restores the saved stack
//! pointer and leaves through `cljit_enter`'s epilogue, returning 1.
//!
//! Lazy compilation's stubs and entries are not written for AArch64 yet:
//! [`LAZY_COMPILATION`] is false, so a module asked to compile lazily
//! compiles whole (see `Engine::compiles_lazily`), and the lazy items below
//! exist only so the shared code builds.

use std::ffi::c_void;

use super::{JmpBuf, Resume};

std::arch::global_asm!(
    ".text",
    ".globl cljit_enter",
    ".type cljit_enter,%function",
    ".p2align 4",
    "cljit_enter:",
    "    stp x29, x30, [sp, #-16]!",
    "    mov x29, sp",
    "    stp x19, x20, [sp, #-16]!",
    "    stp x21, x22, [sp, #-16]!",
    "    stp x23, x24, [sp, #-16]!",
    "    stp x25, x26, [sp, #-16]!",
    "    stp x27, x28, [sp, #-16]!",
    "    stp d8, d9, [sp, #-16]!",
    "    stp d10, d11, [sp, #-16]!",
    "    stp d12, d13, [sp, #-16]!",
    "    stp d14, d15, [sp, #-16]!",
    "    mov x9, sp",
    "    str x9, [x0]",
    "    str x29, [x0, #8]",
    "    mov x9, x1",
    "    ldr x10, [x9]",
    "    ldr x0, [x9, #8]",
    "    ldr x1, [x9, #16]",
    "    ldr x2, [x9, #24]",
    "    ldr x3, [x9, #32]",
    "    ldr x4, [x9, #40]",
    "    blr x10",
    "    mov w0, #0",
    "2:",
    "    ldp d14, d15, [sp], #16",
    "    ldp d12, d13, [sp], #16",
    "    ldp d10, d11, [sp], #16",
    "    ldp d8, d9, [sp], #16",
    "    ldp x27, x28, [sp], #16",
    "    ldp x25, x26, [sp], #16",
    "    ldp x23, x24, [sp], #16",
    "    ldp x21, x22, [sp], #16",
    "    ldp x19, x20, [sp], #16",
    "    ldp x29, x30, [sp], #16",
    "    ret",
    ".size cljit_enter, . - cljit_enter",
    "",
    ".globl cljit_unwind",
    ".type cljit_unwind,%function",
    ".p2align 4",
    "cljit_unwind:",
    "    ldr x9, [x0]",
    "    mov sp, x9",
    "    ldr x29, [x0, #8]",
    "    mov w0, #1",
    "    b 2b",
    ".size cljit_unwind, . - cljit_unwind",
);

unsafe extern "C" {
    fn cljit_unwind();
}

/// Defines `$adapter`, an entry point in Cranelift's `preserve_all`
/// convention for the `extern "C" fn(vmctx)` `$target`: it saves every
/// register AAPCS64 lets `$target` clobber (`x0`-`x18` and all of
/// `q0`-`q31`, whose upper halves no callee preserves), calls it with the
/// vmctx still in `x0`, restores them and returns.
///
/// Stack: 16-aligned throughout (the frame record, ten register pairs and
/// 512 bytes of vector registers).
macro_rules! preserve_all_adapter {
    ($adapter:ident => $target:path) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($adapter)),
            concat!(".type ", stringify!($adapter), ",%function"),
            ".p2align 4",
            concat!(stringify!($adapter), ":"),
            "    stp x29, x30, [sp, #-16]!",
            "    mov x29, sp",
            "    stp x0, x1, [sp, #-16]!",
            "    stp x2, x3, [sp, #-16]!",
            "    stp x4, x5, [sp, #-16]!",
            "    stp x6, x7, [sp, #-16]!",
            "    stp x8, x9, [sp, #-16]!",
            "    stp x10, x11, [sp, #-16]!",
            "    stp x12, x13, [sp, #-16]!",
            "    stp x14, x15, [sp, #-16]!",
            "    stp x16, x17, [sp, #-16]!",
            "    stp x18, xzr, [sp, #-16]!",
            "    sub sp, sp, #512",
            "    stp q0, q1, [sp]",
            "    stp q2, q3, [sp, #32]",
            "    stp q4, q5, [sp, #64]",
            "    stp q6, q7, [sp, #96]",
            "    stp q8, q9, [sp, #128]",
            "    stp q10, q11, [sp, #160]",
            "    stp q12, q13, [sp, #192]",
            "    stp q14, q15, [sp, #224]",
            "    stp q16, q17, [sp, #256]",
            "    stp q18, q19, [sp, #288]",
            "    stp q20, q21, [sp, #320]",
            "    stp q22, q23, [sp, #352]",
            "    stp q24, q25, [sp, #384]",
            "    stp q26, q27, [sp, #416]",
            "    stp q28, q29, [sp, #448]",
            "    stp q30, q31, [sp, #480]",
            "    bl {target}",
            "    ldp q0, q1, [sp]",
            "    ldp q2, q3, [sp, #32]",
            "    ldp q4, q5, [sp, #64]",
            "    ldp q6, q7, [sp, #96]",
            "    ldp q8, q9, [sp, #128]",
            "    ldp q10, q11, [sp, #160]",
            "    ldp q12, q13, [sp, #192]",
            "    ldp q14, q15, [sp, #224]",
            "    ldp q16, q17, [sp, #256]",
            "    ldp q18, q19, [sp, #288]",
            "    ldp q20, q21, [sp, #320]",
            "    ldp q22, q23, [sp, #352]",
            "    ldp q24, q25, [sp, #384]",
            "    ldp q26, q27, [sp, #416]",
            "    ldp q28, q29, [sp, #448]",
            "    ldp q30, q31, [sp, #480]",
            "    add sp, sp, #512",
            "    ldp x18, xzr, [sp], #16",
            "    ldp x16, x17, [sp], #16",
            "    ldp x14, x15, [sp], #16",
            "    ldp x12, x13, [sp], #16",
            "    ldp x10, x11, [sp], #16",
            "    ldp x8, x9, [sp], #16",
            "    ldp x6, x7, [sp], #16",
            "    ldp x4, x5, [sp], #16",
            "    ldp x2, x3, [sp], #16",
            "    ldp x0, x1, [sp], #16",
            "    ldp x29, x30, [sp], #16",
            "    ret",
            concat!(".size ", stringify!($adapter), ", . - ", stringify!($adapter)),
            target = sym $target,
        );
        unsafe extern "C" {
            fn $adapter(vmctx: *mut u8);
        }
    };
}
pub(crate) use preserve_all_adapter;

/// The program counter, frame pointer and stack pointer of a signal context.
///
/// # Safety
///
/// `context` must be the `ucontext_t` a signal handler received.
pub unsafe fn context_registers(context: *mut c_void) -> (usize, usize, usize) {
    let uc = context.cast::<libc::ucontext_t>();
    // SAFETY: `context` is the handler's live `ucontext_t` (this function's
    // contract), so its machine context is readable.
    let mc = unsafe { &(*uc).uc_mcontext };
    (mc.pc as usize, mc.regs[29] as usize, mc.sp as usize)
}

/// Makes the signal context resume in `cljit_unwind(buf)`.
///
/// # Safety
///
/// `context` must be the `ucontext_t` a signal handler received, and `buf`
/// the `JmpBuf` of the innermost active `enter` on this thread.
pub unsafe fn redirect_to_unwind(context: *mut c_void, buf: *const JmpBuf) {
    let uc = context.cast::<libc::ucontext_t>();
    // SAFETY: `context` is the handler's live `ucontext_t` (this function's
    // contract), which the kernel restores from when the handler returns.
    let mc = unsafe { &mut (*uc).uc_mcontext };
    mc.pc = cljit_unwind as *const () as usize as u64;
    mc.regs[0] = buf as usize as u64;
}

/// The return address and caller frame pointer stored in the frame at `fp`.
///
/// # Safety
///
/// `fp` must point at a frame record (saved frame pointer, then return
/// address: AAPCS64's `x29`/`x30` pair) on a live stack.
pub unsafe fn frame_record(fp: usize) -> (usize, usize) {
    let record = fp as *const usize;
    // SAFETY: `fp` is a frame record of two words on a live stack (this
    // function's contract).
    unsafe { (*record.add(1), *record) }
}

/// The callee-saved general registers as they are now (`x19` to `x29`). A
/// caller's value lives either in one of these or in a stack slot (the
/// callee-saved `d8`-`d15` hold no pointers), so these and the stack
/// together hold every value the frames above keep across the call that
/// led here (what the exception collector scans).
#[inline(always)]
pub fn callee_saved_registers() -> [usize; 11] {
    let mut regs = [0usize; 11];
    // SAFETY: the asm only stores eleven registers into `regs`, a local
    // array of eleven words whose address it is given; it reads no other
    // memory and changes no register or flag.
    unsafe {
        std::arch::asm!(
            "stp x19, x20, [{p}]",
            "stp x21, x22, [{p}, #16]",
            "stp x23, x24, [{p}, #32]",
            "stp x25, x26, [{p}, #48]",
            "stp x27, x28, [{p}, #64]",
            "str x29, [{p}, #80]",
            p = in(reg) regs.as_mut_ptr(),
            options(nostack, preserves_flags),
        );
    }
    regs
}

impl Resume {
    /// Resuming in `cljit_unwind`, which returns from the entry with
    /// `buf`: the throw ends the wasm call.
    pub fn unwind_to_entry(buf: *const JmpBuf) -> Resume {
        // SAFETY: reading the stack pointer has no effect; it is any
        // valid stack address, replaced by `cljit_unwind` at once.
        let sp: usize = unsafe {
            let sp;
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
            sp
        };
        Resume {
            pc: cljit_unwind as *const () as usize,
            sp,
            fp: 0,
            payload: buf as usize,
            arg: buf as usize,
        }
    }
}

// The `throw` builtin, called by compiled code with the `tail` convention,
// which on AArch64 passes arguments from `x2` (Cranelift keeps `x0` for a
// return area and `x1` for indirect callees): `x2` = vmctx, `x3` =
// exception; every register may be clobbered on the exceptional edge.
// Its frame record gives the unwinder the thrower's frame pointer and
// return address; the unwinder (a Rust function that returns normally)
// says where to resume, and this stub jumps there with `x0` = the
// resume's payload and `x1` (the second payload register) cleared,
// discarding only wasm frames and its own.
std::arch::global_asm!(
    ".text",
    ".globl cljit_throw",
    ".type cljit_throw,%function",
    ".p2align 4",
    "cljit_throw:",
    "    stp x29, x30, [sp, #-16]!",
    "    mov x29, sp",
    "    mov x0, x2",
    "    mov x1, x3",
    "    mov x2, x29",
    "    bl cljit_throw_unwind",
    "    ldr x16, [x0]",
    "    ldr x17, [x0, #8]",
    "    mov sp, x17",
    "    ldr x29, [x0, #16]",
    "    mov x1, #0",
    "    ldr x0, [x0, #24]",
    "    br x16",
    ".size cljit_throw, . - cljit_throw",
);

unsafe extern "C" {
    /// The `throw` builtin (see above): never returns. Its arguments
    /// arrive in the `tail` convention's registers, so it is only ever
    /// called from compiled code.
    pub fn cljit_throw(vmctx: *mut u8, exn: *mut u8);
}

/// Makes the instruction cache see code just written as data at
/// `[start, start + len)`, before any thread runs it.
///
/// # Safety
///
/// The range must be mapped.
pub unsafe fn flush_icache(start: usize, len: usize) {
    unsafe extern "C" {
        fn __clear_cache(start: *mut libc::c_char, end: *mut libc::c_char);
    }
    // SAFETY: the range is mapped (this function's contract); cleaning
    // the data cache and invalidating the instruction cache by address
    // changes no memory.
    unsafe {
        __clear_cache(
            start as *mut libc::c_char,
            (start + len) as *mut libc::c_char,
        )
    };
}

/// Whether lazy compilation's stubs and entries exist for this
/// architecture. Not yet on AArch64: modules compile whole.
pub const LAZY_COMPILATION: bool = false;

/// The address of lazy compilation's entry: none on AArch64 (see
/// [`LAZY_COMPILATION`]).
pub fn lazy_entry() -> usize {
    0
}

/// The address of the tier-up entry: none on AArch64.
pub fn tier_entry() -> usize {
    0
}

/// Bytes before a fast-tier function that counts its calls (unused on
/// AArch64).
pub const LAZY_TIER_PREFIX_BYTES: usize = 64;

/// Unreachable on AArch64: no lazy region is ever made (see
/// [`LAZY_COMPILATION`]).
#[allow(dead_code, reason = "only lazy compilation's unreached code calls it")]
pub fn lazy_tier_prefix(
    _at: usize,
    _counter: usize,
    _index: u32,
    _state: usize,
    _entry: usize,
) -> [u8; LAZY_TIER_PREFIX_BYTES] {
    unreachable!("lazy compilation is refused on this architecture")
}

/// Bytes of a function's stub (unused on AArch64).
pub const LAZY_STUB_BYTES: usize = 8;
/// Bytes of a function's slow stub (unused on AArch64).
pub const LAZY_SLOW_STUB_BYTES: usize = 16;
/// Bytes of a module's shared tail of the slow stubs (unused on AArch64).
pub const LAZY_COMMON_BYTES: usize = 16;

/// Unreachable on AArch64 (see [`LAZY_COMPILATION`]).
pub fn lazy_stub(_at: usize, _slot: usize) -> [u8; LAZY_STUB_BYTES] {
    unreachable!("lazy compilation is refused on this architecture")
}

/// Unreachable on AArch64 (see [`LAZY_COMPILATION`]).
pub fn lazy_slow_stub(_at: usize, _index: u32, _common: usize) -> [u8; LAZY_SLOW_STUB_BYTES] {
    unreachable!("lazy compilation is refused on this architecture")
}

/// Unreachable on AArch64 (see [`LAZY_COMPILATION`]).
pub fn lazy_common(_at: usize, _state: usize, _entry: usize) -> [u8; LAZY_COMMON_BYTES] {
    unreachable!("lazy compilation is refused on this architecture")
}

/// Bytes a relocation of kind `kind` patches (see [`patch_relocation`]).
#[allow(dead_code, reason = "only lazy compilation's unreached code calls it")]
pub fn relocation_bytes(kind: cljit_compiler::cranelift_codegen::binemit::Reloc) -> usize {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Abs8 => 8,
        _ => 4,
    }
}

/// Patches a relocation of kind `kind` at `at` (in code being written) to
/// refer to `target` plus `addend`, for code that runs with the relocation
/// at `pc`. AArch64 code leaves only absolute addresses (library calls)
/// for load time; returns false for any other kind.
///
/// # Safety
///
/// `at` must be writable and hold the relocation's 8 bytes.
pub unsafe fn patch_relocation(
    kind: cljit_compiler::cranelift_codegen::binemit::Reloc,
    at: *mut u8,
    _pc: usize,
    target: usize,
    addend: i64,
) -> bool {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Abs8 => {
            // SAFETY: `at` holds 8 writable bytes (this function's
            // contract); the write is unaligned-safe.
            unsafe {
                at.cast::<i64>()
                    .write_unaligned((target as i64).wrapping_add(addend))
            };
            true
        }
        _ => false,
    }
}
