//! Catching traps: the per-thread "inside wasm" state, the entry wrapper
//! that arms it, and turning a recorded trap into an [`Error`] with a wasm
//! backtrace.
//!
//! ```text
//!  catch_traps ──► CallThreadState (on this Rust frame, linked in TLS)
//!       │               ▲ written by the signal handler (trap, frames)
//!       │               │ or by a host function (its error or panic)
//!       └─► arch::enter ──► trampoline ──► wasm ... fault
//!                 ▲                              │
//!                 └──── arch unwind ◄── handler redirects the context
//! ```

pub mod registry;

use std::any::Any;
use std::cell::{Cell, UnsafeCell};

use cljit_compiler::abi::Trap;

use crate::arch::{self, JmpBuf};
use crate::error::{Error, FrameInfo, WasmBacktrace};
use crate::sys::signals;
use crate::vm::vmcontext::VmRuntimeLimits;

/// Most wasm frames recorded for a backtrace (the innermost ones).
pub const MAX_FRAMES: usize = 128;

/// Stack kept free below wasm for the host functions it calls, when the
/// thread's stack bounds are known.
const HOST_STACK_RESERVE: usize = 128 * 1024;

/// State of one host-to-wasm call on this thread, linked to the enclosing
/// one. Lives on the stack of [`catch_traps`].
pub struct CallThreadState {
    jmp_buf: UnsafeCell<JmpBuf>,
    trap: Cell<Option<Trap>>,
    frames: UnsafeCell<[usize; MAX_FRAMES]>,
    frame_count: Cell<usize>,
    host_error: Cell<Option<Error>>,
    panic: Cell<Option<Box<dyn Any + Send>>>,
    /// Where the last throw resumes (read by `cljit_throw`).
    resume: UnsafeCell<arch::Resume>,
    /// The runtime limits of the store this call runs in.
    limits: *const VmRuntimeLimits,
    /// The store's `last_exit_fp` when this call began: the exit of the
    /// enclosing wasm call of the same store, if any, restored at the end.
    saved_exit_fp: usize,
    prev: *const CallThreadState,
}

thread_local! {
    static CURRENT: Cell<*const CallThreadState> = const { Cell::new(std::ptr::null()) };
}

/// The state of the innermost wasm call on this thread, if any. Safe to
/// call from a signal handler: the thread-local has no destructor and is
/// initialised by a constant.
pub fn current_state() -> Option<&'static CallThreadState> {
    let ptr = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: a non-null pointer is the address of a `CallThreadState` on a
    // frame of `catch_traps` that is still running on this thread (it
    // resets CURRENT before returning). The 'static is a lie confined to the
    // crate: callers use the reference only while that call is active.
    unsafe { ptr.as_ref() }
}

/// Where the wasm frames of the store whose runtime limits are `limits`
/// are on this thread, innermost first: for each of its wasm calls in
/// progress, the frame pointer of the call's last exit (0 if none yet) and
/// its entry's stack pointer, above which none of its frames lie.
pub(crate) fn wasm_activations(limits: *const VmRuntimeLimits) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    // SAFETY: `limits` is the live runtime limits of a store in use on this
    // thread.
    let mut exit_fp = unsafe { (*limits).last_exit_fp };
    let mut state = current_state();
    while let Some(s) = state {
        if std::ptr::eq(s.limits, limits) {
            found.push((exit_fp, s.stack_top()));
            exit_fp = s.saved_exit_fp;
        }
        // SAFETY: `prev` is null or the state of an enclosing
        // `catch_traps` call on this thread, still running since this one
        // is.
        state = unsafe { s.prev.as_ref() };
    }
    found
}

