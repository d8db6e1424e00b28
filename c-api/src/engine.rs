//! `wasm_config_t` and `wasm_engine_t`.

use crate::rt::{Cache, Config, Engine};

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
    /// The WASI functions, defined the first time a store needs them.
    pub(crate) wasi_linker: crate::wasi::WasiLinker,
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
        Some(Box::new(wasm_engine_t {
            engine,
            cache,
            wasi_linker: crate::wasi::WasiLinker::default(),
        }))
    })
}

/// `wasm_engine_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_engine_delete(_: Option<Box<wasm_engine_t>>) {}
