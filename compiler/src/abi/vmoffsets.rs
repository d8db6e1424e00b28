//! The layout of the VMContext and of every structure compiled code reads.
//!
//! This is the single place where offsets are computed. The compiler uses it
//! to emit loads; the runtime builds its `#[repr(C)]` mirrors
//! (`runtime/src/vm/vmcontext.rs`) and asserts agreement in tests.
//!
//! ```text
//! VmContext (one per instance; P = pointer size)
//!   0       magic: u32 (+ padding to P)
//!   P       builtins:        *const [fn; Builtin::COUNT]   runtime entry points
//!   2P      runtime_limits:  *const VmRuntimeLimits        shared by the store
//!   3P      store:           *mut StoreOpaque              for libcalls and host calls
//!   4P      type_ids:        *const u32                    module type -> engine signature id
//!   5P      instance:        *mut runtime instance data    for libcalls
//!   6P      imported functions   [VmFunctionImport; imported funcs]   {wasm_call, vmctx}
//!           tables               [*mut VmTableDefinition; all tables]
//!           memories             [*mut VmMemoryDefinition; all memories]
//!           imported globals     [*mut VmGlobalDefinition; imported globals]
//!           tags                 [*const VmTagDefinition; all tags]   identity of each tag
//!           (align 16)
//!           defined globals      [VmGlobalDefinition; defined globals]   16 bytes each
//!           func refs            [VmFuncRef; all functions]              {wasm_call, array_call, vmctx, type_id}
//!   size
//! ```
//!
//! Tables and memories, defined or imported, are reached through a pointer so
//! that an exported table or memory has one definition that every importer
//! shares. Defined globals live inline; imported globals behind a pointer.

/// The value of `VmContext::magic`, to recognise a vmctx in a debugger.
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"cljt");

/// The value of `VmHostFuncContext::magic`.
pub const VM_HOST_FUNC_MAGIC: u32 = u32::from_le_bytes(*b"host");

/// Size in bytes of one slot of the host/wasm value array ("array call"
/// convention): every value, whatever its type, takes one 16-byte slot.
pub const VALUE_SLOT_BYTES: u32 = 16;

/// Bytes of a store's interrupt region that compiled code reads: each
/// interrupt check in a function loads from its own offset below this (so
/// no check can be merged with an earlier one as a redundant load). The
/// runtime maps at least this much, readable until the store is
/// interrupted.
pub const INTERRUPT_REGION_BYTES: u32 = 64 * 1024;

/// Size in bytes of a `VmGlobalDefinition`.
pub const GLOBAL_DEFINITION_BYTES: u32 = 16;

/// Counts from a module, from which every offset follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct VmCounts {
    /// Imported functions.
    pub imported_funcs: u32,
    /// All functions, imported and defined.
    pub funcs: u32,
    /// All tables, imported and defined.
    pub tables: u32,
    /// All memories, imported and defined.
    pub memories: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Defined globals.
    pub defined_globals: u32,
    /// All exception tags, imported and defined.
    pub tags: u32,
}

/// Offsets into the VMContext and the structures it points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VmOffsets {
    ptr: u32,
    counts: VmCounts,
    imported_functions: u32,
    tables: u32,
    memories: u32,
    imported_globals: u32,
    tags: u32,
    defined_globals: u32,
    func_refs: u32,
    size: u32,
}

fn add(a: u32, b: u32) -> u32 {
    a.checked_add(b)
        .expect("vmctx layout overflow; module limits keep it far below 4 GiB")
}

fn mul(a: u32, b: u32) -> u32 {
    a.checked_mul(b)
        .expect("vmctx layout overflow; module limits keep it far below 4 GiB")
}

fn align(offset: u32, to: u32) -> u32 {
    debug_assert!(to.is_power_of_two());
    add(offset, to - 1) & !(to - 1)
}

impl VmOffsets {
    /// Computes the layout for a module with these counts, for a target with
    /// pointers of `pointer_bytes` bytes (4 or 8).
    ///
    /// # Panics
    ///
    /// Panics if `pointer_bytes` is not 4 or 8.
    pub fn new(pointer_bytes: u8, counts: VmCounts) -> VmOffsets {
        assert!(
            pointer_bytes == 4 || pointer_bytes == 8,
            "unsupported pointer size"
        );
        let ptr = u32::from(pointer_bytes);
        let imported_functions = mul(6, ptr);
        let tables = add(imported_functions, mul(counts.imported_funcs, 2 * ptr));
        let memories = add(tables, mul(counts.tables, ptr));
        let imported_globals = add(memories, mul(counts.memories, ptr));
        let tags = add(imported_globals, mul(counts.imported_globals, ptr));
        let defined_globals = align(add(tags, mul(counts.tags, ptr)), GLOBAL_DEFINITION_BYTES);
        let func_refs = add(
            defined_globals,
            mul(counts.defined_globals, GLOBAL_DEFINITION_BYTES),
        );
        let size = add(func_refs, mul(counts.funcs, 4 * ptr));
        VmOffsets {
            ptr,
            counts,
            imported_functions,
            tables,
            memories,
            imported_globals,
            tags,
            defined_globals,
            func_refs,
            size,
        }
    }

