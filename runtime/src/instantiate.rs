//! Instantiation, in named steps:
//!
//! ```text
//!  check_arguments    engine, import count, every import of this store
//!  check_new_instance the store's instance, memory and table counts
//!  new_instance_data  the vmctx and its header (builtins, limits, store, types)
//!  link_imports       type-check each import and write it into the vmctx
//!  define_memories    the module's own memories, tables, functions and
//!  define_tables        globals, in index order after the imports
//!  define_functions
//!  define_globals
//!  ── the store takes the instance: its functions may now escape ──
//!  initialize_segments  element segments, then data segments
//!  run_start            the start function
//! ```
//!
//! Segment initialisation follows the WebAssembly 2.0 semantics: active
//! segments are applied in order, each checked in full before it writes
//! anything; the first that is out of bounds traps, and the effects of the
//! earlier ones remain (they are visible through imported tables and
//! memories). The instance's data is kept by the store even then, because
//! tables elsewhere may already refer to its functions.
//! <https://webassembly.github.io/spec/core/exec/modules.html#instantiation>

use cljit_compiler::abi::Trap;
use cljit_compiler::indices::{DefinedFuncIndex, EntityIndex, FuncIndex, GlobalIndex};
use cljit_compiler::types::{ConstExpr, ConstOp, MemoryType, TableType};
use cljit_compiler::{ElementItems, SegmentMode};
use cranelift_entity::EntityRef;

use crate::engine::Engine;
use crate::error::{Error, Result, WasmBacktrace};
use crate::externals::{Extern, global_storage};
use crate::func::call_raw;
use crate::gc::GcHeap;
use crate::instance::Instance;
use crate::libcalls;
use crate::memory::LinearMemory;
use crate::memory::shared::{SharedMemory, StoreMemory};
use crate::module::{ExternType, Module};
use crate::store::instance_data::InstanceData;
use crate::store::{AsContextMut, GlobalSlot, StoreContextMut, StoreOpaque};
use crate::vm::table::{TableStorage, range};
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::{
    VmContextAlloc, VmFuncRef, VmFunctionImport, VmGlobalDefinition, VmTagDefinition,
};

impl Instance {
    /// Instantiates `module` with `imports`, one per import in order.
    ///
    /// # Errors
    ///
    /// Imports that are missing or of the wrong type, resources that cannot
    /// be allocated, and traps during initialisation or the start function.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let mut cx = store.as_context_mut();
        instantiate(&mut cx, module, imports)
    }
}

fn instantiate<T>(
    cx: &mut StoreContextMut<'_, T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    let store = cx.opaque_mut();
    check_arguments(store, module, imports)?;
    let info = module.info();
    let defined_memories = info.memories.len() - info.num_imported_memories as usize;
    let defined_tables = info.tables.len() - info.num_imported_tables as usize;
    store.check_new_instance(defined_memories, defined_tables)?;
    store.retain_module(module);
    crate::gc::register_layouts(&mut store.gc, module);
    let mut data = new_instance_data(store, module);
    link_imports(store, module, imports, &mut data)?;
    define_memories(store, module, &mut data)?;
    define_tables(store, module, &mut data)?;
    define_functions(module, &mut data);
    define_tags(store, module, &mut data);
    define_globals(store, module, &mut data)?;
    initialize_tables(store, module, &data)?;

    // From here on the instance's functions may escape into shared tables,
    // so the store keeps its data whatever happens next.
    let handle = data.handle;
    store.instances.push(data);
    let instance = Instance::from_index(store.id(), handle);
    initialize_segments(store, handle)?;
    run_start(cx, handle)?;
    Ok(instance)
}

/// The module belongs to the store's engine, and there is one import of
/// this store per import of the module.
fn check_arguments(store: &StoreOpaque, module: &Module, imports: &[Extern]) -> Result<()> {
    if !Engine::same(module.engine(), store.engine()) {
        return Err(Error::msg("module and store belong to different engines"));
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(Error::msg(format!(
            "expected {} imports, got {}",
            info.imports.len(),
            imports.len()
        )));
    }
    if let Some(i) = imports.iter().position(|e| !e.belongs_to(store)) {
        let import = &info.imports[i];
        return Err(Error::incompatible_import(
            &import.module,
            &import.name,
            "the definition belongs to another store".into(),
        ));
    }
    Ok(())
}

