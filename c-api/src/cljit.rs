//! `cljit.h`: errors that say why, configuration, limits, artifacts, and
//! what a trap was.

use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::path::PathBuf;

use crate::env::{StoreData, wasm_store_t};
use crate::env::{wasm_config_t, wasm_engine_t};
use crate::r#ref::wasm_ref_t;
use crate::rt::{OptLevel, StoreLimitsBuilder};
use crate::trap::{nul_terminated, trap_of};
use crate::vec::wasm_byte_vec_t;

/// `cljit_error_t`: why something failed.
#[derive(Debug)]
pub struct cljit_error_t {
    message: String,
}

/// An error result: NULL on success, otherwise an owned error.
type Outcome = Option<Box<cljit_error_t>>;

fn error(message: impl std::fmt::Display) -> Outcome {
    Some(Box::new(cljit_error_t {
        message: message.to_string(),
    }))
}

fn outcome<E: std::fmt::Display>(r: Result<(), E>) -> Outcome {
    r.err().and_then(error)
}

/// `cljit_last_error`: why the last failing standard call on this thread
/// failed (the caller owns it), or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_last_error() -> Outcome {
    crate::take_last_error().and_then(error)
}

/// `cljit_error_message`: the message, NUL-terminated (the size counts the
/// NUL).
#[unsafe(no_mangle)]
pub extern "C" fn cljit_error_message(e: &cljit_error_t, out: &mut MaybeUninit<wasm_byte_vec_t>) {
    crate::vec::write(out, nul_terminated(&e.message));
}

/// `cljit_error_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_error_delete(_: Option<Box<cljit_error_t>>) {}

/// `cljit_config_opt_level`: 0 none, 1 speed (the default), 2 speed and
/// size; other values leave the setting as it is.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_opt_level(config: &mut wasm_config_t, level: u8) {
    let level = match level {
        0 => OptLevel::None,
        1 => OptLevel::Speed,
        2 => OptLevel::SpeedAndSize,
        _ => return,
    };
    config.config.cranelift_opt_level(level);
}

/// `cljit_config_memory_reservation`: address space reserved per linear
/// memory.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_memory_reservation(config: &mut wasm_config_t, bytes: u64) {
    config.config.memory_reservation(bytes);
}

/// `cljit_config_memory_guard_size`: the guard region after each memory.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_memory_guard_size(config: &mut wasm_config_t, bytes: u64) {
    config.config.memory_guard_size(bytes);
}

/// `cljit_config_max_wasm_stack`: the most stack wasm may use.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_max_wasm_stack(config: &mut wasm_config_t, bytes: usize) {
    config.config.max_wasm_stack(bytes);
}

/// `cljit_config_wasm_feature`: turns a proposal on or off by name.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cljit_config_wasm_feature(
    config: &mut wasm_config_t,
    name: *const c_char,
    enable: bool,
) -> Outcome {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let Some(name) = (unsafe { crate::c_str(name) }) else {
        return error("the feature name is NULL or not UTF-8");
    };
    outcome(config.config.wasm_feature(name, enable).map(|_| ()))
}

/// `cljit_config_consume_fuel`: compiled code charges fuel.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_consume_fuel(config: &mut wasm_config_t, enable: bool) {
    config.config.consume_fuel(enable);
}

/// `cljit_config_epoch_interruption`: compiled code checks epoch
/// deadlines.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_epoch_interruption(config: &mut wasm_config_t, enable: bool) {
    config.config.epoch_interruption(enable);
}

/// `cljit_config_lazy_compilation`: functions compile on first call, hot
/// ones are recompiled after `tier_up_threshold` counts (0: never).
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_lazy_compilation(
    config: &mut wasm_config_t,
    enable: bool,
    tier_up_threshold: u32,
) {
    config
        .config
        .lazy_compilation(enable)
        .lazy_tier_up_threshold(tier_up_threshold);
}

/// `cljit_config_cache`: `wasm_module_new` goes through the compile cache
/// in `dir` (NULL: the default directory).
///
/// # Safety
///
/// `dir` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cljit_config_cache(config: &mut wasm_config_t, dir: *const c_char) {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let dir = unsafe { crate::c_str(dir) }.map(PathBuf::from);
    config.cache = Some(dir);
}

/// `cljit_config_memory_reservation_fallback`: whether the engine gives up
/// the configured reservation for explicit bounds checks when the process
/// cannot afford it (on by default).
#[unsafe(no_mangle)]
pub extern "C" fn cljit_config_memory_reservation_fallback(
    config: &mut wasm_config_t,
    enable: bool,
) {
    config.config.memory_reservation_fallback(enable);
}

/// `cljit_engine_memory_fallback`: why the engine checks memory accesses
/// explicitly instead of reserving the configured address space, or NULL
/// when it does not. The string lives as long as the engine.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_engine_memory_fallback(engine: &wasm_engine_t) -> *const c_char {
    engine
        .memory_fallback
        .as_ref()
        .map_or(std::ptr::null(), |why| why.as_ptr())
}

