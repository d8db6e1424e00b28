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
//! Lazy compilation's stubs, counting prefixes and entries are AArch64
//! code of the same shape as x86-64's, using only `x16`/`x17` on the way
//! in; a fast-tier call that does not reach its callee's stub (a `bl`
//! reaches 128 MiB, a lazy region may be larger) goes through a veneer
//! placed after the caller.

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

/// Defines `$adapter`, the entry compiled code calls for the builtin
/// `$target` that may collect the GC heap: it pushes a frame record,
/// stores its frame pointer in the store's `VmRuntimeLimits::last_exit_fp`
/// (through the vmctx in `x0`), so the collector can walk from it to the
/// wasm frames above, and calls `$target` with the arguments untouched.
///
/// Stack: 16-aligned throughout (the frame record).
macro_rules! gc_exit_adapter {
    ($adapter:ident => $target:path, fn($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($adapter)),
            concat!(".type ", stringify!($adapter), ",%function"),
            ".p2align 4",
            concat!(stringify!($adapter), ":"),
            "    stp x29, x30, [sp, #-16]!",
            "    mov x29, sp",
            "    ldr x16, [x0, #{limits}]",
            "    str x29, [x16, #{exit_fp}]",
            "    bl {target}",
            "    ldp x29, x30, [sp], #16",
            "    ret",
            concat!(".size ", stringify!($adapter), ", . - ", stringify!($adapter)),
            target = sym $target,
            limits = const $crate::arch::VMCTX_RUNTIME_LIMITS,
            exit_fp = const $crate::arch::LIMITS_LAST_EXIT_FP,
        );
        unsafe extern "C" {
            fn $adapter($($arg: $ty),*) -> $ret;
        }
    };
}
pub(crate) use gc_exit_adapter;

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

// Lazy compilation's entries, as on x86-64 (see `x86_64.rs`). A slow stub
// or a counting prefix pushes two words, the function's defined index and
// the address of the module's state word (which the two entry words
// follow), and branches to the entry through the state's neighbour; the
// `tail` convention passes arguments in `x0`-`x8` and `v0`-`v7` and on the
// stack, never in `x16`/`x17` (which veneers may clobber), so the stubs use
// only those two. The entry pops the two words, saves `x0`-`x15` and
// `q0`-`q7` under a frame record that links the caller's frame, calls the
// Rust function with the state and the index, restores the registers and
// branches to the address it returned, with `x30` the caller's return
// address again, so the callee runs as if called directly. If the Rust
// function returns 0, `cljit_lazy_failed` records the error and returns
// the entry's `JmpBuf`, and the call unwinds like a trap.
macro_rules! lazy_entry {
    ($entry:ident => $target:path) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($entry)),
            concat!(".type ", stringify!($entry), ",%function"),
            ".p2align 4",
            concat!(stringify!($entry), ":"),
            "    ldp x16, x17, [sp], #16",
            "    stp x29, x30, [sp, #-16]!",
            "    mov x29, sp",
            "    sub sp, sp, #256",
            "    stp x0, x1, [sp]",
            "    stp x2, x3, [sp, #16]",
            "    stp x4, x5, [sp, #32]",
            "    stp x6, x7, [sp, #48]",
            "    stp x8, x9, [sp, #64]",
            "    stp x10, x11, [sp, #80]",
            "    stp x12, x13, [sp, #96]",
            "    stp x14, x15, [sp, #112]",
            "    stp q0, q1, [sp, #128]",
            "    stp q2, q3, [sp, #160]",
            "    stp q4, q5, [sp, #192]",
            "    stp q6, q7, [sp, #224]",
            "    ldr x0, [x17]",
            "    mov w1, w16",
            "    bl {target}",
            "    cbz x0, 3f",
            "    mov x16, x0",
            "    ldp q6, q7, [sp, #224]",
            "    ldp q4, q5, [sp, #192]",
            "    ldp q2, q3, [sp, #160]",
            "    ldp q0, q1, [sp, #128]",
            "    ldp x14, x15, [sp, #112]",
            "    ldp x12, x13, [sp, #96]",
            "    ldp x10, x11, [sp, #80]",
            "    ldp x8, x9, [sp, #64]",
            "    ldp x6, x7, [sp, #48]",
            "    ldp x4, x5, [sp, #32]",
            "    ldp x2, x3, [sp, #16]",
            "    ldp x0, x1, [sp]",
            "    mov sp, x29",
            "    ldp x29, x30, [sp], #16",
            "    br x16",
            "3:",
            "    bl {failed}",
            "    b {unwind}",
            concat!(".size ", stringify!($entry), ", . - ", stringify!($entry)),
            target = sym $target,
            failed = sym crate::lazy::cljit_lazy_failed,
            unwind = sym cljit_unwind,
        );
    };
}