/// A fresh instance: its vmctx allocated and its header written, nothing
/// defined yet. Boxed, so the address the vmctx records stays put.
fn new_instance_data(store: &mut StoreOpaque, module: &Module) -> Box<InstanceData> {
    let info = module.info();
    let offsets = *module.offsets();
    let mut data = Box::new(InstanceData {
        handle: store.instances.len(),
        module: module.clone(),
        vmctx: VmContextAlloc::new(&offsets),
        memories: Vec::with_capacity(info.memories.len()),
        tables: Vec::with_capacity(info.tables.len()),
        globals: Vec::with_capacity(info.globals.len()),
        tags: Vec::with_capacity(info.tags.len()),
        passive_elements: vec![None; info.elements.len()],
        dropped_data: vec![false; info.data.len()],
    });
    let instance_ptr: *mut InstanceData = &mut *data;
    // SAFETY: each offset comes from this module's VmOffsets and names a
    // header field of the written type; the pointers written (builtin
    // table, limits, store, type ids, the boxed instance data) live as long
    // as the store that will own this vmctx.
    unsafe {
        data.vmctx
            .write(offsets.vmctx_builtins(), libcalls::builtin_table());
        data.vmctx
            .write(offsets.vmctx_runtime_limits(), store.limits_ptr());
        data.vmctx
            .write(offsets.vmctx_store(), store as *mut StoreOpaque);
        data.vmctx
            .write(offsets.vmctx_type_ids(), module.type_ids().as_ptr());
        data.vmctx.write(offsets.vmctx_instance(), instance_ptr);
    }
    data
}

/// Whether limits `actual` satisfy the import's required `min`/`max`.
fn limits_match(actual_min: u64, actual_max: Option<u64>, min: u64, max: Option<u64>) -> bool {
    actual_min >= min
        && match max {
            None => true,
            Some(max) => actual_max.is_some_and(|a| a <= max),
        }
}

/// Whether a table of type `actual` satisfies an import of type
/// `expected` (engine types): element types are equal, as a table is both
/// read and written.
fn table_matches(actual: &TableType, expected: &TableType) -> bool {
    actual.element == expected.element
        && actual.table64 == expected.table64
        && limits_match(
            actual.min_elements,
            actual.max_elements,
            expected.min_elements,
            expected.max_elements,
        )
}

fn memory_matches(actual: &MemoryType, expected: &MemoryType) -> bool {
    actual.memory64 == expected.memory64
        && actual.shared == expected.shared
        && actual.page_size_log2 == expected.page_size_log2
        && limits_match(
            actual.min_pages,
            actual.max_pages,
            expected.min_pages,
            expected.max_pages,
        )
}

