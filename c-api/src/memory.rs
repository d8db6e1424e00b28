//! Linear memories.

use crate::env::wasm_store_t;
use crate::obj::Obj;
use crate::r#ref::{wasm_memory_t, wasm_ref_t};
use crate::rt::{ExternType, Memory};
use crate::types::{wasm_externtype_t, wasm_memorytype_t};

fn memory_of(r: &wasm_ref_t) -> Option<Memory> {
    match r.obj {
        Obj::Memory(m) => Some(m),
        _ => None,
    }
}

/// `wasm_memory_new`: a memory of type `ty`. NULL (and `cljit_last_error`
/// says why) if it cannot be made (or the store's limits refuse it).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_new(
    store: &mut wasm_store_t,
    ty: &wasm_memorytype_t,
) -> Option<Box<wasm_memory_t>> {
    crate::guard(None, || {
        let Some(ty) = ty.memory_type() else {
            crate::set_last_error("not a memory type");
            return None;
        };
        let memory = crate::ok_or_record(Memory::new(&mut store.store, ty))?;
        Some(wasm_ref_t::boxed(store, Obj::Memory(memory)))
    })
}

/// `wasm_memory_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_type(m: &wasm_memory_t) -> Option<Box<wasm_memorytype_t>> {
    let memory = memory_of(m)?;
    crate::guard(None, || {
        let ty = memory.ty(&m.store_mut().store);
        Some(Box::new(wasm_externtype_t::new(&ExternType::Memory(ty))))
    })
}

/// `wasm_memory_data`: the first byte of the memory. The pointer stays
/// valid until the memory grows (cljit reserves each memory's address
/// range up front, so in practice it does not move, but the standard does
/// not promise that).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_data(m: &mut wasm_memory_t) -> *mut u8 {
    let Some(memory) = memory_of(m) else {
        return std::ptr::null_mut();
    };
    crate::guard(std::ptr::null_mut(), || {
        memory.data_mut(&mut m.store_mut().store).as_mut_ptr()
    })
}

/// `wasm_memory_data_size`: the size in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_data_size(m: &wasm_memory_t) -> usize {
    memory_of(m).map_or(0, |memory| {
        crate::guard(0, || memory.data_size(&m.store_mut().store))
    })
}

/// `wasm_memory_size`: the size in pages.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_size(m: &wasm_memory_t) -> u32 {
    memory_of(m).map_or(0, |memory| {
        crate::guard(0, || {
            u32::try_from(memory.size(&m.store_mut().store)).unwrap_or(u32::MAX)
        })
    })
}

/// `wasm_memory_grow`: grows by `delta` pages; false (and
/// `cljit_last_error` says why) if refused.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memory_grow(m: &mut wasm_memory_t, delta: u32) -> bool {
    let Some(memory) = memory_of(m) else {
        crate::set_last_error("not a memory");
        return false;
    };
    crate::guard(false, || {
        crate::ok_or_record(memory.grow(&mut m.store_mut().store, u64::from(delta))).is_some()
    })
}
