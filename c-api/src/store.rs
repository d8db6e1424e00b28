//! `wasm_store_t`: a store and what the C API keeps with it: the guest's
//! WASI context, its resource limits, and host info attached to its
//! objects.
//!
//! Host info (and its finalizer) belongs to the object, not to one
//! reference to it: copies of a reference see the same info. Objects live
//! as long as their store, so the finalizers of store objects run when the
//! store is deleted (or when new info replaces old). Modules and traps are
//! not owned by a store; theirs run when the last reference goes.

use std::collections::HashMap;
use std::ffi::c_void;

use crate::engine::wasm_engine_t;
use crate::rt::wasi::WasiCtx;
use crate::rt::{Cache, ExternRef, Func, Global, Instance, Memory, Store, StoreLimits, Table};

/// Host info: a pointer and the function to call with it when the object
/// goes away (or the info is replaced).
#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) info: *mut c_void,
    pub(crate) finalizer: Option<extern "C" fn(*mut c_void)>,
}

// SAFETY: the pointer is C's; the C API leaves synchronising its use to
// the program (modules, which may be shared across threads, carry it).
unsafe impl Send for HostInfo {}
// SAFETY: as above.
unsafe impl Sync for HostInfo {}

impl Drop for HostInfo {
    fn drop(&mut self) {
        if let Some(finalizer) = self.finalizer {
            finalizer(self.info);
        }
    }
}

/// A store object, as a key for its host info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ObjectKey {
    Func(Func),
    Global(Global),
    Table(Table),
    Memory(Memory),
    Instance(Instance),
    Foreign(ExternRef),
}

/// What a C API store holds beside the runtime's state.
#[derive(Debug, Default)]
pub struct StoreData {
    /// The guest's WASI context (set by `wasi_env_new`).
    pub(crate) wasi: WasiCtx,
    /// Limits `cljit_store_limiter` set.
    pub(crate) limits: StoreLimits,
    /// Host info of store objects.
    pub(crate) host_info: HashMap<ObjectKey, HostInfo>,
    /// The engine's compile cache, for `wasm_module_new`.
    pub(crate) cache: Option<Cache>,
    /// The engine's WASI functions, for `wasi_get_imports`.
    pub(crate) wasi_linker: crate::wasi::WasiLinker,
}

/// The WASI context of a store, for the linker's WASI functions.
pub(crate) fn wasi_of(data: &mut StoreData) -> &mut WasiCtx {
    &mut data.wasi
}

/// `wasm_store_t`.
#[derive(Debug)]
pub struct wasm_store_t {
    pub(crate) store: Store<StoreData>,
}

/// `wasm_store_new`: a store of `engine`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_store_new(engine: &wasm_engine_t) -> Box<wasm_store_t> {
    Box::new(wasm_store_t {
        store: Store::new(
            &engine.engine,
            StoreData {
                cache: engine.cache.clone(),
                wasi_linker: std::sync::Arc::clone(&engine.wasi_linker),
                ..StoreData::default()
            },
        ),
    })
}

/// `wasm_store_delete`: the store and every object in it go; finalizers
/// run.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_store_delete(store: Option<Box<wasm_store_t>>) {
    crate::guard((), || drop(store));
}