/// Checks each import against the module's declared type and writes it
/// into the vmctx.
fn link_imports(
    store: &mut StoreOpaque,
    module: &Module,
    imports: &[Extern],
    data: &mut InstanceData,
) -> Result<()> {
    let info = module.info();
    let offsets = *module.offsets();
    for (import, ext) in info.imports.iter().zip(imports) {
        let (m, n) = (import.module.as_str(), import.name.as_str());
        let mismatch = |actual: ExternType| {
            let expected = module.entity_type(import.index).to_string();
            let actual = actual.to_string();
            // Types that read the same but are not the same type differ
            // in what their text here does not show.
            let why = if expected == actual {
                " (the same signature, but another type: their recursion groups or \
                 declared supertypes differ)"
            } else {
                ""
            };
            Error::incompatible_import(m, n, format!("expected {expected}, found {actual}{why}"))
        };
        // Every `write` below uses an offset from this module's VmOffsets
        // naming a field of the written type.
        match (import.index, ext) {
            (EntityIndex::Function(f), Extern::Func(func)) => {
                // Equal types have equal ids in the engine's registry, which
                // the module's types and the function's both come from; a
                // function of a declared subtype matches too.
                let expected_id = module.type_ids()[info.functions[f].index()];
                let actual_id = func.type_id_in_store(store)?;
                if !store
                    .engine()
                    .signatures()
                    .is_subtype(actual_id, expected_id)
                {
                    return Err(mismatch(ExternType::Func(func.ty_in_store(store))));
                }
                let trampoline = module.wasm_to_array(info.functions[f]);
                let func_ref = func.func_ref_for_import(store, trampoline)?;
                let import = VmFunctionImport {
                    wasm_call: func_ref.wasm_call,
                    vmctx: func_ref.vmctx,
                };
                // SAFETY: the offsets name this import's VmFunctionImport
                // and VmFuncRef slots (see above).
                unsafe {
                    data.vmctx
                        .write(offsets.vmctx_function_import(f.as_u32()), import);
                    data.vmctx
                        .write(offsets.vmctx_func_ref(f.as_u32()), func_ref);
                }
            }
            (EntityIndex::Table(t), Extern::Table(table)) => {
                let index = table.index(store);
                let actual = store.tables[index].ty();
                if !table_matches(&actual, &info.tables[t].canonical(module.type_ids())) {
                    return Err(mismatch(ExternType::Table(actual)));
                }
                let def = store.tables[index].definition_ptr();
                data.tables.push(index);
                // SAFETY: the offset names table `t`'s definition pointer.
                unsafe { data.vmctx.write(offsets.vmctx_table(t.as_u32()), def) };
            }
            (EntityIndex::Memory(mi), Extern::Memory(memory)) => {
                let index = memory.index(store);
                let actual = store.memories[index].ty();
                if !memory_matches(&actual, &info.memories[mi]) {
                    return Err(mismatch(ExternType::Memory(actual)));
                }
                let def = store.memories[index].definition_ptr();
                data.memories.push(index);
                // SAFETY: the offset names memory `mi`'s definition pointer.
                unsafe { data.vmctx.write(offsets.vmctx_memory(mi.as_u32()), def) };
            }
            (EntityIndex::Memory(mi), Extern::SharedMemory(memory)) => {
                let actual = memory.ty();
                if !memory_matches(&actual, &info.memories[mi]) {
                    return Err(mismatch(ExternType::Memory(actual)));
                }
                memory
                    .check_layout(store.engine())
                    .map_err(|e| Error::msg(format!("import `{m}::{n}`: {e}")))?;
                store.memories.push(StoreMemory::Shared(memory.clone()));
                let index = store.memories.len() - 1;
                let def = store.memories[index].definition_ptr();
                data.memories.push(index);
                // SAFETY: the offset names memory `mi`'s definition pointer;
                // the store's clone keeps the shared memory alive.
                unsafe { data.vmctx.write(offsets.vmctx_memory(mi.as_u32()), def) };
            }
            (EntityIndex::Global(g), Extern::Global(global)) => {
                let index = global.index(store);
                let slot = &store.globals[index];
                let signatures = store.engine().signatures();
                let declared = |a, b| signatures.is_subtype(a, b);
                if !slot
                    .ty
                    .matches_with(info.globals[g].canonical(module.type_ids()), &declared)
                {
                    return Err(mismatch(ExternType::Global(slot.ty)));
                }
                data.globals.push(index);
                let offset = offsets.vmctx_imported_global(g.as_u32());
                // SAFETY: the offset names imported global `g`'s pointer.
                unsafe { data.vmctx.write(offset, slot.definition) };
            }
            (EntityIndex::Tag(t), Extern::Tag(tag)) => {
                let index = tag.index(store);
                let definition: *const VmTagDefinition = &*store.tags[index].definition;
                // SAFETY: the definition is owned by the store.
                let type_id = unsafe { (*definition).type_id };
                if type_id != module.type_ids()[info.tags[t].index()] {
                    return Err(mismatch(ExternType::Tag(tag.ty_in_store(store))));
                }
                data.tags.push(index);
                // SAFETY: the offset names tag `t`'s definition pointer.
                unsafe { data.vmctx.write(offsets.vmctx_tag(t.as_u32()), definition) };
            }
            (_, other) => return Err(mismatch(other.ty_in_store(store))),
        }
    }
    Ok(())
}

