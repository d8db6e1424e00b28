//! Host functions: Rust closures made callable from wasm ([`Func::new`],
//! [`Func::wrap`], [`IntoFunc`]), and [`Caller`], what a host function sees
//! of the store and instance that called it.
//!
//! A host function is stored type-erased in a `HostFuncContext` owned by
//! the store (`store/host_func.rs`); the closures here recover the typed
//! store from it and build the `Caller`.

use std::ptr::NonNull;
use std::sync::Arc;

use cljit_compiler::abi::vmoffsets::VM_HOST_FUNC_MAGIC;
use cljit_compiler::types::FuncType;

use super::Func;
use super::typed::{WasmParams, WasmResults, WasmTy};
use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::instance::Instance;
use crate::store::host_func::{ErasedHostFn, HostFuncContext, host_array_call_address};
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreInner};
use crate::values::Val;
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::{VmFuncRef, VmHostFuncHeader};

/// The body of a host function after type erasure of the store data: reads
/// parameters from and writes results to the value slots.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

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

    /// The fuel left in the store; see [`Store::get_fuel`](crate::Store::get_fuel).
    ///
    /// # Errors
    ///
    /// When the engine does not consume fuel.
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }

    /// Refuels the store; see [`Store::set_fuel`](crate::Store::set_fuel).
    ///
    /// # Errors
    ///
    /// When the engine does not consume fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel)
    }

    /// Moves the store's deadline; see
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline).
    ///
    /// # Errors
    ///
    /// When the engine does not check for interrupts.
    pub fn set_epoch_deadline(&mut self, ticks: u64) -> Result<()> {
        self.store.set_epoch_deadline(ticks)
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

impl<T> Caller<'_, T> {
    fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: self.store.as_context_mut(),
            instance: self.instance,
        }
    }
}

impl Func {
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
        let type_id = cx.opaque().engine().signatures().register(&ty);
        Func::from_registered_host_fn(cx, ty, type_id, host)
    }

    /// [`from_host_fn`](Func::from_host_fn) for a type already registered
    /// with the store's engine as `type_id` (a linker's definitions are).
    pub(crate) fn from_registered_host_fn<T: 'static>(
        cx: &mut StoreContextMut<'_, T>,
        ty: FuncType,
        type_id: u32,
        host: Arc<HostFn<T>>,
    ) -> Func {
        let store = cx.opaque_mut();
        let call: Box<ErasedHostFn> = Box::new(move |store, instance, values| {
            // SAFETY: `store` is the StoreOpaque at the start of a live
            // `StoreInner<T>` (the host function was created in a store of
            // data type T, and is only called with that store).
            let inner = unsafe { &mut *store.cast::<StoreInner<T>>() };
            let id = inner.opaque.id();
            // The call is a root scope: handles made for its parameters or
            // during it end when it returns (its results are converted
            // before).
            let roots = inner.opaque.gc.roots.len();
            let caller = Caller {
                store: StoreContextMut(&mut *inner),
                instance: instance.map(|index| Instance::from_index(id, index)),
            };
            let result = host(caller, values);
            inner.opaque.gc.roots.truncate(roots);
            result
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
            if !r.matches(store, t) {
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

super::for_each_arity!(into_func);
