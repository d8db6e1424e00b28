//! The `cljit` command line, as a library so tests share its parts: the
//! spec-script runner ([`wast`]) and the `spectest` host module
//! ([`spectest`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod commands;
pub mod flags;
pub mod spectest;
pub mod wast;
