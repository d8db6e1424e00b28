//! x86-64: entering wasm, unwinding back to the entry, and reading the
//! registers of a signal context.
//!
//! `cljit_enter` saves the callee-saved registers and its stack pointer in a
//! [`JmpBuf`], then calls an array-call entry. If wasm traps, the signal
//! handler rewrites the interrupted context so that, when the handler
//! returns, execution resumes at `cljit_unwind` with the `JmpBuf` in `rdi`;
//! `cljit_unwind` restores the saved stack pointer and leaves through
//! `cljit_enter`'s own epilogue, returning 1. Only JIT frames lie between
//! the two, so no Rust frame is skipped. `preserve_all_adapter!` makes the
//! entry points of builtins that must clobber no register.

use std::ffi::c_void;

use super::{JmpBuf, Resume};

std::arch::global_asm!(
    ".text",
    ".globl cljit_enter",
    ".type cljit_enter,@function",
    ".p2align 4",
    "cljit_enter:",
    "    push rbp",
    "    mov rbp, rsp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    sub rsp, 8",
    "    mov [rdi], rsp",
    "    mov [rdi + 8], rbp",
    "    mov rax, rsi",
    "    mov rdi, [rax + 8]",
    "    mov rsi, [rax + 16]",
    "    mov rdx, [rax + 24]",
    "    mov rcx, [rax + 32]",
    "    mov r8, [rax + 40]",
    "    call [rax]",
    "    xor eax, eax",
    "2:",
    "    add rsp, 8",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".size cljit_enter, . - cljit_enter",
    "",
    ".globl cljit_unwind",
    ".type cljit_unwind,@function",
    ".p2align 4",
    "cljit_unwind:",
    "    mov rsp, [rdi]",
    "    mov rbp, [rdi + 8]",
    "    mov eax, 1",
    "    jmp 2b",
    ".size cljit_unwind, . - cljit_unwind",
);

unsafe extern "C" {
    fn cljit_unwind();
}

