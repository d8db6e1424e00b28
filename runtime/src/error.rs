//! The runtime's error type: one pointer-sized [`Error`] carrying an
//! [`ErrorKind`], and the wasm backtrace attached to traps.

use std::fmt;

use cljit_compiler::CompileError;
use cljit_compiler::abi::Trap;
use cljit_compiler::artifact::ArtifactError;

use crate::exn_ref::ExnRef;

/// Why something failed: compiling, linking, instantiating or running.
pub struct Error(Box<ErrorKind>);

/// The kinds of [`Error`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Wasm code trapped.
    Trap {
        /// Which trap.
        trap: Trap,
        /// Where, innermost frame first.
        backtrace: WasmBacktrace,
    },
    /// The module could not be compiled.
    Compile(CompileError),
    /// A compiled artifact was refused: another version, target, CPU or
    /// settings, or damaged.
    Artifact(ArtifactError),
    /// Imports with no definition: every one of them, in import order.
    UnknownImports(Vec<MissingImport>),
    /// An import's definition has the wrong type.
    IncompatibleImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
        /// What does not match.
        reason: String,
    },
    /// A wasm exception: thrown by wasm and caught by nothing before it
    /// reached the host, or made by a host function to throw into wasm.
    Exception {
        /// The exception.
        exn: ExnRef,
        /// Where wasm threw it, innermost frame first (empty for an
        /// exception a host function made and nothing threw yet).
        backtrace: WasmBacktrace,
    },
    /// The program asked to exit with a status (WASI `proc_exit`).
    Exit(i32),
    /// An error returned by a host function or an I/O operation.
    Host(Box<dyn std::error::Error + Send + Sync>),
    /// Anything else, described in words (for example a misused API).
    Message(String),
}

impl Error {
    /// An error with a message.
    pub fn msg(message: impl Into<String>) -> Error {
        Error(Box::new(ErrorKind::Message(message.into())))
    }

    /// Wraps any error, typically from a host function.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error(Box::new(ErrorKind::Host(Box::new(error))))
    }

    /// The request to exit with `status`, as WASI's `proc_exit` makes it.
    pub fn exit(status: i32) -> Error {
        Error(Box::new(ErrorKind::Exit(status)))
    }

    /// A trap with its backtrace.
    pub fn trap(trap: Trap, backtrace: WasmBacktrace) -> Error {
        Error(Box::new(ErrorKind::Trap { trap, backtrace }))
    }

    /// An error that throws `exn` into the wasm that called the host
    /// function returning it (or that wasm left uncaught).
    pub fn exception(exn: ExnRef) -> Error {
        Error::exception_at(exn, WasmBacktrace::default())
    }

    /// An exception wasm threw and nothing caught, with where it was
    /// thrown.
    pub(crate) fn exception_at(exn: ExnRef, backtrace: WasmBacktrace) -> Error {
        Error(Box::new(ErrorKind::Exception { exn, backtrace }))
    }

    /// The exception, if this error is one.
    pub fn as_exception(&self) -> Option<ExnRef> {
        match &*self.0 {
            ErrorKind::Exception { exn, .. } => Some(*exn),
            _ => None,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<Trap> {
        match &*self.0 {
            ErrorKind::Trap { trap, .. } => Some(*trap),
            _ => None,
        }
    }

    /// The wasm backtrace of a trap or an uncaught exception.
    pub fn backtrace(&self) -> Option<&WasmBacktrace> {
        match &*self.0 {
            ErrorKind::Trap { backtrace, .. } | ErrorKind::Exception { backtrace, .. } => {
                Some(backtrace)
            }
            _ => None,
        }
    }

    /// The exit status, if this error is a request to exit.
    pub fn exit_status(&self) -> Option<i32> {
        match &*self.0 {
            ErrorKind::Exit(status) => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn unknown_imports(missing: Vec<MissingImport>) -> Error {
        Error(Box::new(ErrorKind::UnknownImports(missing)))
    }

    pub(crate) fn incompatible_import(module: &str, name: &str, reason: String) -> Error {
        Error(Box::new(ErrorKind::IncompatibleImport {
            module: module.to_string(),
            name: name.to_string(),
            reason,
        }))
    }
}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Error {
        Error(Box::new(ErrorKind::Compile(e)))
    }
}

impl From<ArtifactError> for Error {
    fn from(e: ArtifactError) -> Error {
        Error(Box::new(ErrorKind::Artifact(e)))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Trap { trap, backtrace } => {
                write!(f, "wasm trap: {trap}")?;
                if !backtrace.frames().is_empty() {
                    write!(f, "\n{backtrace}")?;
                }
                Ok(())
            }
            ErrorKind::Compile(e) => e.fmt(f),
            ErrorKind::Artifact(e) => e.fmt(f),
            ErrorKind::UnknownImports(missing) => match &missing[..] {
                [one] => write!(f, "unknown import: {one} has not been defined"),
                all => {
                    write!(f, "unknown imports: {} have not been defined:", all.len())?;
                    for m in all {
                        write!(f, "\n  {m}")?;
                    }
                    Ok(())
                }
            },
            ErrorKind::IncompatibleImport {
                module,
                name,
                reason,
            } => write!(
                f,
                "incompatible import type for `{module}::{name}`: {reason}"
            ),
            ErrorKind::Exception { backtrace, .. } => {
                f.write_str("uncaught wasm exception")?;
                if !backtrace.frames().is_empty() {
                    write!(f, "\n{backtrace}")?;
                }
                Ok(())
            }
            ErrorKind::Exit(status) => write!(f, "exited with status {status}"),
            ErrorKind::Host(e) => e.fmt(f),
            ErrorKind::Message(m) => f.write_str(m),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::Compile(e) => e.source(),
            ErrorKind::Host(e) => e.source(),
            _ => None,
        }
    }
}

/// One import that a linker could not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingImport {
    /// The import's module name.
    pub module: String,
    /// The import's field name.
    pub name: String,
    /// What was expected ("function", "table", ...).
    pub kind: &'static str,
}

