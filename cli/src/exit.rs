//! How the CLI ends on an error: the message it prints and the status it
//! exits with, shared by the main thread and the threads of a wasi-threads
//! program (any of which may end the program).
//!
//! Exit codes follow wasmtime: the program's own status when it exits
//! (WASI `proc_exit`); 134 (128 + SIGABRT) when wasm traps; 1 for any other
//! error, printed as `error: ...` with its cause chain.

/// Exit status for a trap, as wasmtime uses on Unix (128 + SIGABRT).
pub const TRAP_EXIT: u8 = 134;

/// Prints `error: ...` and the cause chain to stderr. Write failures (a
/// closed stderr) are ignored: the exit code still tells.
pub fn report(error: &anyhow::Error) {
    use std::io::Write as _;
    let mut text = format!("error: {error}\n");
    let causes: Vec<String> = error.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        text.push_str("\nCaused by:\n");
        for (i, cause) in causes.iter().enumerate() {
            // Continuation lines (a backtrace) line up with the cause.
            if causes.len() == 1 {
                let cause = cause.replace('\n', "\n    ");
                text.push_str(&format!("    {cause}\n"));
            } else {
                let cause = cause.replace('\n', "\n      ");
                text.push_str(&format!("  {i:>2}: {cause}\n"));
            }
        }
    }
    if let Some(hint) = crate::flags::disabled_feature_hint(error) {
        text.push_str(&format!("\nnote: {hint}\n"));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The status to exit with for `error`, after reporting it unless it is
/// the program's own exit.
pub fn status_for(error: &anyhow::Error) -> u8 {
    let runtime = error.chain().find_map(|e| e.downcast_ref::<cljit::Error>());
    if let Some(status) = runtime.and_then(cljit::Error::exit_status) {
        return u8::try_from(status & 0xff).unwrap_or(1);
    }
    report(error);
    if runtime.and_then(cljit::Error::as_trap).is_some() {
        TRAP_EXIT
    } else {
        1
    }
}