lazy_entry!(cljit_lazy_entry => crate::lazy::cljit_lazy_compile);
lazy_entry!(cljit_tier_entry => crate::lazy::cljit_tier_up);

/// Makes every thread of this process see code published after this
/// call: code written while other threads run (lazily compiled or
/// tiered-up functions) must not be executed by a core that fetched its
/// address's old contents before [`flush_icache`] ran, and a
/// context-synchronising event on every core of the process (Linux's
/// `membarrier` "sync core" command) rules that out, as the Arm
/// architecture asks for cross-modified code. Registration happens once;
/// on a kernel without the command this does nothing more than
/// [`flush_icache`] did (each core still synchronises at its next
/// exception return).
pub fn sync_cores() {
    const REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: libc::c_long = 1 << 6;
    const PRIVATE_EXPEDITED_SYNC_CORE: libc::c_long = 1 << 5;
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        // SAFETY: membarrier takes a command and two integer flags and
        // touches no memory of ours.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
                0,
                0,
            ) == 0
        }
    });
    if registered {
        // SAFETY: as above; the process is registered for the command.
        unsafe { libc::syscall(libc::SYS_membarrier, PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) };
    }
}

/// Instruction encodings for the stubs: `x16`/`x17`, stack pointer.
mod encode {
    pub const X16: u32 = 16;
    pub const X17: u32 = 17;
    /// `brk #0`, filling what no instruction uses.
    pub const BRK: u32 = 0xd420_0000;
    /// `stp x16, x17, [sp, #-16]!`
    pub const PUSH_X16_X17: u32 = 0xa9bf_47f0;

    /// `adrp xd, target` at `pc` (pages within 4 GiB).
    pub fn adrp(rd: u32, pc: usize, target: usize) -> u32 {
        let pages = ((target & !0xfff) as i64 - (pc & !0xfff) as i64) >> 12;
        assert!(
            (-(1 << 20)..1 << 20).contains(&pages),
            "lazy stubs, slots and code lie within 4 GiB"
        );
        let imm = pages as u32;
        0x9000_0000 | ((imm & 3) << 29) | (((imm >> 2) & 0x7_ffff) << 5) | rd
    }

    /// The low 12 bits of `target`, for the instruction after an `adrp`.
    pub fn lo12(target: usize) -> u32 {
        (target & 0xfff) as u32
    }

    /// `add xd, xn, #imm` (`imm` below 4096).
    pub fn add_imm(rd: u32, rn: u32, imm: u32) -> u32 {
        assert!(imm < 4096);
        0x9100_0000 | (imm << 10) | (rn << 5) | rd
    }

    /// `ldr xt, [xn, #offset]` (a multiple of 8 below 32 KiB).
    pub fn ldr_x(rt: u32, rn: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(8) && offset < 8 << 12);
        0xf940_0000 | ((offset / 8) << 10) | (rn << 5) | rt
    }

    /// `ldr wt, [xn, #offset]` (a multiple of 4 below 16 KiB).
    pub fn ldr_w(rt: u32, rn: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(4) && offset < 4 << 12);
        0xb940_0000 | ((offset / 4) << 10) | (rn << 5) | rt
    }

    /// `str wt, [xn, #offset]` (a multiple of 4 below 16 KiB).
    pub fn str_w(rt: u32, rn: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(4) && offset < 4 << 12);
        0xb900_0000 | ((offset / 4) << 10) | (rn << 5) | rt
    }

    /// `subs wd, wn, #1`
    pub fn subs_w_1(rd: u32, rn: u32) -> u32 {
        0x7100_0400 | (rn << 5) | rd
    }

    /// `movz wd, #(imm & 0xffff)` and `movk wd, #(imm >> 16), lsl #16`.
    pub fn mov_w(rd: u32, imm: u32) -> [u32; 2] {
        [
            0x5280_0000 | ((imm & 0xffff) << 5) | rd,
            0x72a0_0000 | ((imm >> 16) << 5) | rd,
        ]
    }

    /// The word offset from `pc` to `target`, within `bits` signed bits.
    fn words(pc: usize, target: usize, bits: u32) -> u32 {
        let delta = target as i64 - pc as i64;
        let words = delta >> 2;
        assert!(delta % 4 == 0 && (-(1 << (bits - 1))..1 << (bits - 1)).contains(&words));
        (words as u32) & ((1 << bits) - 1)
    }

    /// `b target` at `pc` (within 128 MiB).
    pub fn b(pc: usize, target: usize) -> u32 {
        0x1400_0000 | words(pc, target, 26)
    }

    /// `b.eq target` at `pc` (within 1 MiB).
    pub fn b_eq(pc: usize, target: usize) -> u32 {
        0x5400_0000 | (words(pc, target, 19) << 5)
    }

    /// `br xn`
    pub fn br(rn: u32) -> u32 {
        0xd61f_0000 | (rn << 5)
    }

    /// `ldr xt, #offset` (PC-relative, a multiple of 4).
    pub fn ldr_literal(rt: u32, offset: u32) -> u32 {
        0x5800_0000 | ((offset / 4) << 5) | rt
    }

    /// `insns` as the little-endian bytes of an `N`-byte block, the rest
    /// filled with `brk #0`.
    pub fn block<const N: usize>(insns: &[u32]) -> [u8; N] {
        let mut code = [0; N];
        for (i, word) in code.chunks_exact_mut(4).enumerate() {
            word.copy_from_slice(&insns.get(i).copied().unwrap_or(BRK).to_le_bytes());
        }
        code
    }
}