/// `cljit_engine_increment_epoch`: advances the engine's epoch (from any
/// thread, also while wasm runs).
#[unsafe(no_mangle)]
pub extern "C" fn cljit_engine_increment_epoch(engine: &wasm_engine_t) {
    engine.engine.increment_epoch();
}

/// `cljit_store_set_fuel`.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_store_set_fuel(store: &mut wasm_store_t, fuel: u64) -> Outcome {
    outcome(store.store.set_fuel(fuel))
}

/// `cljit_store_get_fuel`.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_store_get_fuel(store: &wasm_store_t, fuel: &mut u64) -> Outcome {
    match store.store.get_fuel() {
        Ok(f) => {
            *fuel = f;
            None
        }
        Err(e) => error(e),
    }
}

/// `cljit_store_set_epoch_deadline`: the deadline is `ticks` epochs from
/// now.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_store_set_epoch_deadline(store: &mut wasm_store_t, ticks: u64) -> Outcome {
    outcome(store.store.set_epoch_deadline(ticks))
}

/// `cljit_store_limiter`: caps for the store; a negative value leaves that
/// cap at its default (none, or the default count).
#[unsafe(no_mangle)]
pub extern "C" fn cljit_store_limiter(
    store: &mut wasm_store_t,
    memory_size: i64,
    table_elements: i64,
    instances: i64,
    tables: i64,
    memories: i64,
    trap_on_grow_failure: bool,
) {
    let cap = |v: i64| usize::try_from(v).ok();
    let mut limits = StoreLimitsBuilder::new().trap_on_grow_failure(trap_on_grow_failure);
    if let Some(v) = cap(memory_size) {
        limits = limits.memory_size(v);
    }
    if let Some(v) = cap(table_elements) {
        limits = limits.table_elements(v);
    }
    if let Some(v) = cap(instances) {
        limits = limits.instances(v);
    }
    if let Some(v) = cap(tables) {
        limits = limits.tables(v);
    }
    if let Some(v) = cap(memories) {
        limits = limits.memories(v);
    }
    store.store.data_mut().limits = limits.build();
    store.store.limiter(|data: &mut StoreData| &mut data.limits);
}

/// `cljit_module_serialize`: the module as a cljit artifact.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_module_serialize(
    module: &wasm_ref_t,
    out: &mut MaybeUninit<wasm_byte_vec_t>,
) -> Outcome {
    match crate::guard_or(
        || Err(crate::rt::Error::msg("internal error in cljit")),
        || crate::module::serialize(module),
    ) {
        Ok(bytes) => {
            crate::vec::write(out, bytes);
            None
        }
        Err(e) => {
            crate::vec::write(out, Vec::new());
            error(e)
        }
    }
}

/// `cljit_module_deserialize`: a module from an artifact of this build,
/// target and settings. An artifact is machine code: load only artifacts
/// you made.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_module_deserialize(
    store: &mut wasm_store_t,
    artifact: &wasm_byte_vec_t,
    out: &mut MaybeUninit<Option<Box<wasm_ref_t>>>,
) -> Outcome {
    // SAFETY: cljit.h's contract: the caller trusts the artifact (its
    // header and checksum catch mistakes and damage, not malice).
    let r = unsafe { crate::module::deserialize(store, artifact.as_slice().to_vec()) };
    finish_load(r, out)
}

/// `cljit_module_deserialize_file`: as `cljit_module_deserialize`, from a
/// file.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cljit_module_deserialize_file(
    store: &mut wasm_store_t,
    path: *const c_char,
    out: &mut MaybeUninit<Option<Box<wasm_ref_t>>>,
) -> Outcome {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let Some(path) = (unsafe { crate::c_str(path) }) else {
        out.write(None);
        return error("the path is NULL or not UTF-8");
    };
    let r = std::fs::read(path)
        .map_err(|e| crate::rt::Error::msg(format!("cannot read `{path}`: {e}")))
        // SAFETY: as in `cljit_module_deserialize`: the caller trusts the
        // artifact it names.
        .and_then(|bytes| unsafe { crate::module::deserialize(store, bytes) });
    finish_load(r, out)
}

fn finish_load(
    r: crate::rt::Result<Box<wasm_ref_t>>,
    out: &mut MaybeUninit<Option<Box<wasm_ref_t>>>,
) -> Outcome {
    match r {
        Ok(module) => {
            out.write(Some(module));
            None
        }
        Err(e) => {
            out.write(None);
            error(e)
        }
    }
}

/// `cljit_trap_code`: the trap's kind, when wasm raised it.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_trap_code(trap: &wasm_ref_t, code: &mut u8) -> bool {
    match trap_of(trap).and_then(|t| t.trap) {
        Some(t) => {
            *code = t.code();
            true
        }
        None => false,
    }
}

/// `cljit_trap_exit_status`: the status of a trap that is a WASI exit.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_trap_exit_status(trap: &wasm_ref_t, status: &mut i32) -> bool {
    match trap_of(trap).and_then(|t| t.exit) {
        Some(s) => {
            *status = s;
            true
        }
        None => false,
    }
}
