//! Calls from the host into wasm: [`Func::call`] with dynamically typed
//! values, and [`call_raw`], the one entry every host-to-wasm call goes
//! through (typed calls, the start function).

use cljit_compiler::abi::Trap;

use super::Func;
use crate::arch::{self, EntryArgs};
use crate::error::{Error, Result, WasmBacktrace};
use crate::store::host_func::{HostFuncContext, host_array_call_address};
use crate::store::{AsContextMut, StoreContextMut, StoreOpaque};
use crate::traps;
use crate::values::Val;
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::VmFuncRef;

impl Func {
    /// Calls the function with `params`, writing `results`.
    ///
    /// # Errors
    ///
    /// A trap, an error from a host function, or arguments that do not
    /// match the function's type.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let mut cx = store.as_context_mut();
        self.check_store(cx.opaque())?;
        let ty = self.ty(&cx);
        if params.len() != ty.params().len() {
            return Err(Error::msg(format!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            )));
        }
        for (i, (p, &t)) in params.iter().zip(ty.params()).enumerate() {
            if !p.matches(cx.opaque(), t) {
                return Err(Error::msg(format!(
                    "argument {i} has type {}, expected {t}",
                    p.ty()
                )));
            }
        }
        if results.len() != ty.results().len() {
            return Err(Error::msg(format!(
                "expected {} result slots, got {}",
                ty.results().len(),
                results.len()
            )));
        }
        let mut values = vec![ValRaw::default(); params.len().max(results.len())];
        for (slot, p) in values.iter_mut().zip(params) {
            *slot = p.to_raw(cx.opaque())?;
        }
        let func_ref = self.raw_func_ref(cx.opaque())?;
        // SAFETY: the func ref belongs to this store (checked above) and the
        // slots hold arguments of its type.
        unsafe { call_raw(&mut cx, func_ref, &mut values)? };
        for ((r, &t), raw) in results.iter_mut().zip(ty.results()).zip(&values) {
            // SAFETY: the callee wrote results of its declared types, made
            // in this store.
            *r = unsafe { Val::from_raw(*raw, t, cx.opaque()) };
        }
        Ok(())
    }
}

/// Calls a func ref with arguments (and room for results) in `values`.
///
/// # Safety
///
/// `func_ref` must belong to the store of `cx`, and `values` must hold
/// arguments of its type and room for its results.
pub(crate) unsafe fn call_raw<T>(
    cx: &mut StoreContextMut<'_, T>,
    func_ref: *const VmFuncRef,
    values: &mut [ValRaw],
) -> Result<()> {
    // SAFETY: per the contract, the func ref is live.
    let f = unsafe { *func_ref };
    let store = cx.as_raw();
    if f.array_call == host_array_call_address() {
        // A host function called from the host: no wasm in between.
        // SAFETY: a host function's vmctx is its HostFuncContext.
        let ctx = unsafe { &*f.vmctx.cast::<HostFuncContext>() };
        return (ctx.call)(store.cast::<StoreOpaque>(), None, values);
    }
    // SAFETY: `store` is the live store of `cx`; from here on only the raw
    // pointer is used, so host functions called from wasm may borrow it.
    let (limits, max_stack, interrupted) = unsafe {
        let opaque = &mut (*store).opaque;
        (
            opaque.limits_ptr(),
            opaque.engine().config().max_wasm_stack,
            opaque.is_interrupted(),
        )
    };
    // A store past its deadline runs nothing, whatever the function (one
    // that neither loops nor calls has no check of its own).
    if interrupted {
        return Err(Error::trap(Trap::Interrupt, WasmBacktrace::default()));
    }
    let args = EntryArgs {
        array_call: f.array_call,
        callee_vmctx: f.vmctx,
        caller_vmctx: f.vmctx,
        wasm_call: f.wasm_call,
        values: values.as_mut_ptr().cast(),
        values_len: values.len(),
    };
    // SAFETY: the entry arguments describe a wasm function of this store,
    // whose limits we pass; the jump buffer comes from catch_traps.
    unsafe { traps::catch_traps(limits, max_stack, |buf| arch::enter(buf, &args)) }
}