/// The stack pointer of the outermost wasm call's entry on this thread:
/// every wasm frame on the thread, of every nested call, lies below it.
pub(crate) fn outermost_stack_top() -> Option<usize> {
    let mut state = current_state()?;
    let mut top = state.stack_top();
    // SAFETY: each `prev` is null or the state of an enclosing
    // `catch_traps` call on this thread, still running since the inner one
    // is.
    while let Some(outer) = unsafe { state.prev.as_ref() } {
        top = top.max(outer.stack_top());
        state = outer;
    }
    Some(top)
}

impl CallThreadState {
    /// The jump buffer of this call's entry.
    pub fn jmp_buf(&self) -> *const JmpBuf {
        self.jmp_buf.get()
    }

    /// The stack pointer of this call's entry: every wasm frame of the
    /// call lies below it.
    pub fn stack_top(&self) -> usize {
        // SAFETY: written by `cljit_enter` before wasm started; only this
        // thread reads it.
        unsafe { (*self.jmp_buf.get()).sp }
    }

    /// Records the error this call ends with (an uncaught exception).
    pub fn record_error(&self, error: Error) {
        self.host_error.set(Some(error));
    }

    /// Stores where a throw resumes, returning the record's address for
    /// `cljit_throw`, which reads it before anything else can write it.
    pub fn set_resume(&self, resume: arch::Resume) -> *const arch::Resume {
        // SAFETY: only this thread touches `resume`, and the previous
        // throw's stub has finished reading it.
        unsafe { *self.resume.get() = resume };
        self.resume.get()
    }

    /// Records a trap at `pc` and the wasm frames above it. Called from the
    /// signal handler: no allocation, no locks.
    ///
    /// # Safety
    ///
    /// `fp` and `sp` must be the registers of the faulting context, which
    /// must be on this thread's stack below this call's entry.
    pub unsafe fn record_trap(
        &self,
        trap: Trap,
        pc: usize,
        fp: usize,
        sp: usize,
        reg: &registry::Registry,
    ) {
        self.trap.set(Some(trap));
        // SAFETY: only this thread touches `frames`, and nothing else is
        // reading it while wasm runs.
        let frames = unsafe { &mut *self.frames.get() };
        frames[0] = pc;
        let mut count = 1;
        // SAFETY: written by `cljit_enter` before wasm started.
        let stack_top = unsafe { (*self.jmp_buf.get()).sp };
        let (mut fp, mut lower) = (fp, sp);
        while count < MAX_FRAMES {
            // Only follow frame pointers that lie between the faulting stack
            // pointer and the entry's, so a corrupt chain cannot fault here.
            if fp < lower || fp >= stack_top || fp % size_of::<usize>() != 0 {
                break;
            }
            // SAFETY: fp is within the live wasm stack (checked above).
            let (ret, caller_fp) = unsafe { arch::frame_record(fp) };
            if !reg.is_wasm(ret.wrapping_sub(1)) {
                break;
            }
            frames[count] = ret;
            count += 1;
            lower = fp + 2 * size_of::<usize>();
            fp = caller_fp;
        }
        self.frame_count.set(count);
    }
}

/// Records the error of a host function called from wasm, to be returned by
/// the enclosing [`catch_traps`] once the trampoline traps.
pub fn record_host_error(error: Error) {
    if let Some(state) = current_state() {
        state.host_error.set(Some(error));
    }
}

/// Records a panic of a host function called from wasm, to be resumed by the
/// enclosing [`catch_traps`].
pub fn record_host_panic(payload: Box<dyn Any + Send>) {
    if let Some(state) = current_state() {
        state.panic.set(Some(payload));
    }
}

