//! cljit's WASI preview1 host layer, written over POSIX on the runtime's
//! public API (it never reaches into runtime internals).
//!
//! ```text
//!  add_to_linker ── preview1/{args,clock,fd,path,poll,proc,random,sock}.rs
//!        │                         │
//!     WasiCtx ── FdTable ── path::resolve (sandbox) ── sys (libc calls)
//!        │
//!   GuestMemory (cljit-runtime): every guest pointer checked → `fault`
//! ```
//!
//! Embedding:
//!
//! ```no_run
//! use cljit_runtime::{Engine, Linker, Module, Store};
//! use cljit_wasi::{DirAccess, WasiCtx};
//!
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "app.wasm")?;
//! let mut builder = WasiCtx::builder();
//! builder.arg("app.wasm").inherit_stdio();
//! builder.preopened_dir(".", ".", DirAccess::ReadWrite)?;
//! let mut store = Store::new(&engine, builder.build()?);
//! let mut linker = Linker::new(&engine);
//! cljit_wasi::add_to_linker(&mut linker, |cx| cx)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_func(&store, "_start").unwrap().call(&mut store, &[], &mut [])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod command;
mod ctx;
mod errno;
pub mod fd_table;
pub mod path;
pub mod pipe;
mod preview1;
mod sys;
pub mod threads;
pub mod types;

pub use command::{initialize, start};
pub use ctx::{DirAccess, WasiCtx, WasiCtxBuilder};
pub use errno::{Errno, WasiResult};
pub use pipe::{DEFAULT_CAPTURE_LIMIT, MemoryInput, MemoryOutput};
pub use preview1::{add_to_linker, add_to_linker_shared};

/// The import module names WASI preview1 programs use: the current one and
/// the older `wasi_unstable`.
pub const MODULE_NAMES: &[&str] = &["wasi_snapshot_preview1", "wasi_unstable"];
