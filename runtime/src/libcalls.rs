//! The bodies of the runtime entry points compiled code calls through the
//! VMContext's builtin table (the list is `foreach_builtin_function!` in
//! `cljit_compiler::abi::builtins`).
//!
//! !!! The bounds checks here guard the sandbox. Changes need a second
//! reviewer. !!!
//!
//! Each body recovers the store and instance from the caller's vmctx. They
//! never panic or unwind (a panic cannot cross `extern "C"`): fallible ones
//! return a status word, non-zero meaning "trap with this builtin's trap",
//! which compiled code raises itself; the grow builtins return the old size,
//! -1, or `GROW_TRAP` after recording the store limiter's error for the
//! enclosing entry. Bulk operations check their whole range before writing
//! anything, as WebAssembly 2.0 requires.

use cljit_compiler::abi::VmOffsets;
use cljit_compiler::abi::{Builtin, GROW_TRAP, WAIT_INTERRUPTED};
use cljit_compiler::foreach_builtin_function;

use crate::arch;
use crate::error::Result;
use crate::memory::parking::{self, Cell};
use crate::store::StoreOpaque;
use crate::store::instance_data::InstanceData;
use crate::traps;
use crate::vm::table::range;
use crate::vm::vmcontext::vmctx_read_ptr;

use crate::gc::{array_init_data, array_init_elem, gc_memmove};

// The builtins that may collect the GC heap are called through adapters
// that record where the wasm frames are (see `gc/collect.rs`); the table
// holds the adapters, under the builtins' names.
arch::gc_exit_adapter!(cljit_struct_new_exit => crate::gc::struct_new,
    fn(vmctx: *mut u8, id: u32, size: u32) -> *mut u8);
arch::gc_exit_adapter!(cljit_array_new_exit => crate::gc::array_new,
    fn(vmctx: *mut u8, id: u32, element_size: u32, len: u32) -> *mut u8);
arch::gc_exit_adapter!(cljit_array_new_data_exit => crate::gc::array_new_data,
    fn(vmctx: *mut u8, ty: u32, data: u32, src: u32, len: u32) -> *mut u8);
arch::gc_exit_adapter!(cljit_array_new_elem_exit => crate::gc::array_new_elem,
    fn(vmctx: *mut u8, ty: u32, elem: u32, src: u32, len: u32) -> *mut u8);

#[allow(
    non_upper_case_globals,
    reason = "named as the builtins, like the other table entries"
)]
mod gc_exits {
    use super::*;
    pub(super) const struct_new: unsafe extern "C" fn(*mut u8, u32, u32) -> *mut u8 =
        cljit_struct_new_exit;
    pub(super) const array_new: unsafe extern "C" fn(*mut u8, u32, u32, u32) -> *mut u8 =
        cljit_array_new_exit;
    pub(super) const array_new_data: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32) -> *mut u8 =
        cljit_array_new_data_exit;
    pub(super) const array_new_elem: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32) -> *mut u8 =
        cljit_array_new_elem_exit;
}
use gc_exits::{array_new, array_new_data, array_new_elem, struct_new};

const OK: u32 = 0;
const TRAP: u32 = 1;

/// The store and the index of the instance owning `vmctx`.
///
/// # Safety
///
/// `vmctx` must be a live instance vmctx.
pub(crate) unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreOpaque, usize) {
    let offsets = VmOffsets::new(
        u8::try_from(size_of::<usize>()).expect("pointer size fits in u8"),
        Default::default(),
    );
    // SAFETY: per the contract, the header fields are set.
    unsafe {
        let store = vmctx_read_ptr::<StoreOpaque>(vmctx, offsets.vmctx_store());
        let instance = vmctx_read_ptr::<InstanceData>(vmctx, offsets.vmctx_instance());
        (&mut *store, (*instance).handle)
    }
}

fn to_u64(v: usize) -> u64 {
    v as u64
}

/// The `i64` a grow builtin returns for `outcome` (see `GROW_TRAP`).
fn grow_status(outcome: Result<Option<u64>>) -> u64 {
    match outcome {
        Ok(Some(old)) => old,
        Ok(None) => u64::MAX,
        Err(error) => {
            traps::record_host_error(error);
            GROW_TRAP as u64
        }
    }
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let index = store.instances[instance].memories[memory as usize];
    grow_status(store.grow_memory(index, delta))
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_memory: u32,
    dst: u64,
    src_memory: u32,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let data = &store.instances[instance];
    let (dst_index, src_index) = (
        data.memories[dst_memory as usize],
        data.memories[src_memory as usize],
    );
    let dst_mem = &store.memories[dst_index];
    let src_mem = &store.memories[src_index];
    let (Some(d), Some(s)) = (
        range(dst, len, to_u64(dst_mem.byte_size())),
        range(src, len, to_u64(src_mem.byte_size())),
    ) else {
        return TRAP;
    };
    // SAFETY: both ranges are in bounds of accessible memory; `copy` allows
    // overlap (the same memory).
    unsafe {
        std::ptr::copy(
            src_mem.base().add(s.start),
            dst_mem.base().add(d.start),
            d.len(),
        )
    };
    OK
}

