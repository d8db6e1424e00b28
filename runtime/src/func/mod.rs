//! Functions: the [`Func`] handle, shared by wasm and host functions.
//!
//! ```text
//!  mod.rs    Func: a checked pointer to a VmFuncRef (its type, its entry for wasm)
//!  call.rs   calls from the host into wasm: Func::call, call_raw
//!  typed.rs  statically typed views: WasmTy, WasmParams, TypedFunc
//!  host.rs   host functions: Func::new/wrap, IntoFunc, Caller
//! ```
//!
//! A function is a pointer to a `VmFuncRef`: inside an instance's vmctx for
//! wasm functions, inside a host function's context (owned by the store,
//! see `store/host_func.rs`) for host functions.

mod call;
mod host;
mod typed;

use std::ptr::NonNull;

use cljit_compiler::types::FuncType;

pub(crate) use self::call::call_raw;
pub use self::host::{Caller, IntoFunc, WasmRet, WithCaller};
pub(crate) use self::host::{HostFn, untyped_host_fn_arc};
pub use self::typed::{TypedFunc, WasmParams, WasmResults, WasmTy};

use crate::error::{Error, Result};
use crate::store::host_func::{HostFuncContext, host_array_call_address};
use crate::store::{AsContext, StoreId, StoreOpaque};
use crate::vm::vmcontext::VmFuncRef;

/// Calls `$mac` once per supported arity (0 to 12), with type names and
/// tuple indices (used by `typed.rs` and `host.rs`).
macro_rules! for_each_arity {
    ($mac:ident) => {
        $mac!();
        $mac!(A 0);
        $mac!(A 0, B 1);
        $mac!(A 0, B 1, C 2);
        $mac!(A 0, B 1, C 2, D 3);
        $mac!(A 0, B 1, C 2, D 3, E 4);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
        $mac!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
    };
}
use for_each_arity;

/// A function, in wasm or on the host, owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    store: StoreId,
    func_ref: NonNull<VmFuncRef>,
}

// SAFETY: the pointer is dereferenced only through its owning store (checked
// by id), which provides synchronisation.
unsafe impl Send for Func {}
// SAFETY: a shared `Func` only copies its id and pointer; the func ref is
// read only through its owning store, which synchronises access.
unsafe impl Sync for Func {}

impl Func {
    pub(crate) fn from_raw(store: StoreId, func_ref: NonNull<VmFuncRef>) -> Func {
        Func { store, func_ref }
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    fn check_store(&self, store: &StoreOpaque) -> Result<()> {
        if store.id() != self.store {
            return Err(Error::msg("function used with the wrong store"));
        }
        Ok(())
    }

    /// The `VmFuncRef` to hand to wasm, making sure a host function has a
    /// wasm-callable entry first.
    pub(crate) fn raw_func_ref(&self, store: &StoreOpaque) -> Result<*const VmFuncRef> {
        self.check_store(store)?;
        let ptr = self.func_ref.as_ptr();
        // SAFETY: the func ref lives as long as the store, which we checked.
        let func_ref = unsafe { &mut *ptr };
        if func_ref.wasm_call.is_null() && func_ref.array_call == host_array_call_address() {
            // SAFETY: a host function's vmctx is its HostFuncContext.
            let ctx = unsafe { &*func_ref.vmctx.cast::<HostFuncContext>() };
            let trampoline = store.engine().host_trampoline(func_ref.type_id, &ctx.ty)?;
            func_ref.wasm_call = trampoline as *const u8;
        }
        Ok(ptr)
    }

    /// The function's type.
    ///
    /// # Panics
    ///
    /// If the function belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        self.ty_in_store(store.as_context().opaque())
    }

    /// The function's type, given the untyped store.
    pub(crate) fn ty_in_store(&self, store: &StoreOpaque) -> FuncType {
        let type_id = self
            .type_id_in_store(store)
            .expect("function used with the wrong store");
        store.engine().signatures().lookup(type_id)
    }

    /// The id of the function's type in the store's engine.
    ///
    /// # Errors
    ///
    /// If the function belongs to another store.
    pub(crate) fn type_id_in_store(&self, store: &StoreOpaque) -> Result<u32> {
        self.check_store(store)?;
        // SAFETY: the func ref lives as long as the store, which we checked.
        Ok(unsafe { self.func_ref.as_ref() }.type_id)
    }

    /// For instantiation: the function's func ref, giving a host function
    /// that has no wasm entry yet the module's trampoline for its type.
    pub(crate) fn func_ref_for_import(
        &self,
        store: &StoreOpaque,
        trampoline: Option<usize>,
    ) -> Result<VmFuncRef> {
        self.check_store(store)?;
        let ptr = self.func_ref.as_ptr();
        // SAFETY: the func ref lives as long as the store, which we checked.
        let func_ref = unsafe { &mut *ptr };
        if let (true, Some(t)) = (func_ref.wasm_call.is_null(), trampoline) {
            func_ref.wasm_call = t as *const u8;
        }
        self.raw_func_ref(store)?;
        Ok(*func_ref)
    }
}
