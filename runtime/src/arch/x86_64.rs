//! x86-64: entering wasm, unwinding back to the entry, and reading the
//! registers of a signal context.
//!
//! `cljit_enter` saves the callee-saved registers and its stack pointer in a
//! [`JmpBuf`], then calls an array-call entry. If wasm traps, the signal
//! handler rewrites the interrupted context so that, when the handler
//! returns, execution resumes at `cljit_unwind` with the `JmpBuf` in `rdi`;
//! `cljit_unwind` restores the saved stack pointer and leaves through
//! `cljit_enter`'s own epilogue, returning 1. Only JIT frames lie between
//! the two, so no Rust frame is skipped.

use std::ffi::c_void;

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
    fn cljit_enter(buf: *mut JmpBuf, args: *const EntryArgs) -> u32;
    fn cljit_unwind();
}

/// Calls `args.array_call`, returning `false` normally and `true` if wasm
/// trapped and the handler unwound back here.
///
/// # Safety
///
/// `args` must describe a valid array call; `buf` must stay valid during the
/// call; traps must have been armed for this thread (see `traps`).
pub unsafe fn enter(buf: *mut JmpBuf, args: &EntryArgs) -> bool {
    // SAFETY: per the caller's contract.
    unsafe { cljit_enter(buf, args) != 0 }
}

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
