//! `#[repr(C)]` mirrors of the structures compiled code reads, and the
//! VMContext allocation itself.
//!
//! The layout is defined once, by `cljit_compiler::abi::VmOffsets`; the
//! structures here must agree with it, and the tests at the bottom check every
//! field with `offset_of!`. The VMContext itself has a variable size, so it
//! is a raw, zeroed, 16-byte-aligned allocation written through offsets.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

use cljit_compiler::abi::VmOffsets;
use cljit_compiler::abi::vmoffsets::VMCONTEXT_MAGIC;

/// A function as compiled code calls it (`funcref` values point at these).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VmFuncRef {
    /// Entry in the native wasm calling convention.
    pub wasm_call: *const u8,
    /// Entry in the array calling convention (see `VmArrayCallFn`).
    pub array_call: *const u8,
    /// The callee's context: an instance's vmctx or a host function's.
    pub vmctx: *mut u8,
    /// Engine-wide signature id.
    pub type_id: u32,
}

/// An imported function as the importer calls it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VmFunctionImport {
    /// Native-convention entry.
    pub wasm_call: *const u8,
    /// The callee's context.
    pub vmctx: *mut u8,
}

/// A linear memory's current extent, shared by every instance using it.
#[repr(C)]
#[derive(Debug)]
pub struct VmMemoryDefinition {
    /// Start of the memory.
    pub base: *mut u8,
    /// Current length in bytes: atomic, because a shared memory grows
    /// while other threads' code reads it (it only ever increases).
    pub current_length: std::sync::atomic::AtomicUsize,
}

/// A table's current extent, shared by every instance using it.
#[repr(C)]
#[derive(Debug)]
pub struct VmTableDefinition {
    /// Start of the element array (one pointer per element).
    pub base: *mut usize,
    /// Current number of elements.
    pub current_elements: usize,
}

/// Storage of one global: 16 bytes, value at offset 0, native endian.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VmGlobalDefinition {
    /// The bytes of the value.
    pub storage: [u8; 16],
}

/// An exception tag: its address is its identity, which `throw` records
/// and catch clauses compare.
#[repr(C)]
#[derive(Debug)]
pub struct VmTagDefinition {
    /// The engine's signature id of the tag's type.
    pub type_id: u32,
    /// Number of payload values (the type's parameters).
    pub params: u32,
}

/// An exception, as an `exnref` points at it (layout:
/// `VmOffsets::exn_object_*`).
#[repr(C)]
#[derive(Debug)]
pub struct VmExnObject {
    /// The tag it was thrown with.
    pub tag: *const VmTagDefinition,
    /// Its payload: one 16-byte slot per parameter of the tag's type.
    pub values: *mut crate::vm::val_raw::ValRaw,
    /// Flags, zero while no `exnref` to it exists: a clause that takes
    /// just the payload frees it then (`exn_release`). Compiled code sets
    /// bit 0 when wasm may hold an `exnref` to it (a `catch_ref`,
    /// `catch_all_ref` or legacy clause): the collector frees it when
    /// nothing reaches it. The host sets [`EXN_PINNED`] when it takes a
    /// handle: it lives as long as the store.
    pub escaped: usize,
    /// Its index in the store's list of exceptions.
    pub index: usize,
}

/// The `VmExnObject::escaped` flag of an exception the host has a handle
/// to.
pub const EXN_PINNED: usize = 2;

/// Limits shared by all instances of a store, read by compiled code.
#[repr(C)]
#[derive(Debug)]
pub struct VmRuntimeLimits {
    /// Fuel: negative while fuel is left (its magnitude), zero or more once
    /// it has run out. Compiled code with fuel adds operator costs to it.
    pub fuel_consumed: i64,
    /// The lowest stack address wasm may use; checked in every prologue.
    pub stack_limit: usize,
    /// The store's interrupt page: readable until the store's epoch
    /// deadline passes, then inaccessible, so the load compiled code makes
    /// from it faults (see `epoch.rs`). Null when epochs are off.
    pub interrupt_page: *const u8,
    /// The store's GC heap's free-list heads, one per size class, from
    /// which compiled code pops small objects (see `gc/heap.rs`).
    pub gc_free: *mut usize,
    /// The frame pointer of the last exit from wasm that may collect (see
    /// `gc/collect.rs`): a wasm-to-host trampoline's or a collecting
    /// builtin's adapter's frame, whose record leads to the wasm frames.
    pub last_exit_fp: usize,
}