/// Defines `$adapter`, an entry point in Cranelift's `preserve_all`
/// convention for the `extern "C" fn(vmctx)` `$target`: it saves every
/// register the System V convention lets `$target` clobber (the
/// caller-saved general registers and all of xmm0-15), calls it with the
/// vmctx still in `rdi`, restores them and returns. Compiled code calls
/// such adapters on cold paths inside hot loops (see
/// `Builtin::preserves_all_registers`).
///
/// Stack: entered with `rsp` 8 mod 16; the frame pointer push, nine
/// register pushes and 264 bytes (xmm area plus padding) bring it to 0
/// mod 16 at the inner call.
macro_rules! preserve_all_adapter {
    ($adapter:ident => $target:path) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($adapter)),
            concat!(".type ", stringify!($adapter), ",@function"),
            ".p2align 4",
            concat!(stringify!($adapter), ":"),
            "    push rbp",
            "    mov rbp, rsp",
            "    push rax",
            "    push rcx",
            "    push rdx",
            "    push rsi",
            "    push rdi",
            "    push r8",
            "    push r9",
            "    push r10",
            "    push r11",
            "    sub rsp, 264",
            "    movdqu [rsp], xmm0",
            "    movdqu [rsp + 16], xmm1",
            "    movdqu [rsp + 32], xmm2",
            "    movdqu [rsp + 48], xmm3",
            "    movdqu [rsp + 64], xmm4",
            "    movdqu [rsp + 80], xmm5",
            "    movdqu [rsp + 96], xmm6",
            "    movdqu [rsp + 112], xmm7",
            "    movdqu [rsp + 128], xmm8",
            "    movdqu [rsp + 144], xmm9",
            "    movdqu [rsp + 160], xmm10",
            "    movdqu [rsp + 176], xmm11",
            "    movdqu [rsp + 192], xmm12",
            "    movdqu [rsp + 208], xmm13",
            "    movdqu [rsp + 224], xmm14",
            "    movdqu [rsp + 240], xmm15",
            "    call {target}",
            "    movdqu xmm0, [rsp]",
            "    movdqu xmm1, [rsp + 16]",
            "    movdqu xmm2, [rsp + 32]",
            "    movdqu xmm3, [rsp + 48]",
            "    movdqu xmm4, [rsp + 64]",
            "    movdqu xmm5, [rsp + 80]",
            "    movdqu xmm6, [rsp + 96]",
            "    movdqu xmm7, [rsp + 112]",
            "    movdqu xmm8, [rsp + 128]",
            "    movdqu xmm9, [rsp + 144]",
            "    movdqu xmm10, [rsp + 160]",
            "    movdqu xmm11, [rsp + 176]",
            "    movdqu xmm12, [rsp + 192]",
            "    movdqu xmm13, [rsp + 208]",
            "    movdqu xmm14, [rsp + 224]",
            "    movdqu xmm15, [rsp + 240]",
            "    add rsp, 264",
            "    pop r11",
            "    pop r10",
            "    pop r9",
            "    pop r8",
            "    pop rdi",
            "    pop rsi",
            "    pop rdx",
            "    pop rcx",
            "    pop rax",
            "    pop rbp",
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
/// (through the vmctx in `rdi`), so the collector can walk from it to the
/// wasm frames above, and calls `$target` with the arguments untouched.
///
/// Stack: entered with `rsp` 8 mod 16; the frame pointer push makes it 0
/// mod 16 at the inner call.
macro_rules! gc_exit_adapter {
    ($adapter:ident => $target:path, fn($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($adapter)),
            concat!(".type ", stringify!($adapter), ",@function"),
            ".p2align 4",
            concat!(stringify!($adapter), ":"),
            "    push rbp",
            "    mov rbp, rsp",
            "    mov rax, [rdi + {limits}]",
            "    mov [rax + {exit_fp}], rbp",
            "    call {target}",
            "    pop rbp",
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
    // SAFETY: per the caller's contract.
    let gregs = unsafe { &(*uc).uc_mcontext.gregs };
    (
        gregs[libc::REG_RIP as usize] as usize,
        gregs[libc::REG_RBP as usize] as usize,
        gregs[libc::REG_RSP as usize] as usize,
    )
}

/// Makes the signal context resume in `cljit_unwind(buf)`.
///
/// # Safety
///
/// `context` must be the `ucontext_t` a signal handler received, and `buf`
/// the `JmpBuf` of the innermost active `enter` on this thread.
pub unsafe fn redirect_to_unwind(context: *mut c_void, buf: *const JmpBuf) {
    let uc = context.cast::<libc::ucontext_t>();
    // SAFETY: per the caller's contract.
    let gregs = unsafe { &mut (*uc).uc_mcontext.gregs };
    gregs[libc::REG_RIP as usize] = cljit_unwind as *const () as usize as i64;
    gregs[libc::REG_RDI as usize] = buf as usize as i64;
}

/// The return address and caller frame pointer stored in the frame at `fp`.
///
/// # Safety
///
/// `fp` must point at a frame record (saved frame pointer, then return
/// address) on a live stack.
pub unsafe fn frame_record(fp: usize) -> (usize, usize) {
    let record = fp as *const usize;
    // SAFETY: per the caller's contract.
    unsafe { (*record.add(1), *record) }
}

/// The callee-saved registers as they are now (`rbx`, `rbp`, `r12` to
/// `r15`). A caller's value lives either in one of these or in a stack
/// slot, so these and the stack together hold every value the frames
/// above keep across the call that led here (what the exception
/// collector scans).
#[inline(always)]
pub fn callee_saved_registers() -> [usize; 6] {
    let mut regs = [0usize; 6];
    // SAFETY: the asm only stores six registers into `regs`, a local array
    // of six words whose address it is given; it reads no other memory
    // and changes no register or flag.
    unsafe {
        std::arch::asm!(
            "mov [{p}], rbx",
            "mov [{p} + 8], rbp",
            "mov [{p} + 16], r12",
            "mov [{p} + 24], r13",
            "mov [{p} + 32], r14",
            "mov [{p} + 40], r15",
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
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
            sp
        };
        Resume {
            pc: cljit_unwind as *const () as usize,
            sp,
            fp: 0,
            payload: 0,
            arg: buf as usize,
        }
    }
}

// The `throw` builtin, called by compiled code with the `tail` convention
// (`rdi` = vmctx, `rsi` = exception; every register may be clobbered on
// the exceptional edge). Its frame record gives the unwinder the thrower's
// frame pointer and return address; the unwinder (a Rust function that
// returns normally) says where to resume, and this stub jumps there,
// discarding only wasm frames and its own.
//
// Stack: entered with `rsp` 8 mod 16; the frame pointer push makes it 0
// mod 16 at the inner call.
std::arch::global_asm!(
    ".text",
    ".globl cljit_throw",
    ".type cljit_throw,@function",
    ".p2align 4",
    "cljit_throw:",
    "    push rbp",
    "    mov rbp, rsp",
    "    mov rdx, rbp",
    "    call cljit_throw_unwind",
    "    mov rcx, [rax]",
    "    mov rdi, [rax + 32]",
    "    mov rsp, [rax + 8]",
    "    mov rbp, [rax + 16]",
    "    xor edx, edx",
    "    mov rax, [rax + 24]",
    "    jmp rcx",
    ".size cljit_throw, . - cljit_throw",
);

unsafe extern "C" {
    /// The `throw` builtin (see above): never returns.
    pub fn cljit_throw(vmctx: *mut u8, exn: *mut u8);
}

// Lazy compilation's entries. A not-yet-compiled function's slow stub (see
// `lazy_slow_stub`) jumps to `cljit_lazy_entry`, and a fast-tier
// function's counting prefix (see `lazy_tier_prefix`) to
// `cljit_tier_entry`, with the function's defined index in `eax` and the
// module's lazy state in `r10`, every argument of the wasm call still in
// place (`rdi`, `rsi`, `rdx`, `rcx`, `r8`, `r9`, `xmm0`-`xmm7` and the
// caller's stack; the `tail` convention passes nothing in `rax`, `r10` or
// `r11`). The entry saves all of them, calls the Rust function (which
// compiles the function, or has it recompiled) for the address to go on
// at, restores them and jumps there, so the callee runs as if called
// directly. Its frame record links the caller's frame, so a backtrace
// taken meanwhile walks on into wasm. If the Rust function returns 0 (a
// failed compile), `cljit_lazy_failed` records the error and returns the
// entry's `JmpBuf`, and the call unwinds like a trap.
//
// Stack: entered with `rsp` 8 mod 16 (the caller's return address); the
// frame pointer push, nine register pushes and 264 bytes bring it to 0
// mod 16 at the inner calls.
macro_rules! lazy_entry {
    ($entry:ident => $target:path) => {
        std::arch::global_asm!(
            ".text",
            concat!(".globl ", stringify!($entry)),
            concat!(".type ", stringify!($entry), ",@function"),
            ".p2align 4",
            concat!(stringify!($entry), ":"),
            "    push rbp",
            "    mov rbp, rsp",
            "    push rax",
            "    push rcx",
            "    push rdx",
            "    push rsi",
            "    push rdi",
            "    push r8",
            "    push r9",
            "    push r10",
            "    push r11",
            "    sub rsp, 264",
            "    movdqu [rsp], xmm0",
            "    movdqu [rsp + 16], xmm1",
            "    movdqu [rsp + 32], xmm2",
            "    movdqu [rsp + 48], xmm3",
            "    movdqu [rsp + 64], xmm4",
            "    movdqu [rsp + 80], xmm5",
            "    movdqu [rsp + 96], xmm6",
            "    movdqu [rsp + 112], xmm7",
            "    mov rdi, r10",
            "    mov esi, eax",
            "    call {target}",
            "    test rax, rax",
            "    jz 3f",
            "    mov r11, rax",
            "    movdqu xmm0, [rsp]",
            "    movdqu xmm1, [rsp + 16]",
            "    movdqu xmm2, [rsp + 32]",
            "    movdqu xmm3, [rsp + 48]",
            "    movdqu xmm4, [rsp + 64]",
            "    movdqu xmm5, [rsp + 80]",
            "    movdqu xmm6, [rsp + 96]",
            "    movdqu xmm7, [rsp + 112]",
            "    add rsp, 264",
            "    add rsp, 8",
            "    pop r10",
            "    pop r9",
            "    pop r8",
            "    pop rdi",
            "    pop rsi",
            "    pop rdx",
            "    pop rcx",
            "    pop rax",
            "    pop rbp",
            "    jmp r11",
            "3:",
            "    call {failed}",
            "    mov rdi, rax",
            "    jmp {unwind}",
            concat!(".size ", stringify!($entry), ", . - ", stringify!($entry)),
            target = sym $target,
            failed = sym crate::lazy::cljit_lazy_failed,
            unwind = sym cljit_unwind,
        );
    };
}

lazy_entry!(cljit_lazy_entry => crate::lazy::cljit_lazy_compile);
lazy_entry!(cljit_tier_entry => crate::lazy::cljit_tier_up);

/// Makes the instruction cache see code just written as data: nothing to
/// do on x86-64, whose instruction fetch snoops stores.
///
/// # Safety
///
/// None beyond the range being the caller's code; kept `unsafe` to match
/// the architectures where it matters.
pub unsafe fn flush_icache(_start: usize, _len: usize) {}

/// Makes every thread of this process see code published after this call:
/// nothing to do on x86-64, where a jump to code written by another core
/// (and published with a release store) fetches what was written.
pub fn sync_cores() {}

/// Bytes before a fast-tier function that counts its calls (see
/// [`lazy_tier_prefix`]); a multiple of every function alignment.
pub const LAZY_TIER_PREFIX_BYTES: usize = 64;

/// The counting prefix at `at` of a fast-tier function (defined index
/// `index`) starting right after it: `sub dword [counter], 1`, and when that
/// reaches zero, the function's index in `eax`, the module's state (the
/// word at `state`) in `r10` and a jump through the word at `entry` (the
/// tier-up entry); else a jump to the function. It uses no register the
/// call passes arguments in, and no stack.
pub fn lazy_tier_prefix(
    at: usize,
    counter: usize,
    index: u32,
    state: usize,
    entry: usize,
) -> [u8; LAZY_TIER_PREFIX_BYTES] {
    let mut code = [0xcc; LAZY_TIER_PREFIX_BYTES];
    // sub dword [rip + counter], 1
    code[..2].copy_from_slice(&[0x83, 0x2d]);
    code[2..6].copy_from_slice(&rel32(at + 7, counter));
    code[6] = 0x01;
    // jz hook (at 16)
    code[7..9].copy_from_slice(&[0x74, (16 - 9) as u8]);
    // jmp function (at 64)
    code[9..11].copy_from_slice(&[0xeb, (LAZY_TIER_PREFIX_BYTES - 11) as u8]);
    // hook: mov eax, index; mov r10, [rip + state]; jmp [rip + entry]
    code[16] = 0xb8;
    code[17..21].copy_from_slice(&index.to_le_bytes());
    code[21..24].copy_from_slice(&[0x4c, 0x8b, 0x15]);
    code[24..28].copy_from_slice(&rel32(at + 28, state));
    code[28..30].copy_from_slice(&[0xff, 0x25]);
    code[30..34].copy_from_slice(&rel32(at + 34, entry));
    code
}

/// Bytes of a function's stub: what calls to the function and its
/// `funcref`s point at, an indirect jump through its slot.
pub const LAZY_STUB_BYTES: usize = 8;
/// Bytes of a function's slow stub, where its slot points until it is
/// compiled.
pub const LAZY_SLOW_STUB_BYTES: usize = 16;
/// Bytes of a module's shared tail of the slow stubs.
pub const LAZY_COMMON_BYTES: usize = 16;

fn rel32(from_end: usize, to: usize) -> [u8; 4] {
    let delta = (to as i64) - (from_end as i64);
    i32::try_from(delta)
        .expect("stubs, slots and code lie in one region under 2 GiB")
        .to_le_bytes()
}

/// A stub at `at`: `jmp [slot]`.
pub fn lazy_stub(at: usize, slot: usize) -> [u8; LAZY_STUB_BYTES] {
    let mut code = [0xcc; LAZY_STUB_BYTES];
    code[..2].copy_from_slice(&[0xff, 0x25]);
    code[2..6].copy_from_slice(&rel32(at + 6, slot));
    code
}

/// A slow stub at `at` for defined function `index`: `mov eax, index`,
/// then a jump to the module's common tail at `common`.
pub fn lazy_slow_stub(at: usize, index: u32, common: usize) -> [u8; LAZY_SLOW_STUB_BYTES] {
    let mut code = [0xcc; LAZY_SLOW_STUB_BYTES];
    code[0] = 0xb8;
    code[1..5].copy_from_slice(&index.to_le_bytes());
    code[5] = 0xe9;
    code[6..10].copy_from_slice(&rel32(at + 10, common));
    code
}

/// The common tail at `at`: `mov r10, [state]`, then `jmp [entry]`, where
/// the words at `state` and `entry` hold the module's lazy state and
/// [`lazy_entry`].
pub fn lazy_common(at: usize, state: usize, entry: usize) -> [u8; LAZY_COMMON_BYTES] {
    let mut code = [0xcc; LAZY_COMMON_BYTES];
    code[..3].copy_from_slice(&[0x4c, 0x8b, 0x15]);
    code[3..7].copy_from_slice(&rel32(at + 7, state));
    code[7..9].copy_from_slice(&[0xff, 0x25]);
    code[9..13].copy_from_slice(&rel32(at + 13, entry));
    code
}

/// The largest lazy region: its stubs, counters and code must lie within
/// 2 GiB of each other (32-bit displacements).
pub const LAZY_REGION_MAX: usize = (2 << 30) - 4096;

/// Bytes of a veneer (see [`veneer`]).
pub const VENEER_BYTES: usize = 16;

/// Whether a relocation of kind `kind` at `pc` reaches `target` directly:
/// a 32-bit displacement reaches 2 GiB either way, beyond any lazy region.
pub fn reaches(
    kind: cljit_compiler::cranelift_codegen::binemit::Reloc,
    pc: usize,
    target: usize,
) -> bool {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => i32::try_from(target as i64 - pc as i64).is_ok(),
        _ => true,
    }
}

