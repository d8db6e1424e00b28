//! cljit's runtime: engines, modules, stores, instances and linkers; linear
//! memory behind guard pages; traps from signals.
//!
//! ```text
//!  Engine ── Compiler (cljit-compiler), signature registry, host trampolines
//!    │
//!  Module ── code loaded by cranelift-jit, registered for the trap handler
//!    │
//!  Store<T> ── instances (VMContexts), memories, tables, globals, host funcs
//!    │
//!  Instance / Func / Memory / Table / Global ── handles checked against the store
//! ```
//!
//! All of cljit's unsafe code lives in this crate; every block states the
//! invariant it relies on.

#![deny(missing_docs)]

mod arch;
mod artifact_file;
mod cache;
mod code_memory;
mod config;
mod engine;
mod epoch;
mod error;
mod exceptions;
mod exn_collect;
mod exn_ref;
mod externals;
mod file_bytes;
mod func;
mod gc;
pub mod guest;
mod instance;
mod instantiate;
mod lazy;
mod libcalls;
mod limits;
mod linker;
mod memory;
mod module;
mod perfmap;
mod signatures;
mod store;
mod sys;
mod traps;
mod values;
mod vm;

pub use cache::{Cache, CacheOutcome, CacheStats, DEFAULT_CACHE_LIMIT, VerifyReport};
pub use cljit_compiler::abi::{OptLevel, Trap};
pub use cljit_compiler::artifact::{ArtifactError, ArtifactHeader, MAGIC as ARTIFACT_MAGIC};
pub use cljit_compiler::types::{
    FuncType, GlobalType, HeapType, MemoryType, RefType, TableType, ValType, WASM_PAGE_BYTES,
};
pub use cljit_compiler::{
    CompileError, FEATURE_NAMES, WasmFeatures, feature_name, supported_features,
};
pub use config::Config;
pub use engine::Engine;
pub use error::{Error, ErrorKind, FrameInfo, MissingImport, Result, WasmBacktrace};
pub use exceptions::{ExnRef, Tag};
pub use externals::{Extern, Global, Memory, Table};
pub use file_bytes::FileBytes;
pub use func::{
    Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy, WithCaller,
};
pub use gc::{AnyRef, I31, RootScope};
pub use guest::{GuestError, GuestMemory};
pub use instance::Instance;
pub use limits::{
    DEFAULT_GC_HEAP_LIMIT, DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT,
    ResourceLimiter, StoreLimits, StoreLimitsBuilder,
};
pub use linker::Linker;
pub use memory::parking::WaitResult;
pub use memory::shared::SharedMemory;
pub use module::{ExternType, Module};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
pub use values::{ExternRef, Ref, V128, Val};
pub use vm::val_raw::ValRaw;