impl fmt::Display for MissingImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}::{}` ({})", self.module, self.name, self.kind)
    }
}

/// Shorthand for runtime results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One wasm frame of a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Index of the function in its module's function index space.
    pub func_index: u32,
    /// The function's name from the name section.
    pub func_name: Option<String>,
    /// The module's name from the name section.
    pub module_name: Option<String>,
    /// Byte offset in the module of the instruction executing.
    pub wasm_offset: Option<u32>,
    /// Byte offset of that instruction from the start of its function's
    /// body.
    pub func_offset: Option<u32>,
}

/// The wasm frames active when a trap happened, innermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
    truncated: bool,
}

impl WasmBacktrace {
    /// A backtrace of these frames; `truncated` if older frames were dropped.
    pub fn new(frames: Vec<FrameInfo>, truncated: bool) -> WasmBacktrace {
        WasmBacktrace { frames, truncated }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// Whether older frames were left out.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.wasm_offset {
            Some(offset) => write!(f, "{offset:#8x} - ")?,
            None => f.write_str("         - ")?,
        }
        if let Some(module) = &self.module_name {
            write!(f, "{module}!")?;
        }
        match &self.func_name {
            Some(name) => f.write_str(name),
            None => write!(f, "<wasm function {}>", self.func_index),
        }
    }
}

impl fmt::Display for WasmBacktrace {
    /// One line per frame; a run of identical frames (deep recursion) is
    /// shown once with a count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wasm backtrace:")?;
        let mut i = 0;
        while i < self.frames.len() {
            let frame = &self.frames[i];
            write!(f, "\n  {i:>4}: {frame}")?;
            let repeats = self.frames[i + 1..]
                .iter()
                .take_while(|other| *other == frame)
                .count();
            if repeats > 1 {
                write!(
                    f,
                    "\n        ... the frame above repeats {repeats} more times"
                )?;
                i += repeats;
            }
            i += 1;
        }
        if self.truncated {
            f.write_str("\n        ... older frames omitted")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
    }

    #[test]
    fn trap_display_has_spec_message_and_frames() {
        let e = Error::trap(
            Trap::IntegerDivisionByZero,
            WasmBacktrace::new(
                vec![FrameInfo {
                    func_index: 3,
                    func_name: Some("div".into()),
                    module_name: None,
                    wasm_offset: Some(0x2e),
                    func_offset: Some(4),
                }],
                false,
            ),
        );
        let text = e.to_string();
        assert!(text.starts_with("wasm trap: integer divide by zero\nwasm backtrace:"));
        assert!(text.contains("0x2e - div"), "{text}");
        assert_eq!(e.as_trap(), Some(Trap::IntegerDivisionByZero));
    }

    #[test]
    fn repeated_frames_are_collapsed() {
        let frame = |offset| FrameInfo {
            func_index: 0,
            func_name: Some("f".into()),
            module_name: None,
            wasm_offset: Some(offset),
            func_offset: None,
        };
        let mut frames = vec![frame(0x1c)];
        frames.extend(std::iter::repeat_n(frame(0x1a), 5));
        let text = WasmBacktrace::new(frames, true).to_string();
        assert_eq!(
            text,
            "wasm backtrace:\n     0:     0x1c - f\n     1:     0x1a - f\n        \
             ... the frame above repeats 4 more times\n        ... older frames omitted"
        );
    }
}
