//! Globals.

use std::mem::MaybeUninit;

use crate::env::wasm_store_t;
use crate::obj::Obj;
use crate::r#ref::{wasm_global_t, wasm_ref_t};
use crate::rt::{ExternType, Global};
use crate::types::{wasm_externtype_t, wasm_globaltype_t};
use crate::val::wasm_val_t;

fn global_of(r: &wasm_ref_t) -> Option<Global> {
    match r.obj {
        Obj::Global(g) => Some(g),
        _ => None,
    }
}

/// `wasm_global_new`: a global of type `ty` holding `value`. NULL (and
/// `cljit_last_error` says why) if the value does not fit the type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_global_new(
    store: &mut wasm_store_t,
    ty: &wasm_globaltype_t,
    value: &wasm_val_t,
) -> Option<Box<wasm_global_t>> {
    crate::guard(None, || {
        let Some(ty) = ty.global_type() else {
            crate::set_last_error("not a global type");
            return None;
        };
        let value = crate::ok_or_record(value.to_val())?;
        let global = crate::ok_or_record(Global::new(&mut store.store, ty, value))?;
        Some(wasm_ref_t::boxed(store, Obj::Global(global)))
    })
}

/// `wasm_global_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_global_type(g: &wasm_global_t) -> Option<Box<wasm_globaltype_t>> {
    let global = global_of(g)?;
    crate::guard(None, || {
        let ty = global.ty(&g.store_mut().store);
        Some(Box::new(wasm_externtype_t::new(&ExternType::Global(ty))))
    })
}

/// `wasm_global_get`: the value (a reference value owns a new reference).
/// A `v128` global, which C cannot hold, reads as i32 0 and
/// `cljit_last_error` says so.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_global_get(g: &wasm_global_t, out: &mut MaybeUninit<wasm_val_t>) {
    let value = global_of(g).and_then(|global| {
        crate::guard(None, || {
            let v = global.get(&g.store_mut().store);
            crate::ok_or_record(wasm_val_t::from_val(&v, g.store))
        })
    });
    out.write(value.unwrap_or_else(|| wasm_val_t::default_for(crate::rt::ValType::I32)));
}

/// `wasm_global_set`: sets a mutable global; an immutable global or a
/// value of another type is refused (and `cljit_last_error` says why).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_global_set(g: &mut wasm_global_t, value: &wasm_val_t) {
    let Some(global) = global_of(g) else {
        crate::set_last_error("not a global");
        return;
    };
    crate::guard((), || {
        if let Some(v) = crate::ok_or_record(value.to_val()) {
            crate::ok_or_record(global.set(&mut g.store_mut().store, v));
        }
    });
}
