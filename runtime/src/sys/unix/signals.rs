//! Signal handlers that turn faults in JIT code into wasm traps.
//!
//! Installed once per process for `SIGSEGV`, `SIGBUS`, `SIGILL` and `SIGFPE`,
//! running on an alternate signal stack. The handler asks: is this thread
//! inside a wasm call, and is the faulting PC a trap site of registered JIT
//! code? If so it records the trap (and walks the wasm frames) in the
//! thread's call state and redirects the context to unwind to the entry.
//! Otherwise it forwards to whatever handler was installed before, so a real
//! crash stays a crash. The handler takes no lock, allocates nothing, and
//! logs nothing.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::Once;

use crate::arch;
use crate::traps::{self, registry};

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were installed before ours, by index into `SIGNALS`.
struct PreviousHandlers(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);

// SAFETY: written once inside `Once::call_once` before our handlers can run,
// read-only afterwards.
unsafe impl Sync for PreviousHandlers {}

static PREVIOUS: PreviousHandlers = PreviousHandlers(UnsafeCell::new([MaybeUninit::uninit(); 4]));
static INSTALL: Once = Once::new();

/// Installs the handlers (once per process).
///
/// # Panics
///
/// If `sigaction` fails, which only happens for invalid arguments.
pub fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, &signum) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid starting value; we fill
            // the fields we use, and `PREVIOUS` is written before any of our
            // handlers can run (they are installed by this same call).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                action.sa_sigaction = handler as *const () as usize;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (*PREVIOUS.0.get())[i].as_mut_ptr();
                let rc = libc::sigaction(signum, &action, previous);
                assert_eq!(rc, 0, "sigaction failed");
            }
        }
    });
}

unsafe extern "C" fn handler(
    signum: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
) {
    // SAFETY: called by the kernel with a valid context for this thread.
    if unsafe { handle_trap(context) } {
        return;
    }
    // SAFETY: forwarding with the arguments we received.
    unsafe { forward(signum, info, context) }
}

/// Handles the signal as a wasm trap if it is one; returns whether it was.
///
/// # Safety
///
/// `context` must be the context passed to the signal handler.
unsafe fn handle_trap(context: *mut c_void) -> bool {
    let Some(state) = traps::current_state() else {
        return false;
    };
    // SAFETY: per the caller's contract.
    let (pc, fp, sp) = unsafe { arch::context_registers(context) };
    let handled = registry::with(|reg| {
        let Some(trap) = reg.trap_at(pc) else {
            return false;
        };
        // SAFETY: `state` is the live state of the innermost wasm call on
        // this thread; its jmp_buf bounds the wasm stack.
        unsafe { state.record_trap(trap, pc, fp, sp, reg) };
        true
    });
    if handled {
        // SAFETY: the context is ours to modify; the jmp_buf belongs to the
        // innermost `enter` on this thread.
        unsafe { arch::redirect_to_unwind(context, state.jmp_buf()) };
    }
    handled
}

/// Passes a signal that is not a wasm trap to the previous handler.
///
/// # Safety
///
/// Arguments as received by our handler.
unsafe fn forward(signum: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == signum) else {
        return;
    };
    // SAFETY: initialised by `install_handlers` before our handler was set.
    let previous = unsafe { (*PREVIOUS.0.get())[i].assume_init_ref() };
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler declared the three-argument form.
        unsafe {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                std::mem::transmute(previous.sa_sigaction);
            f(signum, info, context);
        }
    } else if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
        // Restore the default disposition; returning re-executes the
        // faulting instruction, which now takes the default action.
        // SAFETY: restoring a disposition previously returned by the kernel.
        unsafe { libc::sigaction(signum, previous, std::ptr::null_mut()) };
    } else {
        // SAFETY: the previous handler declared the one-argument form.
        unsafe {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(previous.sa_sigaction);
            f(signum);
        }
    }
}

/// Size of the alternate signal stack we install when a thread has none big
/// enough.
const ALT_STACK_BYTES: usize = 64 * 1024;

/// An alternate signal stack we allocated, released at thread exit.
struct AltStack {
    mapping: *mut c_void,
    len: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disable our stack before unmapping it; the thread is
        // exiting and no handler is running on it.
        unsafe {
            let disable = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&disable, std::ptr::null_mut());
            libc::munmap(self.mapping, self.len);
        }
    }
}

thread_local! {
    static ALT_STACK_READY: Cell<bool> = const { Cell::new(false) };
    static ALT_STACK: UnsafeCell<Option<AltStack>> = const { UnsafeCell::new(None) };
}

/// Makes sure this thread has an alternate signal stack of at least
/// [`ALT_STACK_BYTES`], so the handler runs even when the fault is a
/// stack overflow.
///
/// # Errors
///
/// If the stack cannot be mapped.
pub fn ensure_alt_stack() -> std::io::Result<()> {
    if ALT_STACK_READY.with(Cell::get) {
        return Ok(());
    }
    // SAFETY: querying the current alternate stack.
    let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: `current` is a valid out-pointer.
    let rc = unsafe { libc::sigaltstack(std::ptr::null(), &mut current) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_size >= ALT_STACK_BYTES {
        ALT_STACK_READY.with(|r| r.set(true));
        return Ok(());
    }
    let page = region::page::size();
    let len = ALT_STACK_BYTES + page;
    // SAFETY: a fresh anonymous mapping.
    let mapping = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mapping == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let stack = AltStack { mapping, len };
    // SAFETY: the first page becomes a guard page; the rest is the stack.
    unsafe {
        if libc::mprotect(mapping, page, libc::PROT_NONE) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let new = libc::stack_t {
            ss_sp: mapping.cast::<u8>().add(page).cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_BYTES,
        };
        if libc::sigaltstack(&new, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: this thread-local is only touched from this thread, here.
    ALT_STACK.with(|slot| unsafe { *slot.get() = Some(stack) });
    ALT_STACK_READY.with(|r| r.set(true));
    Ok(())
}

/// The lowest usable address of the current thread's stack, if known.
pub fn thread_stack_low() -> Option<usize> {
    thread_local! {
        static LOW: Cell<Option<usize>> = const { Cell::new(None) };
    }
    if let Some(low) = LOW.with(Cell::get) {
        return Some(low);
    }
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread, which
    // we destroy after reading the stack bounds.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
        addr as usize
    };
    LOW.with(|l| l.set(Some(low)));
    Some(low)
}
