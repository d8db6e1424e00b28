//! The `cljit` command line, as a library so tests share its parts: the
//! spec-script runner ([`wast`]) and the `spectest` host module
//! ([`spectest`]).

#![forbid(unsafe_code)]

pub mod commands;
pub mod flags;
pub mod spectest;
pub mod wast;
