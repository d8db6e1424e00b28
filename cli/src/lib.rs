//! The `cljit` command line, as a library so tests share its parts: the
//! spec-script runner ([`wast`]) and the `spectest` host module
//! ([`spectest`]).

// Unsafe code is denied; the one exception (running an artifact, which
// trusts its machine code) says so where it is.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod commands;
pub mod exit;
pub mod flags;
pub mod spectest;
pub mod wast;
