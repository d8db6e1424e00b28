//! cljit: a WebAssembly runtime that compiles wasm to native code with
//! Cranelift, runs it in linear memory fenced by guard pages, turns faults
//! into traps, and provides WASI preview1.
//!
//! This crate is the facade: the runtime API at the top level, WASI under
//! [`wasi`].
//!
//! ```
//! use cljit::{Engine, Instance, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, 5);
//! # Ok::<(), cljit::Error>(())
//! ```

#![deny(missing_docs)]

pub use cljit_runtime::*;

/// WASI preview1, implemented over POSIX.
pub mod wasi {
    pub use cljit_wasi::*;
}
