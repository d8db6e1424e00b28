//! cljit's WASI preview1 host layer, written over POSIX on the runtime's
//! public API (it never reaches into runtime internals).
//!
//! The system calls themselves arrive with the WASI issue; this crate holds
//! what is settled already.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The import module names WASI preview1 programs use: the current one and
/// the older `wasi_unstable`.
pub const MODULE_NAMES: &[&str] = &["wasi_snapshot_preview1", "wasi_unstable"];