impl Default for VmRuntimeLimits {
    fn default() -> VmRuntimeLimits {
        VmRuntimeLimits {
            fuel_consumed: 0,
            stack_limit: 0,
            interrupt_page: std::ptr::null(),
            gc_free: std::ptr::null_mut(),
            last_exit_fp: 0,
        }
    }
}

/// The header of a host function's context: compiled code (the
/// wasm-to-array trampoline) reads `func_ref.array_call` through it.
#[repr(C)]
#[derive(Debug)]
pub struct VmHostFuncHeader {
    /// `VM_HOST_FUNC_MAGIC`.
    pub magic: u32,
    /// The host function's funcref; its `vmctx` points back at this header.
    pub func_ref: VmFuncRef,
}

/// An owned, zeroed VMContext allocation of the size a layout asks for.
#[derive(Debug)]
pub struct VmContextAlloc {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the allocation is plain memory owned by this value; access is
// synchronised by the owning store, which is not `Sync`.
unsafe impl Send for VmContextAlloc {}

impl VmContextAlloc {
    /// Allocates and zeroes a VMContext for `offsets`, writing its magic.
    ///
    /// # Panics
    ///
    /// Panics if the allocation fails (as `Box` does).
    pub fn new(offsets: &VmOffsets) -> VmContextAlloc {
        let size = usize::try_from(offsets.size())
            .expect("u32 fits in usize")
            .max(16);
        let layout = Layout::from_size_align(size, 16).expect("valid layout");
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        let vmctx = VmContextAlloc { ptr, layout };
        // SAFETY: offset 0 holds the u32 magic, inside the allocation.
        unsafe { vmctx.write(offsets.vmctx_magic(), VMCONTEXT_MAGIC) };
        vmctx
    }

    /// The vmctx pointer handed to compiled code.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Writes a field.
    ///
    /// # Safety
    ///
    /// `offset` must come from the `VmOffsets` this allocation was made for
    /// and name a field of type `T`.
    pub unsafe fn write<T>(&self, offset: u32, value: T) {
        let offset = usize::try_from(offset).expect("u32 fits in usize");
        debug_assert!(offset + size_of::<T>() <= self.layout.size());
        // SAFETY: in bounds per the caller's contract; fields are naturally
        // aligned by the layout.
        unsafe { self.ptr.as_ptr().add(offset).cast::<T>().write(value) }
    }

