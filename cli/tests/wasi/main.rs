//! WASI end to end: C programs built with clang for wasm32-wasi and `.wat`
//! programs for ABI edges, run by the real `cljit` binary on real files,
//! directories, pipes and sockets.
//!
//! The programs check their own results (see `tests/wasi/c/check.h`) and
//! print one `ok:` line per finished section; the tests here check the
//! sections, the exit code, and the effects on the host.

mod abi;
mod programs;
mod pypi;
mod python;
mod sandbox;
mod support;
mod threads;
mod yosys;
