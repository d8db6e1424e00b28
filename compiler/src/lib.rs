//! cljit's compiler: a pure function from WebAssembly bytes (plus target and
//! settings) to a [`CompiledModule`], with no execution, no memory mapping and
//! no unsafe code.
//!
//! ```text
//!  bytes ─► module_info::parse ─► ModuleInfo + bodies
//!                                        │ (parallel, one per function)
//!                                        ▼
//!                         translate (validate + wasm → CLIF)
//!                                        ▼
//!                         Cranelift codegen ─► CompiledFunction
//!                                        ▼
//!                  CompiledModule { code, relocations, trap tables, address maps }
//! ```
//!
//! What compiled code and the runtime must agree on lives in [`abi`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod abi;
pub mod artifact;
mod compile;
pub mod data_image;
mod error;
mod features;
pub mod indices;
mod lazy;
pub mod link;
mod module_info;
pub mod shared_bytes;
mod target;
mod throws;
mod trampolines;
mod translate;
pub mod types;

pub use abi::HotnessCounter;
pub use compile::{
    CompiledFunction, CompiledModule, Compiler, RelocTarget, Relocation, compile_for_host,
};
pub use error::{CompileError, CompileResult};
pub use features::{FEATURE_NAMES, default_features, feature_name, supported_features};
pub use lazy::{LazyBodies, code_section_bytes};
pub use module_info::{
    DataSegment, ElementItems, ElementSegment, Export, Import, ModuleInfo, SegmentMode,
};
pub use target::{CodeTarget, Target};

/// Re-exported so the runtime and embedders name the same feature set.
pub use wasmparser::WasmFeatures;

/// Re-exported for the runtime's loader, which needs the ISA and relocation
/// kinds that compiled code refers to.
pub use cranelift_codegen;