/// Creates the module's own memories, laid out as the engine's tunables
/// promised the code, each as the store's limiter allows.
fn define_memories(
    store: &mut StoreOpaque,
    module: &Module,
    data: &mut InstanceData,
) -> Result<()> {
    let info = module.info();
    let offsets = module.offsets();
    let tunables = *store.engine().config().tunables();
    let defined = info
        .memories
        .iter()
        .skip(info.num_imported_memories as usize);
    let images = module.memory_images_for_instance();
    for (n, (mi, ty)) in defined.enumerate() {
        store.check_new_memory(ty)?;
        let image = images.get(n).and_then(Option::as_ref);
        let memory = LinearMemory::new(*ty, &tunables, store.engine().memory_pool(), image)
            .map_err(|e| Error::msg(format!("failed to allocate memory: {e}")))?;
        let memory = if ty.shared {
            StoreMemory::Shared(SharedMemory::from_memory(store.engine(), memory))
        } else {
            StoreMemory::Owned(memory)
        };
        store.memories.push(memory);
        let index = store.memories.len() - 1;
        let def = store.memories[index].definition_ptr();
        data.memories.push(index);
        // SAFETY: the offset names memory `mi`'s definition pointer.
        unsafe { data.vmctx.write(offsets.vmctx_memory(mi.as_u32()), def) };
    }
    Ok(())
}

/// Creates the module's own tables, filled with null (see
/// [`initialize_tables`] for those with an initialiser), each as the
/// store's limiter allows.
fn define_tables(store: &mut StoreOpaque, module: &Module, data: &mut InstanceData) -> Result<()> {
    let info = module.info();
    let offsets = module.offsets();
    for (ti, ty) in info.tables.iter().skip(info.num_imported_tables as usize) {
        store.check_new_table(ty)?;
        let ty = ty.canonical(module.type_ids());
        let table = TableStorage::new(ty, 0).ok_or_else(|| Error::msg("table too large"))?;
        store.tables.push(table);
        let index = store.tables.len() - 1;
        let def = store.tables[index].definition_ptr();
        data.tables.push(index);
        // SAFETY: the offset names table `ti`'s definition pointer.
        unsafe { data.vmctx.write(offsets.vmctx_table(ti.as_u32()), def) };
    }
    Ok(())
}

/// Creates the module's own tags: each instance has its own.
fn define_tags(store: &mut StoreOpaque, module: &Module, data: &mut InstanceData) {
    let info = module.info();
    let offsets = module.offsets();
    for (t, &ty) in info.tags.iter().skip(info.num_imported_tags as usize) {
        let type_id = module.type_ids()[ty.index()];
        let params =
            u32::try_from(info.types[ty].func().params().len()).expect("bounded by wasmparser");
        let index = store.new_tag(type_id, params);
        let definition: *const VmTagDefinition = &*store.tags[index].definition;
        data.tags.push(index);
        // SAFETY: the offset names tag `t`'s definition pointer.
        unsafe { data.vmctx.write(offsets.vmctx_tag(t.as_u32()), definition) };
    }
}

/// Writes the func ref of every defined function: its code, its
/// host-to-wasm trampoline, this vmctx and its signature id.
fn define_functions(module: &Module, data: &mut InstanceData) {
    let entries = module.func_entries();
    let Some(last) = entries.len().checked_sub(1) else {
        return;
    };
    let info = module.info();
    let offsets = module.offsets();
    let vmctx = data.vmctx.as_ptr();
    // Defined functions follow the imported ones, so their VmFuncRefs are
    // one array: found once, written in one pass (CPython has 10,000).
    let first = info.func_index(DefinedFuncIndex::from_u32(0)).as_u32();
    let start = offsets.vmctx_func_ref(first);
    let end = offsets.vmctx_func_ref(first + last as u32);
    assert_eq!(
        (end - start) as usize,
        last * size_of::<VmFuncRef>(),
        "VmFuncRefs are contiguous"
    );
    // SAFETY: `start` names the VmFuncRef of the first defined function
    // and the assertion shows the other `last` follow it, one per
    // `VmFuncRef`, inside this vmctx (allocated for these offsets, aligned
    // for pointers, and zeroed: a valid `VmFuncRef` of nulls); nothing else
    // refers to the vmctx while the instance is being made.
    let refs = unsafe {
        std::slice::from_raw_parts_mut(data.vmctx.field::<VmFuncRef>(start), entries.len())
    };
    for (slot, entry) in refs.iter_mut().zip(entries) {
        *slot = VmFuncRef {
            wasm_call: entry.wasm_call as *const u8,
            array_call: entry.array_call as *const u8,
            vmctx,
            type_id: entry.type_id,
        };
    }
}

