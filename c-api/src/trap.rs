//! Traps and their frames.
//!
//! A `wasm_trap_t` is any failure a call or an instantiation reports: a
//! trap wasm raised (with its code and frames), a WASI exit (`exit status
//! N`), an error from a host function, or a trap C made with
//! `wasm_trap_new`. It is not owned by a store; it lives while a reference
//! to it does.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use crate::env::wasm_store_t;
use crate::obj::{Obj, TrapData};
use crate::r#ref::{wasm_ref_t, wasm_trap_t};
use crate::rt::{Error, FrameInfo, WasmBacktrace};
use crate::vec::{CVec, vector_functions, wasm_byte_vec_t};

/// Making traps, and the errors they stand for (the data is in `obj.rs`,
/// below the references that hold it).
impl TrapData {
    fn new(message: String) -> TrapData {
        TrapData {
            message,
            frames: Vec::new(),
            trap: None,
            exit: None,
            host_info: Mutex::new(None),
        }
    }

    /// The trap reporting a runtime error.
    pub(crate) fn from_error(error: &Error) -> TrapData {
        if let Some(status) = error.exit_status() {
            return TrapData {
                exit: Some(status),
                ..TrapData::new(format!("exit status {status}"))
            };
        }
        match error.as_trap() {
            Some(trap) => TrapData {
                trap: Some(trap),
                frames: error
                    .backtrace()
                    .map(|b| b.frames().to_vec())
                    .unwrap_or_default(),
                ..TrapData::new(format!("wasm trap: {trap}"))
            },
            None => TrapData::new(error.to_string()),
        }
    }

    /// The runtime error a host function reports by returning this trap: a
    /// trap passed on from a nested call keeps its kind, frames and exit
    /// status.
    pub(crate) fn to_error(&self) -> Error {
        if let Some(status) = self.exit {
            return Error::exit(status);
        }
        match self.trap {
            Some(trap) => Error::trap(trap, WasmBacktrace::new(self.frames.clone(), false)),
            None => Error::msg(self.message.clone()),
        }
    }
}

/// A new trap reference.
pub(crate) fn new_trap(store: *mut wasm_store_t, data: TrapData) -> Box<wasm_trap_t> {
    wasm_ref_t::boxed(store, Obj::Trap(Arc::new(data)))
}

/// A trap reporting `error` (which is also recorded for `cljit_last_error`).
pub(crate) fn trap_of_error(store: *mut wasm_store_t, error: &Error) -> Box<wasm_trap_t> {
    crate::set_last_error(error);
    new_trap(store, TrapData::from_error(error))
}

/// The data behind a trap reference.
pub(crate) fn trap_of(r: &wasm_trap_t) -> Option<&TrapData> {
    match &r.obj {
        Obj::Trap(t) => Some(t),
        _ => None,
    }
}

/// `wasm_trap_new`: a trap with `message` (a trailing NUL, as the
/// standard's messages carry, is dropped). `store` may be NULL.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_trap_new(
    store: *mut wasm_store_t,
    message: &wasm_byte_vec_t,
) -> Box<wasm_trap_t> {
    let bytes = message.as_slice();
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    new_trap(
        store,
        TrapData::new(String::from_utf8_lossy(bytes).into_owned()),
    )
}

/// `wasm_trap_message`: the message, NUL-terminated (the size counts the
/// NUL).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_trap_message(trap: &wasm_trap_t, out: &mut MaybeUninit<wasm_byte_vec_t>) {
    let message = trap_of(trap).map_or("", |t| t.message.as_str());
    crate::vec::write(out, nul_terminated(message));
}

/// The bytes of `text` followed by a NUL.
pub(crate) fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

/// `wasm_frame_t`: one wasm frame of a trap's trace.
#[derive(Debug, Clone)]
pub struct wasm_frame_t {
    info: FrameInfo,
}

/// `wasm_trap_origin`: the innermost frame, or NULL if the trap has none.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_trap_origin(trap: &wasm_trap_t) -> Option<Box<wasm_frame_t>> {
    let info = trap_of(trap)?.frames.first()?.clone();
    Some(Box::new(wasm_frame_t { info }))
}

/// `wasm_trap_trace`: every frame, innermost first.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_trap_trace(trap: &wasm_trap_t, out: &mut MaybeUninit<wasm_frame_vec_t>) {
    let frames = trap_of(trap).map_or(&[][..], |t| &t.frames[..]);
    let items = frames
        .iter()
        .map(|info| Some(Box::new(wasm_frame_t { info: info.clone() })))
        .collect();
    out.write(CVec::from_vec(items));
}

/// `wasm_frame_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_delete(_: Option<Box<wasm_frame_t>>) {}

/// `wasm_frame_copy`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_copy(frame: &wasm_frame_t) -> Box<wasm_frame_t> {
    Box::new(frame.clone())
}

/// `wasm_frame_instance`: always NULL (frames do not record their
/// instance).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_instance(_: &wasm_frame_t) -> *mut c_void {
    std::ptr::null_mut()
}

/// `wasm_frame_func_index`: the function's index in its module.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_func_index(frame: &wasm_frame_t) -> u32 {
    frame.info.func_index
}

/// `wasm_frame_func_offset`: the instruction's offset from the start of
/// its function's body.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_func_offset(frame: &wasm_frame_t) -> usize {
    frame.info.func_offset.map_or(0, |o| o as usize)
}

/// `wasm_frame_module_offset`: the instruction's offset in the module.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_frame_module_offset(frame: &wasm_frame_t) -> usize {
    frame.info.wasm_offset.map_or(0, |o| o as usize)
}

vector_functions!(
    wasm_frame_vec_t,
    Option<Box<wasm_frame_t>>,
    "wasm_frame_t*",
    wasm_frame_vec_new_empty,
    wasm_frame_vec_new_uninitialized,
    wasm_frame_vec_new,
    wasm_frame_vec_copy,
    wasm_frame_vec_delete
);