/// A veneer: `jmp [rip]; .quad target`, for a call that does not reach
/// its target.
pub fn veneer(target: usize) -> [u8; VENEER_BYTES] {
    let mut code = [0xcc; VENEER_BYTES];
    code[..6].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
    code[6..14].copy_from_slice(&(target as u64).to_le_bytes());
    code
}

/// Bytes a relocation of kind `kind` patches (see [`patch_relocation`]):
/// 4 for a PC-relative one, 8 for an absolute address.
pub fn relocation_bytes(kind: cljit_compiler::cranelift_codegen::binemit::Reloc) -> usize {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Abs8 => 8,
        _ => 4,
    }
}

/// Patches a relocation of kind `kind` at `at` (in code being written) to
/// refer to `target` plus `addend`, as Cranelift defines each kind, for
/// code that runs with the relocation at address `pc` (`at` itself, unless
/// the code is written through another view of its memory). Returns false
/// for a kind this architecture does not produce, or a PC-relative
/// distance beyond 2 GiB.
///
/// # Safety
///
/// `at` must be writable and hold the relocation's bytes (4 for a
/// PC-relative one, 8 for an absolute address).
pub unsafe fn patch_relocation(
    kind: cljit_compiler::cranelift_codegen::binemit::Reloc,
    at: *mut u8,
    pc: usize,
    target: usize,
    addend: i64,
) -> bool {
    use cljit_compiler::cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
            let delta = (target as i64).wrapping_add(addend) - pc as i64;
            let Ok(delta) = i32::try_from(delta) else {
                return false;
            };
            // SAFETY: `at` holds 4 writable bytes (this function's
            // contract); the write is unaligned-safe.
            unsafe { at.cast::<i32>().write_unaligned(delta) };
            true
        }
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