    /// A pointer to a field.
    ///
    /// # Safety
    ///
    /// As for [`VmContextAlloc::write`].
    pub unsafe fn field<T>(&self, offset: u32) -> *mut T {
        let offset = usize::try_from(offset).expect("u32 fits in usize");
        debug_assert!(offset + size_of::<T>() <= self.layout.size());
        // SAFETY: in bounds per the caller's contract.
        unsafe { self.ptr.as_ptr().add(offset).cast::<T>() }
    }
}

impl Drop for VmContextAlloc {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Reads a pointer-sized field of a vmctx.
///
/// # Safety
///
/// `vmctx` must be a live VMContext and `offset` a pointer field of it.
pub unsafe fn vmctx_read_ptr<T>(vmctx: *const u8, offset: u32) -> *mut T {
    let offset = usize::try_from(offset).expect("u32 fits in usize");
    // SAFETY: per the caller's contract.
    unsafe { vmctx.add(offset).cast::<*mut T>().read() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cljit_compiler::abi::VmCounts;
    use std::mem::offset_of;

    fn offsets() -> VmOffsets {
        VmOffsets::new(
            u8::try_from(size_of::<usize>()).expect("small"),
            VmCounts {
                imported_funcs: 1,
                funcs: 2,
                tables: 1,
                memories: 1,
                imported_globals: 1,
                defined_globals: 1,
                tags: 1,
            },
        )
    }

    #[test]
    fn func_ref_layout_agrees() {
        let o = offsets();
        assert_eq!(
            offset_of!(VmFuncRef, wasm_call) as u32,
            o.func_ref_wasm_call()
        );
        assert_eq!(
            offset_of!(VmFuncRef, array_call) as u32,
            o.func_ref_array_call()
        );
        assert_eq!(offset_of!(VmFuncRef, vmctx) as u32, o.func_ref_vmctx());
        assert_eq!(offset_of!(VmFuncRef, type_id) as u32, o.func_ref_type_id());
        assert_eq!(size_of::<VmFuncRef>() as u32, o.size_of_func_ref());
    }

    #[test]
    fn exn_object_layout_agrees() {
        let o = offsets();
        assert_eq!(offset_of!(VmExnObject, tag) as u32, o.exn_object_tag());
        assert_eq!(
            offset_of!(VmExnObject, values) as u32,
            o.exn_object_values()
        );
        assert_eq!(
            offset_of!(VmExnObject, escaped) as u32,
            o.exn_object_escaped()
        );
    }

    #[test]
    fn function_import_layout_agrees() {
        let o = offsets();
        assert_eq!(
            offset_of!(VmFunctionImport, wasm_call) as u32,
            o.function_import_wasm_call()
        );
        assert_eq!(
            offset_of!(VmFunctionImport, vmctx) as u32,
            o.function_import_vmctx()
        );
        assert_eq!(
            size_of::<VmFunctionImport>() as u32,
            o.size_of_function_import()
        );
    }

    #[test]
    fn memory_and_table_definition_layouts_agree() {
        let o = offsets();
        assert_eq!(
            offset_of!(VmMemoryDefinition, base) as u32,
            o.memory_definition_base()
        );
        assert_eq!(
            offset_of!(VmMemoryDefinition, current_length) as u32,
            o.memory_definition_current_length()
        );
        assert_eq!(
            size_of::<VmMemoryDefinition>() as u32,
            o.size_of_memory_definition()
        );
        assert_eq!(
            offset_of!(VmTableDefinition, base) as u32,
            o.table_definition_base()
        );
        assert_eq!(
            offset_of!(VmTableDefinition, current_elements) as u32,
            o.table_definition_current_elements()
        );
        assert_eq!(
            size_of::<VmTableDefinition>() as u32,
            o.size_of_table_definition()
        );
        assert_eq!(size_of::<usize>() as u32, o.size_of_table_element());
    }

    #[test]
    fn global_limits_and_host_header_layouts_agree() {
        let o = offsets();
        assert_eq!(
            size_of::<VmGlobalDefinition>() as u32,
            cljit_compiler::abi::vmoffsets::GLOBAL_DEFINITION_BYTES
        );
        assert_eq!(align_of::<VmGlobalDefinition>(), 16);
        assert_eq!(
            offset_of!(VmRuntimeLimits, fuel_consumed) as u32,
            o.runtime_limits_fuel_consumed()
        );
        assert_eq!(
            offset_of!(VmRuntimeLimits, stack_limit) as u32,
            o.runtime_limits_stack_limit()
        );
        assert_eq!(
            offset_of!(VmRuntimeLimits, interrupt_page) as u32,
            o.runtime_limits_interrupt_page()
        );
        assert_eq!(
            offset_of!(VmRuntimeLimits, gc_free) as u32,
            o.runtime_limits_gc_free()
        );
        assert_eq!(
            offset_of!(VmRuntimeLimits, last_exit_fp) as u32,
            o.runtime_limits_last_exit_fp()
        );
        // The collecting builtins' adapters hard-code both in assembly.
        assert_eq!(
            crate::arch::VMCTX_RUNTIME_LIMITS as u32,
            o.vmctx_runtime_limits()
        );
        assert_eq!(
            crate::arch::LIMITS_LAST_EXIT_FP as u32,
            o.runtime_limits_last_exit_fp()
        );
        assert_eq!(
            size_of::<VmRuntimeLimits>() as u32,
            o.size_of_runtime_limits()
        );
        assert_eq!(
            offset_of!(VmHostFuncHeader, magic) as u32,
            o.host_func_magic()
        );
        assert_eq!(
            offset_of!(VmHostFuncHeader, func_ref) as u32,
            o.host_func_func_ref()
        );
    }

    #[test]
    fn vmctx_allocation_is_sized_aligned_and_marked() {
        let o = offsets();
        let vmctx = VmContextAlloc::new(&o);
        assert_eq!(vmctx.as_ptr() as usize % 16, 0);
        // SAFETY: reading the magic field of a fresh allocation.
        let magic = unsafe { *vmctx.field::<u32>(o.vmctx_magic()) };
        assert_eq!(magic, VMCONTEXT_MAGIC);
        // SAFETY: the last func ref lies within the allocation.
        let last = unsafe { *vmctx.field::<VmFuncRef>(o.vmctx_func_ref(1)) };
        assert!(last.wasm_call.is_null());
    }
}
