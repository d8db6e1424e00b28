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
//!
//! Limits for a guest you did not write: fuel, a deadline, resource caps.
//!
//! ```
//! use cljit::{Config, Engine, Instance, Module, Store, StoreLimitsBuilder, Trap};
//!
//! let mut config = Config::new();
//! config.consume_fuel(true).epoch_interruption(true);
//! let engine = Engine::new(&config)?;
//! let module = Module::new(&engine, r#"(module (memory 1)
//!     (func (export "spin") (loop br 0))
//!     (func (export "grow") (result i32) (memory.grow (i32.const 100))))"#)?;
//!
//! let limits = StoreLimitsBuilder::new().memory_size(64 << 16).instances(1).build();
//! let mut store = Store::new(&engine, limits);
//! store.limiter(|limits| limits);
//! store.set_fuel(1_000_000)?;
//! store.set_epoch_deadline(1)?;
//!
//! let instance = Instance::new(&mut store, &module, &[])?;
//! // A memory cap: growth past it is refused (-1).
//! let grow = instance.get_typed_func::<(), i32>(&store, "grow")?;
//! assert_eq!(grow.call(&mut store, ())?, -1);
//! // Fuel: a runaway loop traps, and the store goes on.
//! let spin = instance.get_typed_func::<(), ()>(&store, "spin")?;
//! let error = spin.call(&mut store, ()).unwrap_err();
//! assert_eq!(error.as_trap(), Some(Trap::OutOfFuel));
//! assert_eq!(store.get_fuel()?, 0);
//! // A deadline: another thread advances the epoch.
//! store.set_fuel(u64::MAX)?;
//! let ticker = engine.clone();
//! std::thread::spawn(move || ticker.increment_epoch());
//! let error = spin.call(&mut store, ()).unwrap_err();
//! assert_eq!(error.as_trap(), Some(Trap::Interrupt));
//! # Ok::<(), cljit::Error>(())
//! ```

#![deny(missing_docs)]

pub use cljit_runtime::*;

/// WASI preview1, implemented over POSIX.
pub mod wasi {
    pub use cljit_wasi::*;
}