    /// The counts this layout was computed from.
    pub fn counts(&self) -> VmCounts {
        self.counts
    }

    /// Pointer size in bytes.
    pub fn pointer_size(&self) -> u32 {
        self.ptr
    }

    /// Total size of the VMContext in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }

    // --- VmContext header fields -------------------------------------------

    /// Offset of `magic`.
    pub fn vmctx_magic(&self) -> u32 {
        0
    }

    /// Offset of the builtin-function table pointer.
    pub fn vmctx_builtins(&self) -> u32 {
        self.ptr
    }

    /// Offset of the `VmRuntimeLimits` pointer.
    pub fn vmctx_runtime_limits(&self) -> u32 {
        2 * self.ptr
    }

    /// Offset of the store pointer.
    pub fn vmctx_store(&self) -> u32 {
        3 * self.ptr
    }

    /// Offset of the pointer to the signature-id array.
    pub fn vmctx_type_ids(&self) -> u32 {
        4 * self.ptr
    }

    /// Offset of the runtime's instance pointer.
    pub fn vmctx_instance(&self) -> u32 {
        5 * self.ptr
    }

    // --- VmContext arrays -------------------------------------------------------

    /// Offset of the `VmFunctionImport` of imported function `index`.
    pub fn vmctx_function_import(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_funcs);
        add(self.imported_functions, mul(index, 2 * self.ptr))
    }

    /// Offset of the start of the imported-function array.
    pub fn vmctx_function_imports_begin(&self) -> u32 {
        self.imported_functions
    }

    /// Offset of the `*mut VmTableDefinition` of table `index`.
    pub fn vmctx_table(&self, index: u32) -> u32 {
        assert!(index < self.counts.tables);
        add(self.tables, mul(index, self.ptr))
    }

    /// Offset of the `*mut VmMemoryDefinition` of memory `index`.
    pub fn vmctx_memory(&self, index: u32) -> u32 {
        assert!(index < self.counts.memories);
        add(self.memories, mul(index, self.ptr))
    }

    /// Offset of the `*mut VmGlobalDefinition` of imported global `index`.
    pub fn vmctx_imported_global(&self, index: u32) -> u32 {
        assert!(index < self.counts.imported_globals);
        add(self.imported_globals, mul(index, self.ptr))
    }

    /// Offset of the `*const VmTagDefinition` of tag `index` (imports
    /// included): a tag's identity is the address of its definition.
    pub fn vmctx_tag(&self, index: u32) -> u32 {
        assert!(index < self.counts.tags);
        add(self.tags, mul(index, self.ptr))
    }

    /// Offset of the inline `VmGlobalDefinition` of defined global `index`
    /// (counting defined globals only).
    pub fn vmctx_defined_global(&self, defined_index: u32) -> u32 {
        assert!(defined_index < self.counts.defined_globals);
        add(
            self.defined_globals,
            mul(defined_index, GLOBAL_DEFINITION_BYTES),
        )
    }

    /// Offset of the `VmFuncRef` of function `index` (imports included).
    pub fn vmctx_func_ref(&self, index: u32) -> u32 {
        assert!(index < self.counts.funcs);
        add(self.func_refs, mul(index, 4 * self.ptr))
    }

    // --- VmExnObject --------------------------------------------------------------

    /// Offset of `tag` (`*const VmTagDefinition`) in a `VmExnObject`, an
    /// exception as an `exnref` points at it.
    pub fn exn_object_tag(&self) -> u32 {
        0
    }

    /// Offset of `values` (`*mut` value slots of `VALUE_SLOT_BYTES` each,
    /// one per parameter of the tag's type) in a `VmExnObject`.
    pub fn exn_object_values(&self) -> u32 {
        self.ptr
    }

    /// Offset of `escaped` (pointer-sized flags) in a `VmExnObject`: bit 0
    /// once wasm may hold an `exnref` to it (only the collector frees it
    /// then), bit 1 once the host has a handle to it (pinned).
    pub fn exn_object_escaped(&self) -> u32 {
        2 * self.ptr
    }

    // --- VmFunctionImport -------------------------------------------------------

    /// Offset of `wasm_call` in a `VmFunctionImport`.
    pub fn function_import_wasm_call(&self) -> u32 {
        0
    }

    /// Offset of `vmctx` in a `VmFunctionImport`.
    pub fn function_import_vmctx(&self) -> u32 {
        self.ptr
    }

    /// Size of a `VmFunctionImport`.
    pub fn size_of_function_import(&self) -> u32 {
        2 * self.ptr
    }

    // --- VmFuncRef --------------------------------------------------------------

    /// Offset of `wasm_call` (native calling convention entry) in a `VmFuncRef`.
    pub fn func_ref_wasm_call(&self) -> u32 {
        0
    }

    /// Offset of `array_call` (array calling convention entry) in a `VmFuncRef`.
    pub fn func_ref_array_call(&self) -> u32 {
        self.ptr
    }

    /// Offset of the callee `vmctx` in a `VmFuncRef`.
    pub fn func_ref_vmctx(&self) -> u32 {
        2 * self.ptr
    }

    /// Offset of the engine-wide signature id (`u32`) in a `VmFuncRef`.
    pub fn func_ref_type_id(&self) -> u32 {
        3 * self.ptr
    }

    /// Size of a `VmFuncRef`.
    pub fn size_of_func_ref(&self) -> u32 {
        4 * self.ptr
    }

    // --- VmMemoryDefinition / VmTableDefinition -------------------------------

    /// Offset of `base` in a `VmMemoryDefinition`.
    pub fn memory_definition_base(&self) -> u32 {
        0
    }

    /// Offset of `current_length` (bytes) in a `VmMemoryDefinition`.
    pub fn memory_definition_current_length(&self) -> u32 {
        self.ptr
    }

    /// Size of a `VmMemoryDefinition`.
    pub fn size_of_memory_definition(&self) -> u32 {
        2 * self.ptr
    }

    /// Offset of `base` in a `VmTableDefinition`.
    pub fn table_definition_base(&self) -> u32 {
        0
    }

    /// Offset of `current_elements` in a `VmTableDefinition`.
    pub fn table_definition_current_elements(&self) -> u32 {
        self.ptr
    }

    /// Size of a `VmTableDefinition`.
    pub fn size_of_table_definition(&self) -> u32 {
        2 * self.ptr
    }

    /// Size of one table element (a pointer: funcref or externref).
    pub fn size_of_table_element(&self) -> u32 {
        self.ptr
    }

    // --- VmRuntimeLimits ---------------------------------------------------------
    //
    //   0       fuel_consumed:  i64        negative: fuel left; >= 0: out of fuel
    //   8       stack_limit:    usize      lowest stack address wasm may use
    //   8 + P   interrupt_page: *const u8  readable until the store is interrupted
    //   8 + 2P  gc_free:        *mut usize the GC heap's free-list heads, one per size class
    //   8 + 3P  last_exit_fp:   usize      frame pointer of the last exit from wasm that may collect

    /// Offset of `fuel_consumed` (an `i64`) in `VmRuntimeLimits`.
    pub fn runtime_limits_fuel_consumed(&self) -> u32 {
        0
    }

    /// Offset of `stack_limit` in `VmRuntimeLimits`.
    pub fn runtime_limits_stack_limit(&self) -> u32 {
        8
    }

    /// Offset of `interrupt_page` in `VmRuntimeLimits`.
    pub fn runtime_limits_interrupt_page(&self) -> u32 {
        8 + self.ptr
    }

    /// Offset of `gc_free` in `VmRuntimeLimits`: the store's GC heap's
    /// free-list heads, one pointer per size class (null: empty).
    pub fn runtime_limits_gc_free(&self) -> u32 {
        8 + 2 * self.ptr
    }

    /// Offset of `last_exit_fp` in `VmRuntimeLimits`: the frame pointer of
    /// the frame (a wasm-to-host trampoline's, or a collecting builtin's
    /// adapter's) whose frame record leads to the wasm frames the GC
    /// collector walks.
    pub fn runtime_limits_last_exit_fp(&self) -> u32 {
        8 + 3 * self.ptr
    }

    /// Size of `VmRuntimeLimits`.
    pub fn size_of_runtime_limits(&self) -> u32 {
        align(8 + 4 * self.ptr, 8)
    }

    // --- VmHostFuncContext --------------------------------------------------------

    /// Offset of `magic` in a `VmHostFuncContext`.
    pub fn host_func_magic(&self) -> u32 {
        0
    }

    /// Offset of the embedded `VmFuncRef` in a `VmHostFuncContext`.
    pub fn host_func_func_ref(&self) -> u32 {
        self.ptr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> VmCounts {
        VmCounts {
            imported_funcs: 2,
            funcs: 5,
            tables: 1,
            memories: 1,
            imported_globals: 3,
            defined_globals: 2,
            tags: 2,
        }
    }

    #[test]
    fn regions_do_not_overlap_and_are_aligned() {
        let o = VmOffsets::new(8, counts());
        assert_eq!(o.vmctx_function_import(0), 48);
        assert_eq!(o.vmctx_function_import(1), 64);
        assert_eq!(o.vmctx_table(0), 80);
        assert_eq!(o.vmctx_memory(0), 88);
        assert_eq!(o.vmctx_imported_global(2), 96 + 16);
        assert_eq!(o.vmctx_defined_global(0) % 16, 0);
        assert!(o.vmctx_defined_global(0) >= 120);
        assert_eq!(o.vmctx_func_ref(0), o.vmctx_defined_global(1) + 16);
        assert_eq!(o.size(), o.vmctx_func_ref(4) + 32);
    }

    #[test]
    fn pointer_size_four_halves_pointer_fields() {
        let o = VmOffsets::new(4, counts());
        assert_eq!(o.vmctx_builtins(), 4);
        assert_eq!(o.vmctx_function_import(1), 24 + 8);
        assert_eq!(o.size_of_func_ref(), 16);
    }

    #[test]
    #[should_panic]
    fn out_of_range_index_panics() {
        VmOffsets::new(8, counts()).vmctx_table(1);
    }
}