/// Bytes before a fast-tier function that counts its calls (see
/// [`lazy_tier_prefix`]); a multiple of every function alignment.
pub const LAZY_TIER_PREFIX_BYTES: usize = 64;

/// The counting prefix at `at` of a fast-tier function (defined index
/// `index`) starting right after it: decrements the counter at `counter`
/// (not atomically: a lost count only delays tier-up), and when it reaches
/// zero pushes the index and the address of the state word at `state` and
/// branches through the word at `entry` (the tier-up entry); else branches
/// to the function. It uses only `x16` and `x17`, and the stack only on
/// the way to the entry.
pub fn lazy_tier_prefix(
    at: usize,
    counter: usize,
    index: u32,
    state: usize,
    entry: usize,
) -> [u8; LAZY_TIER_PREFIX_BYTES] {
    use encode::*;
    let hook = at + 24;
    let [movz, movk] = mov_w(X16, index);
    let entry_offset = u32::try_from(entry - state).expect("the entry words follow the state");
    encode::block(&[
        adrp(X16, at, counter),
        ldr_w(X17, X16, lo12(counter)),
        subs_w_1(X17, X17),
        str_w(X17, X16, lo12(counter)),
        b_eq(at + 16, hook),
        b(at + 20, at + LAZY_TIER_PREFIX_BYTES),
        // hook:
        movz,
        movk,
        adrp(X17, hook + 8, state),
        add_imm(X17, X17, lo12(state)),
        PUSH_X16_X17,
        ldr_x(X16, X17, entry_offset),
        br(X16),
    ])
}

/// Bytes of a function's stub: what calls to the function and its
/// `funcref`s point at, a branch through its slot.
pub const LAZY_STUB_BYTES: usize = 16;
/// Bytes of a function's slow stub, where its slot points until it is
/// compiled.
pub const LAZY_SLOW_STUB_BYTES: usize = 16;
/// Bytes of a module's shared tail of the slow stubs.
pub const LAZY_COMMON_BYTES: usize = 32;

/// A stub at `at`: `adrp x16, slot; ldr x16, [x16, :lo12:slot]; br x16`.
pub fn lazy_stub(at: usize, slot: usize) -> [u8; LAZY_STUB_BYTES] {
    use encode::*;
    encode::block(&[adrp(X16, at, slot), ldr_x(X16, X16, lo12(slot)), br(X16)])
}

/// A slow stub at `at` for defined function `index`: the index in `w16`,
/// then a branch to the module's common tail at `common` (within 128 MiB).
pub fn lazy_slow_stub(at: usize, index: u32, common: usize) -> [u8; LAZY_SLOW_STUB_BYTES] {
    use encode::*;
    let [movz, movk] = mov_w(X16, index);
    encode::block(&[movz, movk, b(at + 8, common)])
}

/// The common tail at `at`: pushes `x16` (the index) and the address of
/// the state word at `state`, then branches through the word at `entry`
/// ([`lazy_entry`]).
pub fn lazy_common(at: usize, state: usize, entry: usize) -> [u8; LAZY_COMMON_BYTES] {
    use encode::*;
    let entry_offset = u32::try_from(entry - state).expect("the entry words follow the state");
    encode::block(&[
        adrp(X17, at, state),
        add_imm(X17, X17, lo12(state)),
        PUSH_X16_X17,
        ldr_x(X16, X17, entry_offset),
        br(X16),
    ])
}

/// The largest lazy region: its stubs, counters and code must lie within
/// `adrp`'s 4 GiB of each other (calls beyond a `bl`'s 128 MiB go through
/// veneers).
pub const LAZY_REGION_MAX: usize = 4 << 30;

/// Bytes of a veneer (see [`veneer`]).
pub const VENEER_BYTES: usize = 16;