/// Evaluates the module's global initialisers into the vmctx, in order (a
/// later one may read an earlier one), and registers each with the store.
fn define_globals(store: &mut StoreOpaque, module: &Module, data: &mut InstanceData) -> Result<()> {
    let info = module.info();
    let offsets = module.offsets();
    for (def, init) in info.global_inits.iter() {
        let index = info.global_index(def);
        let value = eval_const(init, &store.globals, &mut store.gc, data)?;
        let offset = offsets.vmctx_defined_global(def.as_u32());
        // SAFETY: the offset names defined global `def`'s inline
        // VmGlobalDefinition.
        let definition = unsafe {
            data.vmctx.write(offset, global_storage(value));
            data.vmctx.field::<VmGlobalDefinition>(offset)
        };
        store.globals.push(GlobalSlot {
            ty: info.globals[index].canonical(module.type_ids()),
            definition,
            _owned: None,
        });
        data.globals.push(store.globals.len() - 1);
    }
    Ok(())
}

/// Fills each defined table that has an initialiser with its value, once
/// the functions and globals it may refer to exist.
fn initialize_tables(store: &mut StoreOpaque, module: &Module, data: &InstanceData) -> Result<()> {
    let info = module.info();
    let first_defined = info.num_imported_tables as usize;
    for (def, init) in info.table_inits.iter().enumerate() {
        let Some(init) = init else { continue };
        let value = eval_const(init, &store.globals, &mut store.gc, data)?.get_pointer();
        let index = data.tables[first_defined + def];
        store.tables[index].elements_mut().fill(value);
    }
    Ok(())
}

/// Runs the module's start function, if it has one.
fn run_start<T>(cx: &mut StoreContextMut<'_, T>, handle: usize) -> Result<()> {
    let store = cx.opaque();
    let data = store.instance(handle);
    let Some(start) = data.module.info().start else {
        return Ok(());
    };
    let func_ref = data.func_ref_ptr(start);
    // SAFETY: the start function takes and returns nothing, and belongs to
    // this store.
    unsafe { call_raw(cx, func_ref, &mut []) }
}

fn trap(trap: Trap) -> Error {
    Error::trap(trap, WasmBacktrace::default())
}

