//! Functions: handles to wasm or host functions, host functions themselves,
//! [`Caller`] (what a host function sees of its caller), and calls from the
//! host into wasm.
//!
//! A function is a pointer to a `VmFuncRef`: inside an instance's vmctx for
//! wasm functions, inside a [`HostFuncContext`] for host functions. Host
//! functions are reached from wasm through a compiled wasm-to-array
//! trampoline that calls [`host_array_call`]; that function catches the host
//! function's errors and panics, records them for the enclosing entry, and
//! returns a non-zero status, upon which the trampoline traps. No Rust frame
//! is ever unwound by a trap.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Arc;

use cljit_compiler::abi::VmOffsets;
use cljit_compiler::abi::vmoffsets::VM_HOST_FUNC_MAGIC;
use cljit_compiler::types::{FuncType, ValType};

use crate::arch::{self, EntryArgs};
use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::instance::{Instance, InstanceData};
use crate::store::{
    AsContext, AsContextMut, StoreContext, StoreContextMut, StoreId, StoreInner, StoreOpaque,
};
use crate::traps;
use crate::values::{V128, Val, ValRaw};
use crate::vm::vmcontext::{VmFuncRef, VmHostFuncHeader, vmctx_read_ptr};

/// A function, in wasm or on the host, owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Func {
    store: StoreId,
    func_ref: NonNull<VmFuncRef>,
}

// SAFETY: the pointer is dereferenced only through its owning store (checked
// by id), which provides synchronisation.
unsafe impl Send for Func {}
// SAFETY: as above.
unsafe impl Sync for Func {}

/// The body of a host function after type erasure of the store data: reads
/// parameters from and writes results to the value slots.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// The fully erased body stored in a [`HostFuncContext`].
type ErasedHostFn =
    dyn Fn(*mut StoreOpaque, Option<usize>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function's context: the header compiled code reads, then the
/// function itself.
#[repr(C)]
pub(crate) struct HostFuncContext {
    header: VmHostFuncHeader,
    ty: FuncType,
    call: Box<ErasedHostFn>,
}

/// Layout of the vmctx header, which does not depend on a module.
fn header_offsets() -> VmOffsets {
    VmOffsets::new(
        u8::try_from(size_of::<usize>()).expect("pointer size fits in u8"),
        Default::default(),
    )
}

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
    // SAFETY: per the contract, callee_vmctx is a HostFuncContext and
    // caller_vmctx an instance vmctx whose store and instance fields are set.
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

fn host_array_call_address() -> *const u8 {
    host_array_call as *const () as *const u8
}

/// What a host function sees of its caller: the store and, when called
/// from wasm, the calling instance.
pub struct Caller<'a, T> {
    store: StoreContextMut<'a, T>,
    instance: Option<Instance>,
}

