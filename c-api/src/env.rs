//! The runtime environment, as `wasm.h` groups it: `wasm_config_t`,
//! `wasm_engine_t` and `wasm_store_t`, with what the C API keeps beside a
//! store: the guest's WASI context, its resource limits, and host info
//! attached to its objects.
//!
//! Host info (and its finalizer) belongs to the object, not to one
//! reference to it: copies of a reference see the same info. Objects live
//! as long as their store, so the finalizers of store objects run when the
//! store is deleted (or when new info replaces old). Modules and traps are
//! not owned by a store; theirs run when the last reference goes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::obj::{HostInfo, ObjectKey};
use crate::rt::wasi::WasiCtx;
use crate::rt::{Cache, Config, Engine, Linker, Store, StoreLimits};

/// The WASI functions, defined once per engine (the first time a store
/// needs them) in a linker all its stores share.
pub(crate) type WasiLinker = Arc<OnceLock<Linker<StoreData>>>;

/// `wasm_config_t`: engine settings (see `cljit.h` for what can be set).
#[derive(Debug, Default)]
pub struct wasm_config_t {
    pub(crate) config: Config,
    /// Whether modules go through the compile cache, and in which
    /// directory (`None`: the default).
    pub(crate) cache: Option<Option<std::path::PathBuf>>,
}

/// `wasm_engine_t`: an engine, and the compile cache its modules use.
#[derive(Debug)]
pub struct wasm_engine_t {
    pub(crate) engine: Engine,
    pub(crate) cache: Option<Cache>,
    /// `Engine::memory_fallback`, NUL-terminated for C.
    pub(crate) memory_fallback: Option<std::ffi::CString>,
    /// The WASI functions, defined the first time a store needs them.
    pub(crate) wasi_linker: WasiLinker,
}

/// `wasm_config_new`: the default settings.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_config_new() -> Box<wasm_config_t> {
    Box::default()
}

/// `wasm_config_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_config_delete(_: Option<Box<wasm_config_t>>) {}

/// `wasm_engine_new`: an engine with the default settings.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_engine_new() -> Option<Box<wasm_engine_t>> {
    wasm_engine_new_with_config(wasm_config_new())
}

/// `wasm_engine_new_with_config`: takes the configuration. NULL (and
/// `cljit_last_error` says why) if it asks for what cljit cannot do.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_engine_new_with_config(
    config: Box<wasm_config_t>,
) -> Option<Box<wasm_engine_t>> {
    crate::guard(None, || {
        let engine = crate::ok_or_record(Engine::new(&config.config))?;
        let cache = match &config.cache {
            None => None,
            Some(Some(dir)) => Some(Cache::new(dir.clone())),
            Some(None) => Cache::default_dir().map(Cache::new),
        };
        let memory_fallback = engine
            .memory_fallback()
            .map(|why| std::ffi::CString::new(why.replace('\0', " ")).expect("no NUL left"));
        Some(Box::new(wasm_engine_t {
            engine,
            cache,
            memory_fallback,
            wasi_linker: WasiLinker::default(),
        }))
    })
}

/// `wasm_engine_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_engine_delete(_: Option<Box<wasm_engine_t>>) {}

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
    pub(crate) wasi_linker: WasiLinker,
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
                wasi_linker: Arc::clone(&engine.wasi_linker),
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