unsafe extern "C" fn memory_fill(
    vmctx: *mut u8,
    memory: u32,
    dst: u64,
    value: u32,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let index = store.instances[instance].memories[memory as usize];
    let mem = &mut store.memories[index];
    let Some(d) = range(dst, len, to_u64(mem.byte_size())) else {
        return TRAP;
    };
    mem.data_mut()[d].fill(value as u8);
    OK
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    memory: u32,
    data_index: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let data = &store.instances[instance];
    let bytes: &[u8] = if data.dropped_data[data_index as usize] {
        &[]
    } else {
        let info = data.module.info();
        info.segment_bytes(&info.data[cljit_compiler::indices::DataIndex::from_u32(data_index)])
    };
    let index = data.memories[memory as usize];
    let mem = &mut store.memories[index];
    let (Some(d), Some(s)) = (
        range(dst, u64::from(len), to_u64(mem.byte_size())),
        range(u64::from(src), u64::from(len), to_u64(bytes.len())),
    ) else {
        return TRAP;
    };
    mem.data_mut()[d].copy_from_slice(&bytes[s]);
    OK
}

/// A wait of compiled code: its result, or [`WAIT_INTERRUPTED`] once the
/// store's epoch deadline has passed.
///
/// # Safety
///
/// `vmctx` must be the calling instance's vmctx, and `cell` an aligned
/// cell inside the accessible length of a shared memory that instance
/// uses.
unsafe fn wait_in_store(vmctx: *mut u8, cell: Cell, timeout: u64) -> u32 {
    // SAFETY: the caller passes its own live vmctx.
    let (store, _) = unsafe { context(vmctx) };
    let page = store.interrupt_page();
    let interrupted = || page.is_some_and(|p| p.is_interrupted());
    // SAFETY: the cell is aligned and inside a shared memory's accessible
    // length (this function's contract); the instance keeps that memory
    // mapped for the call, and a shared memory never moves or shrinks.
    match unsafe { parking::wait(cell, parking::timeout_of(timeout as i64), &interrupted) } {
        Some(result) => result as u32,
        None => WAIT_INTERRUPTED as u32,
    }
}

unsafe extern "C" fn memory_atomic_wait32(
    vmctx: *mut u8,
    addr: *mut u8,
    expected: u32,
    timeout: u64,
) -> u32 {
    // SAFETY: compiled code passes its own vmctx and the native address of
    // a 4-byte aligned cell inside a shared memory's accessible length,
    // both checked before the call (see `translate/atomics.rs`).
    unsafe { wait_in_store(vmctx, Cell::U32(addr.cast(), expected), timeout) }
}

unsafe extern "C" fn memory_atomic_wait64(
    vmctx: *mut u8,
    addr: *mut u8,
    expected: u64,
    timeout: u64,
) -> u32 {
    // SAFETY: compiled code passes its own vmctx and the native address of
    // an 8-byte aligned cell inside a shared memory's accessible length,
    // both checked before the call (see `translate/atomics.rs`).
    unsafe { wait_in_store(vmctx, Cell::U64(addr.cast(), expected), timeout) }
}

unsafe extern "C" fn memory_atomic_notify(_vmctx: *mut u8, addr: *mut u8, count: u32) -> u32 {
    parking::notify(addr as usize, count)
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data_index: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].dropped_data[data_index as usize] = true;
}

unsafe extern "C" fn func_subtype(vmctx: *mut u8, actual: u32, expected: u32) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    u32::from(!store.engine().signatures().is_subtype(actual, expected))
}

unsafe extern "C" fn is_subtype(vmctx: *mut u8, actual: u32, expected: u32) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    u32::from(store.engine().signatures().is_subtype(actual, expected))
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: *mut u8) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let index = store.instances[instance].tables[table as usize];
    grow_status(store.grow_table(index, delta, init as usize))
}

