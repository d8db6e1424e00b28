//! Instances.

use std::mem::MaybeUninit;

use crate::env::wasm_store_t;
use crate::r#extern::wasm_extern_vec_t;
use crate::obj::Obj;
use crate::r#ref::{wasm_instance_t, wasm_ref_t};
use crate::rt::{Error, Extern, Instance};
use crate::trap::trap_of_error;
use crate::vec::CVec;

/// The runtime instance behind a reference.
pub(crate) fn instance_of(r: &wasm_ref_t) -> Option<Instance> {
    match r.obj {
        Obj::Instance(i) => Some(i),
        _ => None,
    }
}

/// `wasm_instance_new`: instantiates `module` with `imports` (one per
/// import, in order) and runs its start function. On failure returns NULL,
/// records why for `cljit_last_error`, and, if `trap` is not NULL, stores
/// there a trap saying why (a trap of the start function keeps its kind
/// and frames; a link error is a trap with its message). On success a
/// non-NULL `trap` is set to NULL.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_instance_new(
    store: &mut wasm_store_t,
    module: &wasm_ref_t,
    imports: Option<&wasm_extern_vec_t>,
    trap: Option<&mut MaybeUninit<Option<Box<wasm_ref_t>>>>,
) -> Option<Box<wasm_instance_t>> {
    let store_ptr = std::ptr::from_mut(store);
    let outcome = crate::guard_or(
        || Err(Error::msg(crate::take_last_error().unwrap_or_default())),
        || instantiate(store, module, imports),
    );
    match outcome {
        Ok(instance) => {
            if let Some(out) = trap {
                out.write(None);
            }
            Some(wasm_ref_t::boxed(store_ptr, Obj::Instance(instance)))
        }
        Err(e) => {
            let t = trap_of_error(store_ptr, &e);
            if let Some(out) = trap {
                out.write(Some(t));
            }
            None
        }
    }
}

fn instantiate(
    store: &mut wasm_store_t,
    module: &wasm_ref_t,
    imports: Option<&wasm_extern_vec_t>,
) -> crate::rt::Result<Instance> {
    let data = crate::module::module_of(module).ok_or_else(|| Error::msg("not a module"))?;
    let imports = imports.map_or(&[][..], CVec::as_slice);
    let externs = imports
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let e = e
                .as_ref()
                .ok_or_else(|| Error::msg(format!("import {i} is NULL")))?;
            if !std::ptr::eq(e.store, store) {
                return Err(Error::msg(format!("import {i} belongs to another store")));
            }
            e.as_extern()
                .ok_or_else(|| Error::msg(format!("import {i} is not an extern")))
        })
        .collect::<crate::rt::Result<Vec<Extern>>>()?;
    Instance::new(&mut store.store, &data.module, &externs)
}

/// `wasm_instance_exports`: every export, in the module's order.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_instance_exports(
    instance: &wasm_instance_t,
    out: &mut MaybeUninit<wasm_extern_vec_t>,
) {
    let exports = instance_of(instance)
        .and_then(|i| {
            crate::guard(None, || {
                let store = &instance.store_mut().store;
                Some(
                    i.exports(store)
                        .into_iter()
                        .map(|(_, ext)| wasm_ref_t::from_extern(instance.store, ext))
                        .collect(),
                )
            })
        })
        .unwrap_or_default();
    crate::vec::write(out, exports);
}
