//! `proc_exit`, `proc_raise` and `sched_yield`.

use cljit_runtime::{Error, Result};

use super::Call;
use crate::ctx::WasiCtx;
use crate::errno::{Errno, WasiResult};

/// Ends the wasm call; the embedder receives `code` through
/// [`Error::exit_status`] and [`WasiCtx::exit_code`]. The host process goes
/// on.
pub(crate) fn proc_exit(cx: &mut WasiCtx, code: u32) -> Error {
    let code = code as i32;
    cx.exit_code = Some(code);
    Error::exit(code)
}

/// WASI signal numbers (the witx `signal` enum) to Linux ones.
const SIGNALS: [i32; 31] = [
    0,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGABRT,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGKILL,
    libc::SIGUSR1,
    libc::SIGSEGV,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGCHLD,
    libc::SIGCONT,
    libc::SIGSTOP,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGURG,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGWINCH,
    libc::SIGPOLL,
    libc::SIGPWR,
    libc::SIGSYS,
];

/// Delivers a signal to the guest with its default action, as wasi-libc's
/// signal emulation does: the null signal and signals ignored by default
/// succeed; the others end the guest with status `128 + signo`, the status a
/// shell reports for a process killed by that signal. The host process
/// itself is never signalled (a real `SIGSEGV` would be taken for a wasm
/// trap).
pub(crate) fn proc_raise(cx: &mut WasiCtx, sig: u32) -> Result<i32> {
    let Some(&host) = SIGNALS.get(sig as usize) else {
        return Ok(i32::from(Errno::Inval.raw()));
    };
    match host {
        0 | libc::SIGCHLD | libc::SIGCONT | libc::SIGURG | libc::SIGWINCH => Ok(0),
        // Stopping the guest has no meaning without job control of the
        // host process; refuse it the way a sandboxed POSIX system would.
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => {
            Ok(i32::from(Errno::Perm.raw()))
        }
        _ => {
            cx.exit_code = Some(128 + host);
            Err(Error::exit(128 + host))
        }
    }
}

pub(crate) fn sched_yield(_c: &mut Call<'_, '_>) -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}
