//! Running an instance as Node's `WASI` class does: [`start`] for a
//! command (it must export `_start`), [`initialize`] for a reactor (it must
//! not), each at most once per context, each refusing a module with no
//! `memory` export.
//!
//! `proc_exit` never ends the host process: `start` returns the status, and
//! [`WasiCtx::exit_code`] keeps it.

use cljit_runtime::{AsContextMut, Error, Instance, Result};

use crate::ctx::WasiCtx;

/// Whether `instance` exports a function called `name`.
fn exports_func(store: &mut impl AsContextMut, instance: Instance, name: &str) -> bool {
    instance.get_func(store.as_context_mut(), name).is_some()
}

/// The checks `start` and `initialize` share: not started yet, a memory.
fn check<T>(
    store: &mut impl AsContextMut<Data = T>,
    instance: Instance,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    if get(store.as_context_mut().data_mut()).started {
        return Err(Error::msg(
            "this WASI context has already started or initialized an instance",
        ));
    }
    if instance
        .get_memory(store.as_context_mut(), "memory")
        .is_none()
    {
        return Err(Error::msg(
            "the instance exports no `memory`, which WASI needs",
        ));
    }
    Ok(())
}

/// Runs a WASI command: calls its `_start` and returns its exit status (0
/// when `_start` returns, the status it passed to `proc_exit` otherwise).
///
/// # Errors
///
/// A trap or host error from the program; and, before running anything: the
/// context already ran an instance, the instance exports `_initialize` (it
/// is a reactor) or no `_start`, or exports no `memory`.
pub fn start<T>(
    mut store: impl AsContextMut<Data = T>,
    instance: Instance,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<i32> {
    check(&mut store, instance, get)?;
    if exports_func(&mut store, instance, "_initialize") {
        return Err(Error::msg(
            "the instance exports `_initialize`, so it is a reactor: initialize it instead",
        ));
    }
    let start = instance
        .get_typed_func::<(), ()>(store.as_context_mut(), "_start")
        .map_err(|_| {
            Error::msg("the instance exports no `_start` function `() -> ()`: it is not a command")
        })?;
    get(store.as_context_mut().data_mut()).started = true;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.exit_status() {
            Some(status) => Ok(status),
            None => Err(e),
        },
    }
}

/// Prepares a WASI reactor: calls its `_initialize`, if it has one, after
/// which its other exports may be called.
///
/// # Errors
///
/// A trap, host error or exit from `_initialize`; and, before running
/// anything: the context already ran an instance, the instance exports
/// `_start` (it is a command), or exports no `memory`.
pub fn initialize<T>(
    mut store: impl AsContextMut<Data = T>,
    instance: Instance,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    check(&mut store, instance, get)?;
    if exports_func(&mut store, instance, "_start") {
        return Err(Error::msg(
            "the instance exports `_start`, so it is a command: start it instead",
        ));
    }
    get(store.as_context_mut().data_mut()).started = true;
    if exports_func(&mut store, instance, "_initialize") {
        let init = instance
            .get_typed_func::<(), ()>(store.as_context_mut(), "_initialize")
            .map_err(|_| Error::msg("`_initialize` must have type `() -> ()`"))?;
        init.call(&mut store, ())?;
    }
    Ok(())
}
