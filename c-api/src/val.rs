//! `wasm_val_t`: values as C holds them, and their conversion to and from
//! the runtime's [`Val`]. A reference value owns its `wasm_ref_t` (NULL is
//! null): a function reference holds the function, an `externref` a
//! foreign object.

use std::mem::MaybeUninit;

use crate::env::wasm_store_t;
use crate::obj::Obj;
use crate::r#ref::wasm_ref_t;
use crate::rt::{Val, ValType};
use crate::types::valkind;
use crate::vec::{Element, vector_functions};

/// The payload of a `wasm_val_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasm_val_union {
    /// `i32`.
    pub i32: i32,
    /// `i64`.
    pub i64: i64,
    /// `f32`.
    pub f32: f32,
    /// `f64`.
    pub f64: f64,
    /// A reference (owned; NULL is null).
    pub r#ref: *mut wasm_ref_t,
}

/// `wasm_val_t`: a kind and a payload.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct wasm_val_t {
    /// A `wasm_valkind_t`.
    pub kind: u8,
    /// The value.
    pub of: wasm_val_union,
}

impl std::fmt::Debug for wasm_val_t {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("wasm_val_t")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl wasm_val_t {
    /// The reference a reference value holds, if any.
    fn reference(&self) -> Option<&wasm_ref_t> {
        if !matches!(self.kind, valkind::EXTERNREF | valkind::FUNCREF) {
            return None;
        }
        // SAFETY: a reference value's payload is a reference pointer (NULL
        // or a live `wasm_ref_t`), per the API.
        unsafe { self.of.r#ref.as_ref() }
    }

    /// A value of kind I32 0 (what blank vectors hold).
    fn zero() -> wasm_val_t {
        wasm_val_t {
            kind: valkind::I32,
            of: wasm_val_union { i64: 0 },
        }
    }

    /// The runtime value, or why not.
    pub(crate) fn to_val(self) -> Result<Val, String> {
        Ok(match self.kind {
            valkind::I32 => {
                // SAFETY: the kind says the `i32` field is the one set.
                Val::I32(unsafe { self.of.i32 })
            }
            valkind::I64 => {
                // SAFETY: the kind says the `i64` field is the one set.
                Val::I64(unsafe { self.of.i64 })
            }
            valkind::F32 => {
                // SAFETY: the kind says the `f32` field is the one set.
                Val::F32(unsafe { self.of.f32 }.to_bits())
            }
            valkind::F64 => {
                // SAFETY: the kind says the `f64` field is the one set.
                Val::F64(unsafe { self.of.f64 }.to_bits())
            }
            valkind::FUNCREF => match self.reference().map(|r| &r.obj) {
                None => Val::FuncRef(None),
                Some(Obj::Func(f)) => Val::FuncRef(Some(*f)),
                Some(_) => return Err("a funcref value holds something else".into()),
            },
            valkind::EXTERNREF => match self.reference().map(|r| &r.obj) {
                None => Val::ExternRef(None),
                Some(Obj::Foreign(e)) => Val::ExternRef(Some(*e)),
                Some(_) => {
                    return Err("an externref value must hold a foreign object (or NULL)".into());
                }
            },
            other => return Err(format!("unknown value kind {other}")),
        })
    }

    /// The C value of a runtime value (references are new `wasm_ref_t`s of
    /// `store`).
    pub(crate) fn from_val(v: &Val, store: *mut wasm_store_t) -> Result<wasm_val_t, String> {
        let (kind, of) = match *v {
            Val::ExnRef(_) => return Err("exnref values have no C value kind".into()),
            Val::AnyRef(_) => return Err("anyref values have no C value kind".into()),
            Val::I32(i) => (valkind::I32, wasm_val_union { i32: i }),
            Val::I64(i) => (valkind::I64, wasm_val_union { i64: i }),
            Val::F32(bits) => (
                valkind::F32,
                wasm_val_union {
                    f32: f32::from_bits(bits),
                },
            ),
            Val::F64(bits) => (
                valkind::F64,
                wasm_val_union {
                    f64: f64::from_bits(bits),
                },
            ),
            Val::FuncRef(f) => (
                valkind::FUNCREF,
                wasm_val_union {
                    r#ref: f.map_or(std::ptr::null_mut(), |f| {
                        Box::into_raw(wasm_ref_t::boxed(store, Obj::Func(f)))
                    }),
                },
            ),
            Val::ExternRef(e) => (
                valkind::EXTERNREF,
                wasm_val_union {
                    r#ref: e.map_or(std::ptr::null_mut(), |e| {
                        Box::into_raw(wasm_ref_t::boxed(store, Obj::Foreign(e)))
                    }),
                },
            ),
            Val::V128(_) => return Err("v128 values cannot cross the C API".into()),
        };
        Ok(wasm_val_t { kind, of })
    }

    /// The zero (or null) value of a type, as C holds it.
    pub(crate) fn default_for(ty: ValType) -> wasm_val_t {
        let kind = match ty {
            ValType::Ref(r) if r.is_func() => valkind::FUNCREF,
            ValType::Ref(r) if r.is_extern() => valkind::EXTERNREF,
            other => crate::types::kind_of(other).unwrap_or(valkind::I32),
        };
        wasm_val_t {
            kind,
            of: wasm_val_union { i64: 0 },
        }
    }
}

impl Element for wasm_val_t {
    fn blank() -> wasm_val_t {
        wasm_val_t::zero()
    }

    fn duplicate(&self) -> wasm_val_t {
        let mut out = *self;
        if let Some(r) = self.reference() {
            out.of.r#ref = Box::into_raw(Box::new(r.clone()));
        }
        out
    }

    fn release(self) {
        if matches!(self.kind, valkind::EXTERNREF | valkind::FUNCREF) {
            // SAFETY: a reference value owns its reference, which was made
            // by this library as a Box (or is NULL).
            let r = unsafe { self.of.r#ref };
            if !r.is_null() {
                // SAFETY: as just said; ownership ends here.
                drop(unsafe { Box::from_raw(r) });
            }
        }
    }
}

/// `wasm_val_delete`: releases the reference a value owns.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_val_delete(v: &mut wasm_val_t) {
    let value = std::mem::replace(v, wasm_val_t::zero());
    value.release();
}

/// `wasm_val_copy`: a copy owning its own reference.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_val_copy(out: &mut MaybeUninit<wasm_val_t>, v: &wasm_val_t) {
    out.write(v.duplicate());
}

vector_functions!(
    wasm_val_vec_t,
    wasm_val_t,
    "wasm_val_t",
    wasm_val_vec_new_empty,
    wasm_val_vec_new_uninitialized,
    wasm_val_vec_new,
    wasm_val_vec_copy,
    wasm_val_vec_delete
);
