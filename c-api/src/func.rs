//! Functions: host functions C defines, their types, and calls.
//!
//! A host function is a C callback behind a runtime host function. When
//! wasm calls it, the arguments become a `wasm_val_vec_t`, the results a
//! vector of the result types' zero values for the callback to fill, and a
//! trap it returns becomes the call's error (a trap passed on from a nested
//! `wasm_func_call` keeps its kind, frames and exit status).

use std::ffi::c_void;

use crate::env::{StoreData, wasm_store_t};
use crate::obj::{Obj, TrapData};
use crate::r#ref::{wasm_func_t, wasm_ref_t};
use crate::rt::{Error, Func, FuncType, Result, Val};
use crate::trap::{trap_of, trap_of_error};
use crate::types::{wasm_externtype_t, wasm_functype_t};
use crate::val::wasm_val_t;
use crate::val::wasm_val_vec_t;
use crate::vec::CVec;

/// `wasm_func_callback_t`.
pub type wasm_func_callback_t =
    extern "C" fn(args: &wasm_val_vec_t, results: &mut wasm_val_vec_t) -> Option<Box<wasm_ref_t>>;

/// `wasm_func_callback_with_env_t`.
pub type wasm_func_callback_with_env_t = extern "C" fn(
    env: *mut c_void,
    args: &wasm_val_vec_t,
    results: &mut wasm_val_vec_t,
) -> Option<Box<wasm_ref_t>>;

/// A C callback and what it needs, captured by the runtime host function.
struct Callback {
    store: *mut wasm_store_t,
    target: Target,
}

enum Target {
    Plain(wasm_func_callback_t),
    WithEnv {
        callback: wasm_func_callback_with_env_t,
        env: *mut c_void,
        finalizer: Option<extern "C" fn(*mut c_void)>,
    },
}

// SAFETY: the pointers are C's: the store, which C uses from one thread at
// a time (the function only runs while its store is in a call), and the
// environment, whose synchronisation the C API leaves to the program.
unsafe impl Send for Callback {}
// SAFETY: the callback is shared only through `&self`, which reads its
// pointers; the store is used from one thread at a time and the
// environment's synchronisation is the C program's, as the C API says.
unsafe impl Sync for Callback {}

impl Drop for Callback {
    /// The environment's finalizer runs when the function goes, which is
    /// when its store does.
    fn drop(&mut self) {
        if let Target::WithEnv {
            env,
            finalizer: Some(finalizer),
            ..
        } = self.target
        {
            finalizer(env);
        }
    }
}

impl Callback {
    /// Runs the callback for one call from wasm.
    fn call(&self, ty: &FuncType, params: &[Val], results: &mut [Val]) -> Result<()> {
        let args: Vec<wasm_val_t> = params
            .iter()
            .map(|v| wasm_val_t::from_val(v, self.store))
            .collect::<Result<_, _>>()
            .map_err(Error::msg)?;
        let args = CVec::from_vec(args);
        let mut out = CVec::from_vec(
            ty.results()
                .iter()
                .map(|&t| wasm_val_t::default_for(t))
                .collect(),
        );
        let trap = match self.target {
            Target::Plain(callback) => callback(&args, &mut out),
            Target::WithEnv { callback, env, .. } => callback(env, &args, &mut out),
        };
        let mut args = args;
        args.release();
        let outcome = match trap {
            Some(trap) => Err(trap_of(&trap).map_or_else(
                || Error::msg("the callback returned something that is not a trap"),
                TrapData::to_error,
            )),
            None => collect_results(ty, &out, results),
        };
        out.release();
        outcome
    }
}

/// Moves the callback's results into the runtime's slots, checking their
/// types.
fn collect_results(ty: &FuncType, out: &wasm_val_vec_t, results: &mut [Val]) -> Result<()> {
    let values = out.as_slice();
    if values.len() != results.len() {
        return Err(Error::msg(format!(
            "the callback left {} results, its type has {}",
            values.len(),
            results.len()
        )));
    }
    for (i, ((slot, value), &want)) in results.iter_mut().zip(values).zip(ty.results()).enumerate()
    {
        let v = value.to_val().map_err(Error::msg)?;
        if v.ty() != want {
            return Err(Error::msg(format!(
                "the callback's result {i} has type {}, its type says {want}",
                v.ty()
            )));
        }
        *slot = v;
    }
    Ok(())
}

