//! The compiler's error type.

use std::fmt;

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The bytes are not a valid WebAssembly module: malformed encoding or a
    /// validation failure. Carries the byte offset the parser reported.
    #[error("invalid wasm at offset {offset:#x}: {message}")]
    Invalid {
        /// Byte offset of the problem in the module.
        offset: u64,
        /// What the validator said.
        message: String,
    },
    /// The module is valid with a WebAssembly proposal that the compiler
    /// was configured without (or that cljit does not support yet): it
    /// validates once that proposal is enabled.
    #[error("invalid wasm at offset {offset:#x}: {message} (the `{feature}` proposal is disabled)")]
    DisabledFeature {
        /// Byte offset of the first use of the proposal.
        offset: u64,
        /// The proposal's name, as `-W NAME=y` spells it (see
        /// [`FEATURE_NAMES`](crate::FEATURE_NAMES)).
        feature: &'static str,
        /// What the validator said.
        message: String,
    },
    /// The module is valid but uses something cljit does not support yet.
    #[error("unsupported wasm feature{}: {message}", OffsetSuffix(*.offset))]
    Unsupported {
        /// Byte offset of the construct, when known.
        offset: Option<u64>,
        /// What is unsupported.
        message: String,
    },
    /// The code generator failed. This is a cljit bug or an implementation
    /// limit (for example a function too large to compile).
    #[error("code generation failed for function {func_index}: {message}")]
    Codegen {
        /// Index of the function in the function index space.
        func_index: u32,
        /// Cranelift's description.
        message: String,
    },
    /// The target could not be set up (unknown triple, unsupported CPU).
    #[error("unsupported compilation target: {0}")]
    Target(String),
}

struct OffsetSuffix(Option<u64>);

impl fmt::Display for OffsetSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(offset) => write!(f, " at offset {offset:#x}"),
            None => Ok(()),
        }
    }
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> CompileError {
        CompileError::Invalid {
            offset: e.offset(),
            message: e.message().to_string(),
        }
    }
}

/// Shorthand for results of the compiler.
pub type CompileResult<T> = Result<T, CompileError>;

/// Builds an [`CompileError::Unsupported`] at a byte offset.
pub(crate) fn unsupported(offset: Option<u64>, message: impl Into<String>) -> CompileError {
    CompileError::Unsupported {
        offset,
        message: message.into(),
    }
}
