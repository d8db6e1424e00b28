//! Modules: compiling, validating, reflecting on imports and exports,
//! serializing, and sharing across stores and threads.

use std::mem::MaybeUninit;
use std::sync::Arc;

use crate::env::wasm_store_t;
use crate::obj::{ModuleData, Obj, Source};
use crate::r#ref::{wasm_module_t, wasm_ref_t};
use crate::rt::{Engine, Module};
use crate::types::{
    wasm_exporttype_t, wasm_exporttype_vec_t, wasm_importtype_t, wasm_importtype_vec_t,
    write_descriptors,
};
use crate::vec::wasm_byte_vec_t;

/// The module data behind a reference (which must be a module).
pub(crate) fn module_of(r: &wasm_ref_t) -> Option<&Arc<ModuleData>> {
    match &r.obj {
        Obj::Module(m) => Some(m),
        _ => None,
    }
}

/// Compiles `bytes` for `store`'s engine, through the store's cache if it
/// has one.
fn compile(store: &mut wasm_store_t, bytes: &[u8]) -> crate::rt::Result<Module> {
    let engine = store.store.engine().clone();
    match &store.store.data().cache {
        Some(cache) => cache.load(&engine, bytes).map(|(m, _)| m),
        None => Module::new(&engine, bytes),
    }
}

/// `wasm_module_new`: compiles a binary (or text) module. NULL (and
/// `cljit_last_error` says why) if it is invalid.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_new(
    store: &mut wasm_store_t,
    binary: &wasm_byte_vec_t,
) -> Option<Box<wasm_module_t>> {
    crate::guard(None, || {
        let bytes = binary.as_slice();
        let module = crate::ok_or_record(compile(store, bytes))?;
        let data = ModuleData::new(module, Source::Wasm(bytes.to_vec()));
        Some(wasm_ref_t::boxed(store, Obj::Module(data)))
    })
}

/// `wasm_module_validate`: whether the module is valid for the store's
/// engine (if not, `cljit_last_error` says why).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_validate(store: &mut wasm_store_t, binary: &wasm_byte_vec_t) -> bool {
    crate::guard(false, || {
        crate::ok_or_record(Module::validate(store.store.engine(), binary.as_slice())).is_some()
    })
}

/// `wasm_module_imports`: in order.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_imports(
    module: &wasm_module_t,
    out: &mut MaybeUninit<wasm_importtype_vec_t>,
) {
    let items: Vec<wasm_importtype_t> = module_of(module)
        .map(|m| {
            m.module
                .imports()
                .map(|(module, name, ty)| wasm_importtype_t::new(module, name, &ty))
                .collect()
        })
        .unwrap_or_default();
    write_descriptors(out, items);
}

/// `wasm_module_exports`: in order.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_exports(
    module: &wasm_module_t,
    out: &mut MaybeUninit<wasm_exporttype_vec_t>,
) {
    let items: Vec<wasm_exporttype_t> = module_of(module)
        .map(|m| {
            m.module
                .exports()
                .map(|(name, ty)| wasm_exporttype_t::new(name, &ty))
                .collect()
        })
        .unwrap_or_default();
    write_descriptors(out, items);
}

/// The module as a cljit artifact.
pub(crate) fn serialize(module: &wasm_module_t) -> crate::rt::Result<Vec<u8>> {
    let data = module_of(module).ok_or_else(|| crate::rt::Error::msg("not a module"))?;
    match &data.source {
        Source::Artifact(bytes) => Ok(bytes.clone()),
        Source::Wasm(bytes) => data.module.engine().precompile_module(bytes),
    }
}

/// Loads an artifact into `store`'s engine.
///
/// # Safety
///
/// The artifact's machine code will run: it must come from a trusted
/// cljit, as a native executable would.
pub(crate) unsafe fn deserialize(
    store: &mut wasm_store_t,
    bytes: Vec<u8>,
) -> crate::rt::Result<Box<wasm_module_t>> {
    let engine = store.store.engine().clone();
    // SAFETY: the caller vouches for the artifact.
    let module = unsafe { Module::deserialize(&engine, &bytes) }?;
    let data = ModuleData::new(module, Source::Artifact(bytes));
    Ok(wasm_ref_t::boxed(store, Obj::Module(data)))
}

/// `wasm_module_serialize`: the module as a cljit artifact (empty, and
/// `cljit_last_error` says why, if it cannot be made).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_serialize(
    module: &wasm_module_t,
    out: &mut MaybeUninit<wasm_byte_vec_t>,
) {
    let bytes = crate::guard(None, || crate::ok_or_record(serialize(module))).unwrap_or_default();
    crate::vec::write(out, bytes);
}

/// `wasm_module_deserialize`: a module from a cljit artifact of this
/// build, target and settings. An artifact is machine code: load only
/// artifacts you made. NULL (and `cljit_last_error` says why) if refused.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_deserialize(
    store: &mut wasm_store_t,
    artifact: &wasm_byte_vec_t,
) -> Option<Box<wasm_module_t>> {
    crate::guard(None, || {
        // SAFETY: the C API's contract for deserialize: the caller trusts
        // the artifact (the header and checksum catch mistakes and damage).
        crate::ok_or_record(unsafe { deserialize(store, artifact.as_slice().to_vec()) })
    })
}

/// `wasm_shared_module_t`: a module that any store of the same engine, on
/// any thread, can obtain.
#[derive(Debug)]
pub struct wasm_shared_module_t {
    data: Arc<ModuleData>,
    engine: Engine,
}

/// `wasm_module_share`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_share(module: &wasm_module_t) -> Option<Box<wasm_shared_module_t>> {
    let data = module_of(module)?;
    Some(Box::new(wasm_shared_module_t {
        data: Arc::clone(data),
        engine: data.module.engine().clone(),
    }))
}

/// `wasm_module_obtain`: the shared module in `store`; NULL (and
/// `cljit_last_error` says why) if the store's engine is another.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_module_obtain(
    store: &mut wasm_store_t,
    shared: &wasm_shared_module_t,
) -> Option<Box<wasm_module_t>> {
    if !Engine::same(&shared.engine, store.store.engine()) {
        crate::set_last_error("the shared module belongs to another engine");
        return None;
    }
    Some(wasm_ref_t::boxed(
        store,
        Obj::Module(Arc::clone(&shared.data)),
    ))
}

/// `wasm_shared_module_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_shared_module_delete(_: Option<Box<wasm_shared_module_t>>) {}