unsafe extern "C" fn table_fill(
    vmctx: *mut u8,
    table: u32,
    dst: u64,
    value: *mut u8,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let index = store.instances[instance].tables[table as usize];
    if store.tables[index].fill(dst, value as usize, len) {
        OK
    } else {
        TRAP
    }
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let data = &store.instances[instance];
    let (dst_index, src_index) = (
        data.tables[dst_table as usize],
        data.tables[src_table as usize],
    );
    let (Some(d), Some(s)) = (
        range(dst, len, store.tables[dst_index].size()),
        range(src, len, store.tables[src_index].size()),
    ) else {
        return TRAP;
    };
    if dst_index == src_index {
        store.tables[dst_index]
            .elements_mut()
            .copy_within(s, d.start);
    } else {
        let values: Vec<usize> = store.tables[src_index].elements()[s].to_vec();
        store.tables[dst_index].elements_mut()[d].copy_from_slice(&values);
    }
    OK
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let data = &store.instances[instance];
    let values: &[usize] = data.passive_elements[elem as usize]
        .as_deref()
        .unwrap_or(&[]);
    let index = data.tables[table as usize];
    let (Some(d), Some(s)) = (
        range(dst, u64::from(len), store.tables[index].size()),
        range(u64::from(src), u64::from(len), values.len() as u64),
    ) else {
        return TRAP;
    };
    let values = values[s].to_vec();
    store.tables[index].elements_mut()[d].copy_from_slice(&values);
    OK
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    store.instances[instance].passive_elements[elem as usize] = None;
}

/// Refuels the store from its reserve, if it has any; compiled code then
/// reloads the fuel and traps if there is still none. Reached through
/// `out_of_fuel_adapter`, which preserves every register.
unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: u32) -> *mut u8 {
    // SAFETY: called by compiled code with its own vmctx.
    let (store, instance) = unsafe { context(vmctx) };
    let index = store.instances[instance].tags[tag as usize];
    let definition: *const _ = &*store.tags[index].definition;
    store.new_exception(definition).cast()
}

unsafe extern "C" fn exn_release(vmctx: *mut u8, exn: *mut u8) {
    // SAFETY: called by compiled code with its own vmctx, in a catch
    // clause's landing block, with the live exception it landed with.
    unsafe {
        let (store, _) = context(vmctx);
        store.release_exception(exn.cast());
    }
}

/// The `throw` builtin as the table holds it: the `cljit_throw` stub,
/// which compiled code calls with the `tail` convention.
#[allow(
    non_upper_case_globals,
    reason = "named as the builtin, like the other table entries"
)]
const throw: unsafe extern "C" fn(*mut u8, *mut u8) = arch::cljit_throw;

unsafe extern "C" fn out_of_fuel_body(vmctx: *mut u8) {
    // SAFETY: called by compiled code (through the adapter) with its own
    // vmctx.
    let (store, _) = unsafe { context(vmctx) };
    store.refuel();
}

arch::preserve_all_adapter!(cljit_out_of_fuel_adapter => out_of_fuel_body);

/// The `out_of_fuel` builtin as the table holds it: the adapter, which
/// the `preserve_all` signature compiled code uses.
#[allow(
    non_upper_case_globals,
    reason = "named as the builtin, like the other table entries"
)]
const out_of_fuel: unsafe extern "C" fn(*mut u8) = cljit_out_of_fuel_adapter;

macro_rules! rust_type {
    (vmctx) => { *mut u8 };
    (i32) => { u32 };
    (i64) => { u64 };
    (pointer) => { *mut u8 };
}

/// The builtin table: one function pointer per builtin, in table order.
#[repr(transparent)]
struct BuiltinTable([*const (); Builtin::COUNT as usize]);

// SAFETY: the table holds addresses of functions; it is immutable.
unsafe impl Sync for BuiltinTable {}

macro_rules! define_table {
    ($( $(#[$attr:meta])* $name:ident( $($pname:ident: $pty:ident),* ) $(-> $rty:ident)?; )*) => {
        static BUILTINS: BuiltinTable = BuiltinTable([
            // Each cast checks the body's signature against the list.
            $( $name as unsafe extern "C" fn($(rust_type!($pty)),*) $(-> rust_type!($rty))? as *const (), )*
        ]);
    };
}

foreach_builtin_function!(define_table);

/// The address of the builtin table, stored in every vmctx.
pub(crate) fn builtin_table() -> *const *const () {
    BUILTINS.0.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_one_entry_per_builtin() {
        assert_eq!(BUILTINS.0.len(), Builtin::ALL.len());
        assert!(BUILTINS.0.iter().all(|p| !p.is_null()));
    }
}