impl<T> std::fmt::Debug for Caller<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl<T> Caller<'_, T> {
    /// The host data of the store.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The host data of the store, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The engine.
    pub fn engine(&self) -> &crate::Engine {
        self.store.engine()
    }

    /// An export of the calling instance (typically its `memory`).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        instance.get_export(&mut self.store, name)
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a Caller<'_, T>) -> StoreContext<'a, T> {
        StoreContext(caller.store.0)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContextMut<'a, T> {
        StoreContextMut(caller.store.0)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContext<'a, T> {
        StoreContext(caller.store.0)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        self.store.as_context()
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        self.store.as_context_mut()
    }
}

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
        let cx = store.as_context();
        let opaque = cx.opaque();
        self.check_store(opaque)
            .expect("function used with the wrong store");
        // SAFETY: the func ref lives as long as the store, which we checked.
        let type_id = unsafe { self.func_ref.as_ref() }.type_id;
        opaque.engine().signatures().lookup(type_id)
    }

    /// Creates a host function of type `ty`. `func` receives the parameters
    /// and must fill `results` with values of the result types.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = untyped_host_fn_arc(ty.clone(), func);
        Func::from_host_fn(&mut store.as_context_mut(), ty, host)
    }

    /// Creates a host function from a Rust closure whose parameter and
    /// result types give the wasm type, optionally taking a [`Caller`] first.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host_fn();
        Func::from_host_fn(&mut store.as_context_mut(), ty, host)
    }

    /// Registers a type-erased host function in the store.
    pub(crate) fn from_host_fn<T: 'static>(
        cx: &mut StoreContextMut<'_, T>,
        ty: FuncType,
        host: Arc<HostFn<T>>,
    ) -> Func {
        let store = cx.opaque_mut();
        let type_id = store.engine().signatures().register(&ty);
        let call: Box<ErasedHostFn> = Box::new(move |store, instance, values| {
            // SAFETY: `store` is the StoreOpaque at the start of a live
            // `StoreInner<T>` (the host function was created in a store of
            // data type T, and is only called with that store).
            let inner = unsafe { &mut *store.cast::<StoreInner<T>>() };
            let id = inner.opaque.id();
            let caller = Caller {
                store: StoreContextMut(inner),
                instance: instance.map(|index| Instance::from_index(id, index)),
            };
            host(caller, values)
        });
        let mut ctx = Box::new(HostFuncContext {
            header: VmHostFuncHeader {
                magic: VM_HOST_FUNC_MAGIC,
                func_ref: VmFuncRef {
                    wasm_call: std::ptr::null(),
                    array_call: host_array_call_address(),
                    vmctx: std::ptr::null_mut(),
                    type_id,
                },
            },
            ty,
            call,
        });
        let self_ptr: *mut HostFuncContext = &mut *ctx;
        ctx.header.func_ref.vmctx = self_ptr.cast();
        let func_ref = NonNull::from(&mut ctx.header.func_ref);
        store.host_funcs.push(ctx);
        Func {
            store: store.id(),
            func_ref,
        }
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
            if p.ty() != t {
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

    /// A typed view of the function.
    ///
    /// # Errors
    ///
    /// If the function's type differs from `Params -> Results`.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let cx = store.as_context();
        self.check_store(cx.opaque())?;
        let ty = self.ty(&cx);
        let want = FuncType::new(Params::types(), Results::types());
        if ty != want {
            return Err(Error::msg(format!(
                "function type mismatch: the function is {ty}, requested {want}"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: std::marker::PhantomData,
        })
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
    let (limits, max_stack) = unsafe {
        let opaque = &mut (*store).opaque;
        (opaque.limits_ptr(), opaque.engine().config().max_wasm_stack)
    };
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

/// Wraps an untyped closure as a shareable host function body.
pub(crate) fn untyped_host_fn_arc<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn<T>> {
    Arc::new(untyped_host_fn(ty, func))
}

fn untyped_host_fn<T>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> impl Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync + 'static {
    move |mut caller: Caller<'_, T>, values: &mut [ValRaw]| {
        let params: Vec<Val> = {
            let store = caller.store.opaque();
            ty.params()
                .iter()
                .zip(values.iter())
                // SAFETY: wasm passed values of the declared types, made in
                // this store.
                .map(|(&t, &raw)| unsafe { Val::from_raw(raw, t, store) })
                .collect()
        };
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        func(caller.reborrow(), &params, &mut results)?;
        let store = caller.store.opaque();
        for (i, (r, &t)) in results.iter().zip(ty.results()).enumerate() {
            if r.ty() != t {
                return Err(Error::msg(format!(
                    "host function returned {} for result {i}, expected {t}",
                    r.ty()
                )));
            }
            values[i] = r.to_raw(store)?;
        }
        Ok(())
    }
}

impl<T> Caller<'_, T> {
    fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: self.store.as_context_mut(),
            instance: self.instance,
        }
    }
}

/// A Rust type that is a wasm value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// Reads the value from a slot.
    fn from_raw(raw: ValRaw) -> Self;
    /// Writes the value to a slot.
    fn into_raw(self) -> ValRaw;
}

macro_rules! wasm_ty {
    ($($ty:ty => $vt:ident, $get:ident, $make:ident, $as:ty);* $(;)?) => {
        $(
            impl WasmTy for $ty {
                fn valtype() -> ValType {
                    ValType::$vt
                }
                fn from_raw(raw: ValRaw) -> Self {
                    raw.$get() as $ty
                }
                fn into_raw(self) -> ValRaw {
                    ValRaw::$make(self as $as)
                }
            }
        )*
    };
}

wasm_ty! {
    i32 => I32, get_i32, i32, i32;
    u32 => I32, get_i32, i32, i32;
    i64 => I64, get_i64, i64, i64;
    u64 => I64, get_i64, i64, i64;
}

impl WasmTy for f32 {
    fn valtype() -> ValType {
        ValType::F32
    }
    fn from_raw(raw: ValRaw) -> Self {
        f32::from_bits(raw.get_i32() as u32)
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::i32(self.to_bits() as i32)
    }
}