/// Evaluates a constant expression in the context of a (partly built)
/// instance: its globals so far and its function references.
///
/// Structs and arrays it makes go on the GC heap without a collection
/// (they are held here, where the collector cannot see them), or fail the
/// instantiation when the heap is full.
fn eval_const(
    expr: &ConstExpr,
    globals: &[GlobalSlot],
    heap: &mut GcHeap,
    data: &InstanceData,
) -> Result<ValRaw> {
    let mut stack: Vec<ValRaw> = Vec::with_capacity(2);
    let bad = || Error::msg("malformed constant expression");
    let full = || trap(Trap::GcHeapOutOfMemory);
    for op in &expr.ops {
        let value = match *op {
            ConstOp::I32Const(v) => ValRaw::i32(v),
            ConstOp::I64Const(v) => ValRaw::i64(v),
            ConstOp::F32Const(bits) => ValRaw::i32(bits as i32),
            ConstOp::F64Const(bits) => ValRaw::i64(bits as i64),
            ConstOp::V128Const(v) => ValRaw::v128(v),
            ConstOp::RefNull(_) => ValRaw::pointer(0),
            ConstOp::RefFunc(f) => {
                ValRaw::pointer(data.func_ref_ptr(FuncIndex::from_u32(f)) as usize)
            }
            ConstOp::GlobalGet(g) => {
                let slot = data
                    .globals
                    .get(GlobalIndex::from_u32(g).index())
                    .ok_or_else(bad)?;
                let def = globals[*slot].definition;
                // SAFETY: the definition is live while the store is.
                ValRaw::from_bytes(unsafe { (*def).storage })
            }
            ConstOp::RefI31 => {
                let v = stack.pop().ok_or_else(bad)?.get_i32();
                ValRaw::pointer(crate::gc::i31_word(v))
            }
            // The conversions keep the word: see `gc.rs`.
            ConstOp::AnyConvertExtern | ConstOp::ExternConvertAny => stack.pop().ok_or_else(bad)?,
            ConstOp::StructNew(ty) | ConstOp::StructNewDefault(ty) => {
                let (object, layout) =
                    crate::gc::alloc_object(heap, &data.module, ty, None).ok_or_else(full)?;
                if let ConstOp::StructNew(_) = op {
                    let at = stack
                        .len()
                        .checked_sub(layout.fields.len())
                        .ok_or_else(bad)?;
                    for (i, value) in stack.drain(at..).enumerate() {
                        // SAFETY: field `i` of a fresh struct of this layout.
                        unsafe {
                            crate::gc::write_storage(
                                object + layout.offsets[i] as usize,
                                layout.fields[i],
                                value,
                            );
                        }
                    }
                }
                ValRaw::pointer(object)
            }
            ConstOp::ArrayNew(ty) | ConstOp::ArrayNewDefault(ty) => {
                let len = stack.pop().ok_or_else(bad)?.get_i32() as u32;
                let (array, layout) =
                    crate::gc::alloc_object(heap, &data.module, ty, Some(len)).ok_or_else(full)?;
                if let ConstOp::ArrayNew(_) = op {
                    let value = stack.pop().ok_or_else(bad)?;
                    for i in 0..len {
                        // SAFETY: element `i` of a fresh array of `len`.
                        unsafe { crate::gc::write_element(array, &layout, i, value) };
                    }
                }
                ValRaw::pointer(array)
            }
            ConstOp::ArrayNewFixed(ty, n) => {
                let (array, layout) =
                    crate::gc::alloc_object(heap, &data.module, ty, Some(n)).ok_or_else(full)?;
                let at = stack.len().checked_sub(n as usize).ok_or_else(bad)?;
                for (i, value) in (0..).zip(stack.drain(at..)) {
                    // SAFETY: element `i` of a fresh array of `n`.
                    unsafe { crate::gc::write_element(array, &layout, i, value) };
                }
                ValRaw::pointer(array)
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().ok_or_else(bad)?.get_i32();
                let a = stack.pop().ok_or_else(bad)?.get_i32();
                ValRaw::i32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().ok_or_else(bad)?.get_i64();
                let a = stack.pop().ok_or_else(bad)?.get_i64();
                ValRaw::i64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(value);
    }
    stack.pop().ok_or_else(bad)
}

/// An active segment's offset: an `i32`, or an `i64` for a 64-bit memory
/// or table, read as unsigned.
fn eval_offset(expr: &ConstExpr, is64: bool, store: &StoreOpaque, handle: usize) -> Result<u64> {
    // An offset is an integer: its expression makes no object, so it gets
    // an empty heap of its own.
    let mut no_objects = GcHeap::default();
    let value = eval_const(
        expr,
        &store.globals,
        &mut no_objects,
        &store.instances[handle],
    )?;
    Ok(if is64 {
        value.get_i64() as u64
    } else {
        u64::from(value.get_i32() as u32)
    })
}

/// Whether every active element and data segment of the instance fits
/// its table or memory, so that applying them all cannot trap. Segments
/// of memories made from an image (`imaged`) fit: the image was built
/// only if they all fit the memory's initial size.
fn segments_fit(store: &StoreOpaque, handle: usize, imaged: &[bool]) -> Result<bool> {
    let data = &store.instances[handle];
    let info = data.module.info();
    for segment in info.elements.values() {
        if let SegmentMode::Active { target, offset } = &segment.mode {
            let offset = eval_offset(offset, info.tables[*target].table64, store, handle)?;
            let size = store.tables[data.tables[target.index()]].size();
            let len = match &segment.items {
                ElementItems::Functions(f) => f.len(),
                ElementItems::Expressions(e) => e.len(),
            };
            if range(offset, len as u64, size).is_none() {
                return Ok(false);
            }
        }
    }
    if all_data_imaged(&data.module, imaged) {
        return Ok(true);
    }
    for segment in info.data.values() {
        if let SegmentMode::Active { target, offset } = &segment.mode
            && !imaged[target.index()]
        {
            let offset = eval_offset(offset, info.memories[*target].memory64, store, handle)?;
            let size = store.memories[data.memories[target.index()]].byte_size() as u64;
            if range(offset, segment.len as u64, size).is_none() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Whether every memory an active data segment of `module` targets starts
/// from an image (`imaged`, by memory index): then no data segment needs
/// looking at, one by one.
fn all_data_imaged(module: &Module, imaged: &[bool]) -> bool {
    module
        .active_data()
        .memories
        .iter()
        .all(|m| imaged[m.index()])
}

/// Applies element segments, then data segments, in order. A memory made
/// from its module's image already holds its active segments; if some
/// segment is going to trap, images are turned back into zeros first, so
/// that the memories end as copying in order leaves them.
fn initialize_segments(store: &mut StoreOpaque, handle: usize) -> Result<()> {
    let module = store.instances[handle].module.clone();
    let info = module.info();
    let memories = store.instances[handle].memories.clone();
    // Only the instance's own memories, just made: an imported memory may
    // map its own module's image, but this module's segments go into it.
    let imported = info.num_imported_memories as usize;
    let mut imaged: Vec<bool> = memories
        .iter()
        .enumerate()
        .map(|(i, &m)| i >= imported && store.memories[m].has_image())
        .collect();
    if imaged.contains(&true) && !segments_fit(store, handle, &imaged)? {
        for (&m, imaged) in memories.iter().zip(&mut imaged) {
            if *imaged {
                store.memories[m]
                    .clear_image()
                    .map_err(|e| Error::msg(format!("failed to reset memory: {e}")))?;
                *imaged = false;
            }
        }
    }
    for (ei, segment) in info.elements.iter() {
        let values: Vec<usize> = {
            let data = &store.instances[handle];
            let (globals, heap) = (&store.globals, &mut store.gc);
            match &segment.items {
                ElementItems::Functions(funcs) => funcs
                    .iter()
                    .map(|&f| data.func_ref_ptr(f) as usize)
                    .collect(),
                ElementItems::Expressions(exprs) => exprs
                    .iter()
                    .map(|e| eval_const(e, globals, heap, data).map(|v| v.get_pointer()))
                    .collect::<Result<_>>()?,
            }
        };
        match &segment.mode {
            SegmentMode::Passive => {
                store.instances[handle].passive_elements[ei.index()] = Some(values.into());
            }
            SegmentMode::Declared => {}
            SegmentMode::Active { target, offset } => {
                let table64 = info.tables[*target].table64;
                let offset = eval_offset(offset, table64, store, handle)?;
                let table = store.instances[handle].tables[target.index()];
                let storage = &mut store.tables[table];
                let dst = range(offset, values.len() as u64, storage.size())
                    .ok_or_else(|| trap(Trap::TableOutOfBounds))?;
                storage.elements_mut()[dst].copy_from_slice(&values);
            }
        }
    }
    if all_data_imaged(&module, &imaged) {
        // The images hold every active segment: mark them all dropped at
        // once instead of walking the segments.
        let dropped = &mut store.instances[handle].dropped_data;
        for (d, &active) in dropped.iter_mut().zip(&module.active_data().mask) {
            *d |= active;
        }
        return Ok(());
    }
    for (di, segment) in info.data.iter() {
        match &segment.mode {
            SegmentMode::Active { target, .. } if imaged[target.index()] => {
                store.instances[handle].dropped_data[di.index()] = true;
            }
            SegmentMode::Active { target, offset } => {
                let memory64 = info.memories[*target].memory64;
                let offset = eval_offset(offset, memory64, store, handle)?;
                let memory = store.instances[handle].memories[target.index()];
                let memory = &mut store.memories[memory];
                let dst = range(offset, segment.len as u64, memory.byte_size() as u64)
                    .ok_or_else(|| trap(Trap::MemoryOutOfBounds))?;
                memory.data_mut()[dst].copy_from_slice(info.segment_bytes(segment));
                store.instances[handle].dropped_data[di.index()] = true;
            }
            SegmentMode::Passive | SegmentMode::Declared => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_subtyping() {
        assert!(limits_match(2, Some(5), 1, Some(5)));
        assert!(limits_match(2, None, 1, None));
        assert!(!limits_match(2, None, 1, Some(5)));
        assert!(!limits_match(0, Some(5), 1, None));
        assert!(!limits_match(2, Some(6), 1, Some(5)));
    }
}
