//! Integration tests of the whole stack through the public API, one module
//! per topic. The CLI's process-level tests live with the binary, in
//! `cli/tests/cli.rs`, where Cargo provides its path.

mod artifact;
mod crash;
mod disas;
mod errors;
mod exceptions;
mod gc;
mod host;
mod lazy;
mod limits;
mod memory;
mod memory_images;
mod parallel;
mod simd;
mod threads;
mod traps;
mod wasi;

use cljit::{Config, Engine, Instance, Module, Store};

/// An engine with guard pages (the default) or explicit bounds checks.
pub fn engine(explicit_bounds_checks: bool) -> Engine {
    let mut config = Config::new();
    if explicit_bounds_checks {
        config.memory_reservation(0).memory_guard_size(0);
    }
    Engine::new(&config).expect("valid configuration")
}

/// Compiles `wat` and instantiates it without imports.
pub fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).expect("module compiles");
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("module instantiates");
    (store, instance)
}