impl WasmTy for f64 {
    fn valtype() -> ValType {
        ValType::F64
    }
    fn from_raw(raw: ValRaw) -> Self {
        f64::from_bits(raw.get_i64() as u64)
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::i64(self.to_bits() as i64)
    }
}

impl WasmTy for V128 {
    fn valtype() -> ValType {
        ValType::V128
    }
    fn from_raw(raw: ValRaw) -> Self {
        V128::from(raw.get_v128())
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::v128(self.as_u128())
    }
}

/// Parameter lists of typed functions: tuples of [`WasmTy`].
pub trait WasmParams: Send + Sync + 'static {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Writes the values to slots.
    fn store(self, values: &mut [ValRaw]);
    /// Reads the values from slots.
    fn load(values: &[ValRaw]) -> Self;
}

/// Result lists of typed functions: `()`, a [`WasmTy`], or a tuple.
pub trait WasmResults: WasmParams {}

impl<P: WasmParams> WasmResults for P {}

impl<A: WasmTy> WasmParams for A {
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store(self, values: &mut [ValRaw]) {
        values[0] = self.into_raw();
    }
    fn load(values: &[ValRaw]) -> Self {
        A::from_raw(values[0])
    }
}

/// Calls `$mac` once per supported arity (0 to 12), with type names and
/// tuple indices.
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

macro_rules! wasm_params_tuple {
    ($($a:ident $i:tt),*) => {
        impl<$($a: WasmTy),*> WasmParams for ($($a,)*) {
            fn types() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            #[allow(unused_variables, reason = "empty tuples ignore the slots")]
            fn store(self, values: &mut [ValRaw]) {
                $( values[$i] = self.$i.into_raw(); )*
            }
            #[allow(unused_variables, clippy::unused_unit, reason = "empty tuples ignore the slots")]
            fn load(values: &[ValRaw]) -> Self {
                ($( $a::from_raw(values[$i]), )*)
            }
        }
    };
}

for_each_arity!(wasm_params_tuple);

/// What a typed host closure returns: results, or a result of them.
pub trait WasmRet: Send + Sync + 'static {
    /// The results' type.
    type Results: WasmResults;
    /// Converts to a result.
    fn into_result(self) -> Result<Self::Results>;
}

impl<R: WasmResults> WasmRet for R {
    type Results = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmResults> WasmRet for Result<R> {
    type Results = R;
    fn into_result(self) -> Result<R> {
        self
    }
}

/// Marker for closures that take a [`Caller`] first.
#[derive(Debug)]
pub struct WithCaller;

/// Rust closures usable as host functions: `Fn(A1, .., An) -> R` or
/// `Fn(Caller<T>, A1, .., An) -> R`, where the `Ai` are [`WasmTy`] and `R` is
/// a [`WasmRet`].
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function type and the erased body.
    fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>);
}

macro_rules! into_func {
    ($($a:ident $i:tt),*) => {
        impl<T, Fun, R, $($a: WasmTy),*> IntoFunc<T, ($($a,)*), R> for Fun
        where
            Fun: Fn($($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(<($($a,)*) as WasmParams>::types(), R::Results::types());
                let f = move |_caller: Caller<'_, T>, values: &mut [ValRaw]| -> Result<()> {
                    let results = self($($a::from_raw(values[$i])),*).into_result()?;
                    results.store(values);
                    Ok(())
                };
                (ty, Arc::new(f))
            }
        }

        impl<T, Fun, R, $($a: WasmTy),*> IntoFunc<T, (WithCaller, $($a,)*), R> for Fun
        where
            Fun: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(<($($a,)*) as WasmParams>::types(), R::Results::types());
                let f = move |caller: Caller<'_, T>, values: &mut [ValRaw]| -> Result<()> {
                    let results = self(caller, $($a::from_raw(values[$i])),*).into_result()?;
                    results.store(values);
                    Ok(())
                };
                (ty, Arc::new(f))
            }
        }
    };
}

for_each_arity!(into_func);

/// A function whose type is known statically.
#[derive(Debug)]
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: std::marker::PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Calls the function.
    ///
    /// # Errors
    ///
    /// A trap or a host function's error.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let mut cx = store.as_context_mut();
        let n = Params::types().len().max(Results::types().len());
        let mut values = vec![ValRaw::default(); n];
        params.store(&mut values);
        let func_ref = self.func.raw_func_ref(cx.opaque())?;
        // SAFETY: the function has type Params -> Results (checked when this
        // TypedFunc was made) and belongs to this store.
        unsafe { call_raw(&mut cx, func_ref, &mut values)? };
        Ok(Results::load(&values))
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}
