//! Making structs and arrays: the store's allocation entry points, and the
//! builtins compiled code calls for `struct.new`, `array.new*` and
//! `array.init_*` (the rest of the GC instructions are inline code).

use cljit_compiler::abi::ARRAY_NEW_OUT_OF_BOUNDS;
use cljit_compiler::abi::gc::{
    ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, GcKind, array_bytes, storage_bytes,
};
use cljit_compiler::indices::{DataIndex, TypeIndex};
use cljit_compiler::types::StorageType;

use crate::libcalls::context;
use crate::store::StoreOpaque;
use crate::vm::val_raw::ValRaw;

/// Status words, as the other status builtins return them.
const OK: u32 = 0;
const TRAP: u32 = 1;

impl StoreOpaque {
    /// A new zeroed array of `len` elements of module type `ty` of
    /// instance `instance`, or `None` when the heap is full.
    pub(crate) fn new_array(
        &mut self,
        instance: usize,
        ty: u32,
        len: u32,
        may_collect: bool,
    ) -> Option<usize> {
        let (id, layout) = self.object_layout(instance, ty);
        let size = array_bytes(layout.size, len)?;
        let array = self.gc_alloc(size, id, GcKind::Array, may_collect)?;
        // SAFETY: a fresh array of `size` bytes, whose length field follows
        // its header.
        unsafe { *((array + ARRAY_LENGTH_OFFSET as usize) as *mut u32) = len };
        Some(array)
    }

    /// The engine id and layout of module type `ty` of instance
    /// `instance`.
    fn object_layout(
        &mut self,
        instance: usize,
        ty: u32,
    ) -> (u32, std::sync::Arc<super::TypeLayout>) {
        let module = &self.instances[instance].module;
        let id = module.type_ids()[ty as usize];
        let layout = self.gc.layout(id, || engine_type(module, ty));
        (id, layout)
    }

    /// The bytes of data segment `data` of instance `instance` (none once
    /// dropped).
    fn data_segment(&self, instance: usize, data: u32) -> &[u8] {
        let inst = &self.instances[instance];
        if inst.dropped_data[data as usize] {
            return &[];
        }
        let info = inst.module.info();
        info.segment_bytes(&info.data[DataIndex::from_u32(data)])
    }

    /// Element segment `elem` of instance `instance` (empty once dropped).
    fn elem_segment(&self, instance: usize, elem: u32) -> &[usize] {
        self.instances[instance].passive_elements[elem as usize]
            .as_deref()
            .unwrap_or(&[])
    }
}

/// Module type `ty` of `module` with its references as engine types.
fn engine_type(module: &crate::module::Module, ty: u32) -> cljit_compiler::types::CompositeType {
    let ids = module.type_ids();
    module.info().types[TypeIndex::from_u32(ty)]
        .map_type_indices(|kind, i| cljit_compiler::types::HeapType::Engine(kind, ids[i as usize]))
}

/// `start..start + len` if it lies within `0..size`.
fn range(start: u64, len: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len).filter(|&end| end <= size)?;
    Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

/// The address of element `index` of `array`, of `size` bytes each.
fn element(array: usize, size: u32, index: u32) -> usize {
    array + ARRAY_DATA_OFFSET as usize + size as usize * index as usize
}

// The two allocation builtins get the engine type id and the size from
// compiled code, which computed both from the module's types, and find the
// type's layout (for the collector) already registered by instantiation
// (`register_layouts`): no lookup on the way.

pub(crate) unsafe extern "C" fn struct_new(vmctx: *mut u8, id: u32, size: u32) -> *mut u8 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    store.gc_alloc(size, id, GcKind::Struct, true).unwrap_or(0) as *mut u8
}

pub(crate) unsafe extern "C" fn array_new(
    vmctx: *mut u8,
    id: u32,
    element_size: u32,
    len: u32,
) -> *mut u8 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let Some(size) = array_bytes(element_size, len) else {
        return std::ptr::null_mut();
    };
    let Some(array) = store.gc_alloc(size, id, GcKind::Array, true) else {
        return std::ptr::null_mut();
    };
    // SAFETY: a fresh array, whose length field follows its header.
    unsafe { *((array + ARRAY_LENGTH_OFFSET as usize) as *mut u32) = len };
    array as *mut u8
}

/// Registers the layout of each struct and array type of `module` with
/// `heap`, so that allocation needs no lookup.
pub(crate) fn register_layouts(heap: &mut super::GcHeap, module: &crate::module::Module) {
    for (ty, composite) in module.info().types.iter() {
        if composite.as_func().is_none() {
            let id = module.type_ids()[ty.as_u32() as usize];
            heap.layout(id, || engine_type(module, ty.as_u32()));
        }
    }
}

pub(crate) unsafe extern "C" fn array_new_data(
    vmctx: *mut u8,
    ty: u32,
    data: u32,
    src: u32,
    len: u32,
) -> *mut u8 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let (_, layout) = store.object_layout(instance, ty);
    let bytes = u64::from(layout.size) * u64::from(len);
    let segment_len = store.data_segment(instance, data).len() as u64;
    let Some(source) = range(u64::from(src), bytes, segment_len) else {
        return ARRAY_NEW_OUT_OF_BOUNDS as *mut u8;
    };
    let Some(array) = store.new_array(instance, ty, len, true) else {
        return std::ptr::null_mut();
    };
    let source = &store.data_segment(instance, data)[source];
    // SAFETY: the new array holds `len` elements of `layout.size` bytes,
    // `source.len()` bytes in all, and cannot overlap a module's data.
    unsafe {
        std::ptr::copy_nonoverlapping(
            source.as_ptr(),
            element(array, layout.size, 0) as *mut u8,
            source.len(),
        );
    }
    array as *mut u8
}

