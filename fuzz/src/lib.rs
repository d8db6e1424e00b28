//! Fuzz targets for cljit, in the `cargo fuzz` layout.
//!
//! - [`compile`]: bytes in, an error or a module out, never a panic. The
//!   first byte picks the engine (guard pages, explicit bounds checks, lazy
//!   compilation) and whether the rest is taken as a module or as the
//!   randomness from which `wasm-smith` builds a valid one. A module that
//!   compiles also round-trips through an artifact with the same imports and
//!   exports, and a damaged copy of the artifact loads or is refused without
//!   a panic; a module that fails validation never compiles; a generated
//!   (valid) module always does.
//! - [`instantiate`]: `wasm-smith` builds a terminating module with imports
//!   from the bytes; it is linked against default-valued imports,
//!   instantiated and its exports called in each engine, and every engine
//!   must see the same results, traps, globals and memories.
//! - [`wasi_paths`]: the WASI path resolver against a real temporary tree
//!   with symlinks that point inside, outside, at absolute paths and in
//!   loops: whatever the path, what it resolves to lies inside the
//!   preopened directory.
//!
//! Under `cargo fuzz run <target>` (libFuzzer; `--sanitizer none` on a
//! stable toolchain) they are coverage-guided. Built normally, each target
//! is a plain binary that runs over the files and directories it is given
//! (`cargo run -p cljit-fuzz --bin compile -- fuzz/corpus/compile`), and
//! the crate's test runs every target over its seeds, the corpus in
//! `fuzz/corpus/<target>/` and mutations of both (see [`corpus`]).

pub mod corpus;
mod modules;
mod wasi_paths;

pub use modules::{CALLS, COMPILED, GENERATED, compile, instantiate};
pub use wasi_paths::{OPENED, REFUSED, remove_tree, wasi_paths};