fn new_host_func(
    store: &mut wasm_store_t,
    ty: &wasm_functype_t,
    target: Target,
) -> Option<Box<wasm_func_t>> {
    let callback = Callback {
        store: std::ptr::from_mut(store),
        target,
    };
    let Some(func_type) = ty.func_type() else {
        crate::set_last_error("not a function type");
        return None;
    };
    let call_type = func_type.clone();
    let func = Func::new(
        &mut store.store,
        func_type,
        move |_caller: crate::rt::Caller<'_, StoreData>, params: &[Val], results: &mut [Val]| {
            // The callback reaches the store through the references it
            // holds, as a caller would; the caller itself is never used.
            callback.call(&call_type, params, results)
        },
    );
    Some(wasm_ref_t::boxed(store, Obj::Func(func)))
}

/// `wasm_func_new`: a host function of type `ty` calling `callback`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_new(
    store: &mut wasm_store_t,
    ty: &wasm_functype_t,
    callback: wasm_func_callback_t,
) -> Option<Box<wasm_func_t>> {
    crate::guard(None, || new_host_func(store, ty, Target::Plain(callback)))
}

/// `wasm_func_new_with_env`: a host function whose callback receives
/// `env`; `finalizer` (if not NULL) is called with `env` when the function
/// goes, which is when its store is deleted.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_new_with_env(
    store: &mut wasm_store_t,
    ty: &wasm_functype_t,
    callback: wasm_func_callback_with_env_t,
    env: *mut c_void,
    finalizer: Option<extern "C" fn(*mut c_void)>,
) -> Option<Box<wasm_func_t>> {
    crate::guard(None, || {
        let target = Target::WithEnv {
            callback,
            env,
            finalizer,
        };
        new_host_func(store, ty, target)
    })
}

/// The runtime function behind a reference.
fn func_of(r: &wasm_ref_t) -> Option<Func> {
    match r.obj {
        Obj::Func(f) => Some(f),
        _ => None,
    }
}

fn type_of(f: &wasm_func_t) -> Option<FuncType> {
    let func = func_of(f)?;
    crate::guard(None, || Some(func.ty(&f.store_mut().store)))
}

/// `wasm_func_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_type(f: &wasm_func_t) -> Option<Box<wasm_functype_t>> {
    let ty = type_of(f)?;
    Some(Box::new(wasm_externtype_t::new(
        &crate::rt::ExternType::Func(ty),
    )))
}

/// `wasm_func_param_arity`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_param_arity(f: &wasm_func_t) -> usize {
    type_of(f).map_or(0, |t| t.params().len())
}

/// `wasm_func_result_arity`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_result_arity(f: &wasm_func_t) -> usize {
    type_of(f).map_or(0, |t| t.results().len())
}

/// `wasm_func_call`: calls the function with `args`, writing its results
/// into `results` (which must hold one value per result). NULL on
/// success; otherwise a trap saying what happened (a trap, a WASI exit, a
/// host error, or arguments that do not fit the function's type).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_func_call(
    f: &wasm_func_t,
    args: &wasm_val_vec_t,
    results: &mut wasm_val_vec_t,
) -> Option<Box<wasm_ref_t>> {
    let store = f.store;
    crate::guard_or(
        || {
            // The guard recorded the panic; the trap says it too.
            let message = crate::take_last_error().unwrap_or_default();
            crate::set_last_error(&message);
            Some(crate::trap::new_trap(
                store,
                TrapData::from_error(&Error::msg(message)),
            ))
        },
        || match call(f, args, results) {
            Ok(()) => None,
            Err(e) => Some(trap_of_error(store, &e)),
        },
    )
}

fn call(f: &wasm_func_t, args: &wasm_val_vec_t, results: &mut wasm_val_vec_t) -> Result<()> {
    let func = func_of(f).ok_or_else(|| Error::msg("not a function"))?;
    let params = args
        .as_slice()
        .iter()
        .map(|v| v.to_val())
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::msg)?;
    let store = f.store_mut();
    let ty = func.ty(&store.store);
    if results.size < ty.results().len() {
        return Err(Error::msg(format!(
            "the results vector holds {} values, the function returns {}",
            results.size,
            ty.results().len()
        )));
    }
    let mut values: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    func.call(&mut store.store, &params, &mut values)?;
    for (slot, v) in results.as_mut_slice().iter_mut().zip(&values) {
        *slot = wasm_val_t::from_val(v, f.store).map_err(Error::msg)?;
    }
    Ok(())
}