/// Whether a relocation of kind `kind` at `pc` reaches `target` directly:
/// a `bl` reaches 128 MiB either way; beyond, a call goes through a
/// [`veneer`].
pub fn reaches(
    kind: cljit_compiler::cranelift_codegen::binemit::Reloc,
    pc: usize,
    target: usize,
) -> bool {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Arm64Call => (target as i64 - pc as i64).unsigned_abs() < 1 << 27,
        _ => true,
    }
}

/// A veneer: `ldr x16, #8; br x16; .quad target`, for a call that does not
/// reach its target (`x16` is the intra-procedure-call scratch register
/// that any call may clobber).
pub fn veneer(target: usize) -> [u8; VENEER_BYTES] {
    use encode::*;
    let mut code: [u8; VENEER_BYTES] = encode::block(&[ldr_literal(X16, 8), br(X16)]);
    code[8..].copy_from_slice(&(target as u64).to_le_bytes());
    code
}

/// Bytes a relocation of kind `kind` patches (see [`patch_relocation`]).
pub fn relocation_bytes(kind: cljit_compiler::cranelift_codegen::binemit::Reloc) -> usize {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Abs8 => 8,
        _ => 4,
    }
}

/// Patches a relocation of kind `kind` at `at` (in code being written) to
/// refer to `target` plus `addend`, for code that runs with the relocation
/// at `pc`: an absolute address (library calls), or a `bl` (calls to
/// lazily compiled functions' stubs). Returns false for any other kind,
/// or a `bl` that does not reach (see [`reaches`]).
///
/// # Safety
///
/// `at` must be writable and hold the relocation's bytes (8 for an
/// absolute address, 4 for a `bl`).
pub unsafe fn patch_relocation(
    kind: cljit_compiler::cranelift_codegen::binemit::Reloc,
    at: *mut u8,
    pc: usize,
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
        Reloc::Arm64Call => {
            let delta = (target as i64).wrapping_add(addend) - pc as i64;
            let words = delta >> 2;
            if delta % 4 != 0 || !(-(1 << 25)..1 << 25).contains(&words) {
                return false;
            }
            // SAFETY: `at` holds the 4 writable bytes of the `bl` (this
            // function's contract); reads and writes are unaligned-safe.
            unsafe {
                let insn = at.cast::<u32>().read_unaligned();
                at.cast::<u32>()
                    .write_unaligned((insn & !0x03ff_ffff) | (words as u32 & 0x03ff_ffff));
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    }

    /// The stubs' instructions, against what GNU objdump decodes the
    /// same words as (noted beside each).
    #[test]
    fn stubs_encode_as_the_assembler_does() {
        let at = 0x10_0000;
        // adrp x16, 0x105000; ldr x16, [x16, #0x128]; br x16
        assert_eq!(
            words(&lazy_stub(at, 0x10_5128)),
            [0xb000_0030, 0xf940_9610, 0xd61f_0200, encode::BRK]
        );
        // mov w16, #0x1234; movk w16, #0x5678, lsl #16; b 0xfff00
        assert_eq!(
            words(&lazy_slow_stub(at, 0x5678_1234, 0xf_ff00)),
            [0x5282_4690, 0x72aa_cf10, 0x17ff_ffbe, encode::BRK]
        );
        // adrp x17, 0xfd000; add x17, x17, #0x7f8;
        // stp x16, x17, [sp, #-16]!; ldr x16, [x17, #8]; br x16
        assert_eq!(
            words(&lazy_common(at, 0xf_d7f8, 0xf_d800))[..5],
            [
                0xb0ff_fff1,
                0x911f_e231,
                0xa9bf_47f0,
                0xf940_0630,
                0xd61f_0200
            ]
        );
        // adrp x16, 0x105000; ldr w17, [x16, #0x124]; subs w17, w17, #1;
        // str w17, [x16, #0x124]; b.eq at+24; b at+64; then the hook.
        let prefix = words(&lazy_tier_prefix(at, 0x10_5124, 3, 0xf_d7f8, 0xf_d808));
        assert_eq!(
            prefix[..6],
            [
                0xb000_0030,
                0xb941_2611,
                0x7100_0631,
                0xb901_2611,
                0x5400_0040,
                0x1400_000b
            ]
        );
        // ldr x16, 0x...8; br x16; .quad target
        let v = veneer(0x1122_3344_5566_7788);
        assert_eq!(words(&v[..8]), [0x5800_0050, 0xd61f_0200]);
        assert_eq!(&v[8..], &0x1122_3344_5566_7788u64.to_le_bytes());
        // A `bl` reaches 128 MiB either way.
        use cljit_compiler::cranelift_codegen::binemit::Reloc;
        assert!(reaches(Reloc::Arm64Call, at + (128 << 20), at + 4));
        assert!(!reaches(Reloc::Arm64Call, at + (128 << 20), at));
    }
}