pub(crate) unsafe extern "C" fn array_new_elem(
    vmctx: *mut u8,
    ty: u32,
    elem: u32,
    src: u32,
    len: u32,
) -> *mut u8 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let segment_len = store.elem_segment(instance, elem).len() as u64;
    let Some(source) = range(u64::from(src), u64::from(len), segment_len) else {
        return ARRAY_NEW_OUT_OF_BOUNDS as *mut u8;
    };
    // The segment is a root of the collection this may run.
    let Some(array) = store.new_array(instance, ty, len, true) else {
        return std::ptr::null_mut();
    };
    let source = &store.elem_segment(instance, elem)[source];
    // SAFETY: the new array holds `len` pointer-sized references.
    unsafe {
        std::ptr::copy_nonoverlapping(
            source.as_ptr(),
            element(array, size_of::<usize>() as u32, 0) as *mut usize,
            source.len(),
        );
    }
    array as *mut u8
}

#[allow(
    clippy::too_many_arguments,
    reason = "the builtin's signature is the instruction's operands"
)]
pub(crate) unsafe extern "C" fn array_init_data(
    vmctx: *mut u8,
    ty: u32,
    array: *mut u8,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let (_, layout) = store.object_layout(instance, ty);
    let bytes = u64::from(layout.size) * u64::from(len);
    let segment = store.data_segment(instance, data);
    let Some(source) = range(u64::from(src), bytes, segment.len() as u64) else {
        return TRAP;
    };
    let source = &segment[source];
    // SAFETY: compiled code checked that elements `dst..dst + len` lie in
    // the (non-null) array, `source.len()` bytes from element `dst`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            source.as_ptr(),
            element(array as usize, layout.size, dst) as *mut u8,
            source.len(),
        );
    }
    OK
}

pub(crate) unsafe extern "C" fn array_init_elem(
    vmctx: *mut u8,
    array: *mut u8,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let segment = store.elem_segment(instance, elem);
    let Some(source) = range(u64::from(src), u64::from(len), segment.len() as u64) else {
        return TRAP;
    };
    let source = &segment[source];
    // SAFETY: compiled code checked that elements `dst..dst + len` of the
    // (non-null) array of references lie in it.
    unsafe {
        std::ptr::copy_nonoverlapping(
            source.as_ptr(),
            element(array as usize, size_of::<usize>() as u32, dst) as *mut usize,
            source.len(),
        );
    }
    OK
}

pub(crate) unsafe extern "C" fn gc_memmove(_vmctx: *mut u8, dst: *mut u8, src: *mut u8, len: u64) {
    // SAFETY: compiled code checked both ranges lie in their (non-null)
    // arrays; they may overlap (one array copied onto itself).
    unsafe { std::ptr::copy(src, dst, len as usize) };
}

/// A new zeroed struct (`len`: `None`) or array of `len` elements of
/// module type `ty` of `module`, on `heap` without a collection, with its
/// type's layout; `None` when the heap is full.
pub(crate) fn alloc_object(
    heap: &mut super::GcHeap,
    module: &crate::module::Module,
    ty: u32,
    len: Option<u32>,
) -> Option<(usize, std::sync::Arc<super::TypeLayout>)> {
    let id = module.type_ids()[ty as usize];
    let layout = heap.layout(id, || engine_type(module, ty));
    let object = match len {
        None => heap.alloc(layout.size, id, GcKind::Struct)?,
        Some(len) => {
            let array = heap.alloc(array_bytes(layout.size, len)?, id, GcKind::Array)?;
            // SAFETY: a fresh array, whose length field follows its header.
            unsafe { *((array + ARRAY_LENGTH_OFFSET as usize) as *mut u32) = len };
            array
        }
    };
    Some((object, layout))
}

/// Writes `value` to a field or element of `storage` at `at`.
///
/// # Safety
///
/// `at` must be such a field of a live object.
pub(crate) unsafe fn write_storage(at: usize, storage: StorageType, value: ValRaw) {
    let bytes = value.to_bytes();
    let size = storage_bytes(storage, size_of::<usize>() as u8) as usize;
    // SAFETY: per the contract; a value's bytes start with its low bytes
    // (little-endian slots), as a packed field keeps them.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, size) };
}

/// Reads a field or element of `storage` at `at`.
///
/// # Safety
///
/// `at` must be such a field of a live object.
pub(crate) unsafe fn read_storage(at: usize, storage: StorageType) -> ValRaw {
    let mut bytes = [0u8; 16];
    let size = storage_bytes(storage, size_of::<usize>() as u8) as usize;
    // SAFETY: per the contract.
    unsafe { std::ptr::copy_nonoverlapping(at as *const u8, bytes.as_mut_ptr(), size) };
    ValRaw::from_bytes(bytes)
}

/// Writes `value` to element `index` of `array`.
///
/// # Safety
///
/// `array` must be a live array of `layout` with more than `index`
/// elements.
pub(crate) unsafe fn write_element(
    array: usize,
    layout: &super::TypeLayout,
    index: u32,
    value: ValRaw,
) {
    // SAFETY: per the contract.
    unsafe { write_storage(element(array, layout.size, index), layout.element(), value) };
}
