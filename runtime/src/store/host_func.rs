//! Host functions as the store holds them: a [`HostFuncContext`] (the
//! header compiled code reads, the function's type, its type-erased body),
//! and [`host_array_call`], the entry through which wasm reaches every one
//! of them.
//!
//! Host functions are reached from wasm through a compiled wasm-to-array
//! trampoline that calls [`host_array_call`]; that function catches the
//! host function's errors and panics, records them for the enclosing entry,
//! and returns a non-zero status, upon which the trampoline traps. No Rust
//! frame is ever unwound by a trap. The typed side (closures, `Caller`)
//! lives with the function handles, in `func/host.rs`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use cljit_compiler::abi::VmOffsets;
use cljit_compiler::types::FuncType;

use crate::error::Result;
use crate::store::StoreOpaque;
use crate::store::instance_data::InstanceData;
use crate::traps;
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::{VmHostFuncHeader, vmctx_read_ptr};

/// The fully erased body of a host function: the store (as the untyped
/// part of a `StoreInner<T>`), the calling instance when called from wasm,
/// and the value slots (parameters in, results out).
pub(crate) type ErasedHostFn =
    dyn Fn(*mut StoreOpaque, Option<usize>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function's context: the header compiled code reads, then the
/// function itself.
#[repr(C)]
pub(crate) struct HostFuncContext {
    pub(crate) header: VmHostFuncHeader,
    pub(crate) ty: FuncType,
    pub(crate) call: Box<ErasedHostFn>,
}

/// Layout of the vmctx header, which does not depend on a module.
fn header_offsets() -> VmOffsets {
    VmOffsets::new(
        u8::try_from(size_of::<usize>()).expect("pointer size fits in u8"),
        Default::default(),
    )
}

/// The status with which a host function throws the exception in its
/// first value slot (see `trampolines.rs` in the compiler).
const HOST_THROWS: u32 = cljit_compiler::abi::HOST_THROWS;

/// The array-call entry of every host function.
///
/// # Safety
///
/// Called only by compiled trampolines, with a host function context as
/// callee, a live instance vmctx as caller, and `len` valid value slots.
unsafe extern "C" fn host_array_call(
    callee_vmctx: *mut u8,
    caller_vmctx: *mut u8,
    _wasm_call: *const u8,
    values: *mut ValRaw,
    len: usize,
) -> u32 {
    let offsets = header_offsets();
    // SAFETY: the trampolines that call this pass a HostFuncContext as
    // callee_vmctx and an instance vmctx, whose store and instance fields
    // were written at instantiation, as caller_vmctx; `values` holds `len`
    // slots on the trampoline's frame.
    let (ctx, store, instance, values) = unsafe {
        let ctx = &*callee_vmctx.cast::<HostFuncContext>();
        let store = vmctx_read_ptr::<StoreOpaque>(caller_vmctx, offsets.vmctx_store());
        let instance = vmctx_read_ptr::<InstanceData>(caller_vmctx, offsets.vmctx_instance());
        let instance = (*instance).handle;
        let values = std::slice::from_raw_parts_mut(values, len);
        (ctx, store, instance, values)
    };
    match catch_unwind(AssertUnwindSafe(|| {
        (ctx.call)(store, Some(instance), values)
    })) {
        Ok(Ok(())) => 0,
        // An exception of this store is thrown into the calling wasm: the
        // trampoline passes it, from the first slot, to `throw`.
        Ok(Err(error))
            if let Some(raw) = error.as_exception().and_then(|e| {
                // SAFETY: `store` is the caller's live store (see above).
                e.raw(unsafe { &*store }).ok()
            }) =>
        {
            values[0] = ValRaw::pointer(raw);
            HOST_THROWS
        }
        Ok(Err(error)) => {
            traps::record_host_error(error);
            1
        }
        Err(payload) => {
            traps::record_host_panic(payload);
            1
        }
    }
}

/// The address of [`host_array_call`]: the `array_call` of every host
/// function's func ref, by which a func ref is recognised as a host one.
pub(crate) fn host_array_call_address() -> *const u8 {
    host_array_call as *const () as *const u8
}