/// The current stack pointer, approximately (the address of a local).
#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Runs `call` (which enters wasm through `arch::enter`) with traps armed,
/// and reports how it ended.
///
/// # Errors
///
/// A trap (with its backtrace), or the error a host function returned.
///
/// # Panics
///
/// Resumes a panic raised by a host function called from wasm.
///
/// # Safety
///
/// `limits` must be the store's live runtime limits, which compiled code
/// reads; `call` must enter wasm with the jump buffer it is given.
pub unsafe fn catch_traps(
    limits: *mut VmRuntimeLimits,
    max_wasm_stack: usize,
    call: impl FnOnce(*mut JmpBuf) -> bool,
) -> Result<(), Error> {
    signals::ensure_alt_stack()
        .map_err(|e| Error::msg(format!("cannot set up a signal stack: {e}")))?;
    // SAFETY: per the caller's contract.
    let old_limit = unsafe { (*limits).stack_limit };
    if old_limit == 0 {
        let sp = stack_pointer();
        let mut limit = sp.saturating_sub(max_wasm_stack);
        if let Some(low) = signals::thread_stack_low() {
            limit = limit.max(low.saturating_add(HOST_STACK_RESERVE));
        }
        if limit >= sp {
            return Err(Error::msg("not enough native stack left to call wasm"));
        }
        // SAFETY: per the caller's contract.
        unsafe { (*limits).stack_limit = limit };
    }
    let state = CallThreadState {
        jmp_buf: UnsafeCell::new(JmpBuf::default()),
        trap: Cell::new(None),
        frames: UnsafeCell::new([0; MAX_FRAMES]),
        frame_count: Cell::new(0),
        host_error: Cell::new(None),
        panic: Cell::new(None),
        resume: UnsafeCell::new(arch::Resume::default()),
        limits,
        // SAFETY: `limits` is the store's live `VmRuntimeLimits` (this
        // function's contract), a plain struct this thread may read.
        saved_exit_fp: unsafe { (*limits).last_exit_fp },
        prev: CURRENT.with(Cell::get),
    };
    // SAFETY: as just read, `limits` is live; no wasm of this store runs
    // while its host side is in this call, so nothing else writes it.
    unsafe { (*limits).last_exit_fp = 0 };
    CURRENT.with(|c| c.set(&state));
    let trapped = call(state.jmp_buf.get());
    CURRENT.with(|c| c.set(state.prev));
    // SAFETY: per the caller's contract.
    unsafe {
        (*limits).stack_limit = old_limit;
        (*limits).last_exit_fp = state.saved_exit_fp;
    }

    if !trapped {
        return Ok(());
    }
    if let Some(payload) = state.panic.take() {
        std::panic::resume_unwind(payload);
    }
    if let Some(error) = state.host_error.take() {
        return Err(error);
    }
    let trap = state.trap.get().unwrap_or(Trap::HostError);
    // SAFETY: the handler has finished writing; we own the state again.
    let frames = unsafe { &(&*state.frames.get())[..state.frame_count.get()] };
    Err(Error::trap(trap, symbolize(frames)))
}

/// Turns recorded PCs (the trap PC, then return addresses) into frames.
pub(crate) fn symbolize(pcs: &[usize]) -> WasmBacktrace {
    let frames = registry::with(|reg| {
        pcs.iter()
            .enumerate()
            .filter_map(|(i, &pc)| {
                let pc = if i == 0 { pc } else { pc - 1 };
                let (code, f) = reg.lookup(pc)?;
                let registry::CodeKind::Wasm(index) = f.kind else {
                    return None;
                };
                let offset = u32::try_from(pc - f.start).ok()?;
                let module = code.module.as_deref();
                let wasm_offset = f.address_map.lookup(offset);
                let body_start = module
                    .and_then(|m| m.func_body_offsets.get(m.defined_func_index(index)?))
                    .copied();
                Some(FrameInfo {
                    func_index: index.as_u32(),
                    func_name: module.and_then(|m| m.func_name(index)).map(str::to_owned),
                    module_name: module.and_then(|m| m.name.clone()),
                    wasm_offset,
                    func_offset: wasm_offset
                        .zip(body_start)
                        .and_then(|(at, start)| at.checked_sub(start)),
                })
            })
            .collect()
    });
    WasmBacktrace::new(frames, pcs.len() == MAX_FRAMES)
}
