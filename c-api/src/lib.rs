//! cljit's C API: the standard `wasm.h` (in `c-api/include/`), a
//! Wasmer-3-style `wasi.h`, and `cljit.h` for what the standard lacks,
//! implemented over the `cljit` facade's public API only.
//!
//! ```text
//!  vec.rs       wasm_*_vec_t: one generic layout (each kind's functions
//!               are defined beside its element type)
//!  obj.rs       what references refer to: objects, host info, module and trap data
//!  env.rs       wasm_config_t, wasm_engine_t, wasm_store_t
//!  types.rs     value, function, global, table, memory, extern, import, export types
//!  ref.rs       wasm_ref_t: the one object behind every reference kind
//!  val.rs       wasm_val_t <-> cljit::Val
//!  func.rs  global.rs  table.rs  memory.rs  extern.rs  instance.rs  module.rs
//!  trap.rs      traps and frames            wasi.rs    wasi.h
//!  cljit.rs     cljit.h: errors, configuration, limits, artifacts
//! ```
//!
//! Conventions: parameters C may not pass as NULL are Rust references;
//! owned objects cross as `Box` (`Option<Box>` where NULL is allowed); no
//! panic unwinds into C (entry points that call into the runtime catch
//! panics and report them as errors); a function that fails with NULL or
//! false records why for [`cljit_last_error`](cljit::cljit_last_error).
//! Every runtime object lives as long as its store, whatever happens to the
//! references C holds.

#![deny(missing_docs)]
#![allow(
    non_camel_case_types,
    reason = "the C API's type names are fixed by wasm.h"
)]

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub(crate) use cljit_facade as rt;

pub mod cljit;
pub mod env;
pub mod r#extern;
pub mod func;
pub mod global;
pub mod instance;
pub mod memory;
pub mod module;
pub mod obj;
pub mod r#ref;
pub mod table;
pub mod trap;
pub mod types;
pub mod val;
pub mod vec;
pub mod wasi;

thread_local! {
    /// Why the last failing call on this thread failed.
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records why a call is about to fail, for `cljit_last_error`.
pub(crate) fn set_last_error(message: impl std::fmt::Display) {
    let message = message.to_string();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(message));
}

/// Takes the recorded reason, if any.
pub(crate) fn take_last_error() -> Option<String> {
    LAST_ERROR.with(|e| e.borrow_mut().take())
}

/// Runs `f`; a panic becomes `fallback`, with the panic's message recorded
/// as the reason. Entry points that call into the runtime use this, so no
/// panic unwinds into C.
pub(crate) fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    guard_or(|| fallback, f)
}

/// [`guard`], making the fallback only when it is needed.
pub(crate) fn guard_or<R>(fallback: impl FnOnce() -> R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            set_last_error(format!("internal error in cljit: {message}"));
            fallback()
        }
    }
}

/// `Some(value)`, or `None` with `error` recorded as the reason.
pub(crate) fn ok_or_record<T, E: std::fmt::Display>(r: Result<T, E>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            set_last_error(e);
            None
        }
    }
}

/// A C string as UTF-8 text.
///
/// # Safety
///
/// `ptr` must be NULL or point at a NUL-terminated string that stays valid
/// while the result is used.
pub(crate) unsafe fn c_str<'a>(ptr: *const std::ffi::c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    unsafe { std::ffi::CStr::from_ptr(ptr) }.to_str().ok()
}
