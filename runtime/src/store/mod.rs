//! Stores: the owners of everything instances create and use.
//!
//! ```text
//!  handles (Instance, Func, Memory, Table, Global, ExternRef, Caller)
//!        │ index / pointer, checked by StoreId
//!        ▼
//!  Store<T> = StoreInner { StoreOpaque, T }
//!        │ owns
//!        ▼
//!  InstanceData  HostFuncContext  LinearMemory  TableStorage  GlobalSlot  ExternData
//! ```
//!
//! Everything a store owns is defined here or below (`instance_data.rs`,
//! `host_func.rs`, `memory/`, `vm/`), never in the handle files, so the
//! store and the runtime entry points compiled code calls need nothing of
//! the handles.
//!
//! A [`Store`] owns instances, memories, tables, globals, host functions and
//! host references; handles ([`Instance`](crate::Instance),
//! [`Memory`](crate::Memory), ...) are small copyable indices tagged with
//! the store's id, and are checked against the store on use. Nothing is
//! freed before the store is dropped, so a handle never dangles.
//!
//! Compiled code reaches the store through a raw pointer in each vmctx
//! (`StoreOpaque` is the first field of the `#[repr(C)]` `StoreInner<T>`), so
//! host functions called from wasm can recover the typed store.

pub(crate) mod host_func;
pub(crate) mod id;
pub(crate) mod instance_data;
mod limits;

use std::any::Any;

use cljit_compiler::types::GlobalType;

use self::host_func::HostFuncContext;
pub use self::id::StoreId;
use self::instance_data::InstanceData;
use self::limits::LimitsState;
use crate::engine::Engine;
use crate::error::Result;
use crate::limits::ResourceLimiter;
use crate::memory::shared::StoreMemory;
use crate::module::Module;
use crate::vm::exn::{ExnSlot, TagSlot};
use crate::vm::table::TableStorage;
use crate::vm::vmcontext::{VmGlobalDefinition, VmRuntimeLimits};

/// A global's storage: inside an instance's vmctx, or owned here.
pub(crate) struct GlobalSlot {
    pub(crate) ty: GlobalType,
    pub(crate) definition: *mut VmGlobalDefinition,
    pub(crate) _owned: Option<Box<VmGlobalDefinition>>,
}

/// The host value behind an `externref`, owned by the store. It starts
/// with the header compiled code reads to tell it from a struct or array
/// when it is seen as an `anyref` (see `cljit_compiler::abi::gc`).
#[repr(C)]
pub(crate) struct ExternData {
    pub(crate) header: crate::gc::GcHeader,
    pub(crate) value: Box<dyn Any + Send + Sync>,
}

/// The untyped part of a store.
pub struct StoreOpaque {
    id: StoreId,
    engine: Engine,
    pub(crate) limits: Box<VmRuntimeLimits>,
    #[allow(
        clippy::vec_box,
        reason = "compiled code and handles hold raw pointers into these; boxes keep them stable"
    )]
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) memories: Vec<StoreMemory>,
    pub(crate) tables: Vec<TableStorage>,
    pub(crate) globals: Vec<GlobalSlot>,
    /// Exception tags; compiled code holds pointers to their boxed
    /// definitions.
    pub(crate) tags: Vec<TagSlot>,
    /// Exceptions thrown or made here, until a catch clause or the
    /// collector (`exn_collect.rs`) frees them.
    pub(crate) exceptions: Vec<ExnSlot>,
    /// How many exceptions trigger the next collection (never fewer than
    /// `exn_collect::COLLECT_MIN`).
    pub(crate) exn_collect_at: usize,
    #[allow(
        clippy::vec_box,
        reason = "compiled code and handles hold raw pointers into these; boxes keep them stable"
    )]
    pub(crate) host_funcs: Vec<Box<HostFuncContext>>,
    #[allow(
        clippy::vec_box,
        reason = "compiled code and handles hold raw pointers into these; boxes keep them stable"
    )]
    pub(crate) externs: Vec<Box<ExternData>>,
    /// Modules whose code this store's functions may point into (including
    /// trampolines given to host functions), kept alive with the store.
    modules: Vec<Module>,
    /// Fuel reserve, epoch deadline and limiter (see `limits.rs`).
    limits_state: LimitsState,
    /// Structs and arrays (see `gc/heap.rs`).
    pub(crate) gc: crate::gc::GcHeap,
}

// SAFETY: the raw pointers inside (vmctx fields, global definitions) point
// into allocations owned by this store; moving the store to another thread
// moves their ownership with it. Host data must be Send (checked on Store<T>).
unsafe impl Send for StoreOpaque {}

impl std::fmt::Debug for StoreOpaque {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOpaque")
            .field("id", &self.id)
            .field("instances", &self.instances.len())
            .field("memories", &self.memories.len())
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl StoreOpaque {
    /// The store's id.
    pub fn id(&self) -> StoreId {
        self.id
    }

    /// The engine this store uses.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits compiled code reads (stack limit).
    pub(crate) fn limits_ptr(&mut self) -> *mut VmRuntimeLimits {
        &mut *self.limits
    }

    /// The data of instance `index`.
    pub(crate) fn instance(&self, index: usize) -> &InstanceData {
        &self.instances[index]
    }

    /// Keeps `module`'s code alive as long as the store.
    pub(crate) fn retain_module(&mut self, module: &Module) {
        if !self.modules.iter().any(|m| Module::same(m, module)) {
            self.modules.push(module.clone());
        }
    }
}

/// What [`Store::limiter`] installs: the way from the host data to its
/// [`ResourceLimiter`].
type LimiterAccessor<T> = Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync>;

/// The typed store: the opaque part first, then the embedder's data.
#[repr(C)]
pub(crate) struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
    limiter: Option<LimiterAccessor<T>>,
}

/// All the state of a set of instances, plus host data `T` that host
/// functions can reach.
pub struct Store<T> {
    inner: Box<StoreInner<T>>,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.opaque.fmt(f)
    }
}

impl<T> Store<T> {
    /// Creates an empty store on `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let (limits_state, interrupt_page) = LimitsState::new(engine);
        let gc = crate::gc::GcHeap::default();
        let limits = Box::new(VmRuntimeLimits {
            interrupt_page,
            gc_free: gc.free_heads(),
            ..VmRuntimeLimits::default()
        });
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    id: StoreId::allocate(),
                    engine: engine.clone(),
                    limits,
                    instances: Vec::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    tags: Vec::new(),
                    exceptions: Vec::new(),
                    exn_collect_at: 0,
                    gc,
                    host_funcs: Vec::new(),
                    externs: Vec::new(),
                    modules: Vec::new(),
                    limits_state,
                },
                data,
                limiter: None,
            }),
        }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Collects the store's GC heap now: frees every struct and array
    /// that no table, global, element segment, exception, live wasm frame
    /// or host handle reaches. Returns the bytes freed.
    pub fn gc(&mut self) -> usize {
        self.inner.opaque.collect_garbage()
    }

    /// How many bytes the store's GC heap takes, and how many collections
    /// it has run.
    pub fn gc_heap_stats(&self) -> (usize, u64) {
        let heap = &self.inner.opaque.gc;
        (heap.footprint(), heap.collections)
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        let inner = *self.inner;
        inner.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        self.inner.opaque.engine()
    }

    /// Sets the fuel left to `fuel`: compiled code charges it as it runs
    /// and traps with `all fuel consumed by WebAssembly` when none is
    /// left. A new store has none. The fuel a call consumed is the
    /// difference of [`Store::get_fuel`] before and after it.
    ///
    /// # Errors
    ///
    /// When the engine was not configured with
    /// [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.set_fuel(fuel)
    }

    /// The fuel left.
    ///
    /// # Errors
    ///
    /// As [`Store::set_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.get_fuel()
    }

    /// Sets the store's deadline `ticks` epochs (calls of
    /// [`Engine::increment_epoch`]) from now: once the engine's epoch
    /// reaches it, running code traps with `interrupt` at its next function
    /// entry or loop header. A new store's deadline has passed already, so
    /// its code traps until this is called.
    ///
    /// # Errors
    ///
    /// When the engine was not configured with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption).
    pub fn set_epoch_deadline(&mut self, ticks: u64) -> Result<()> {
        self.inner.opaque.set_epoch_deadline(ticks)
    }

    /// Installs a [`ResourceLimiter`], reached from the host data through
    /// `limiter`: it is asked before memories and tables grow and before
    /// instances, memories and tables are created (for example a
    /// [`StoreLimits`](crate::StoreLimits) kept in the data).
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.limiter = Some(Box::new(limiter));
        self.inner.opaque.install_limiter::<T>();
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<'a, T> StoreContext<'a, T> {
    /// The untyped store.
    pub(crate) fn opaque(&self) -> &'a StoreOpaque {
        &self.0.opaque
    }

    /// The host data.
    pub fn data(&self) -> &'a T {
        &self.0.data
    }

    /// The engine.
    pub fn engine(&self) -> &'a Engine {
        self.0.opaque.engine()
    }
}

impl<T> StoreContextMut<'_, T> {
    /// Collects the store's GC heap, as [`Store::gc`] does.
    pub fn gc(&mut self) -> usize {
        self.0.opaque.collect_garbage()
    }

    /// The untyped store.
    pub(crate) fn opaque(&self) -> &StoreOpaque {
        &self.0.opaque
    }

    /// The untyped store, mutably.
    pub(crate) fn opaque_mut(&mut self) -> &mut StoreOpaque {
        &mut self.0.opaque
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        self.0.opaque.engine()
    }

    /// A raw pointer to the typed store, for entering wasm.
    pub(crate) fn as_raw(&mut self) -> *mut StoreInner<T> {
        self.0
    }

    /// As [`Store::set_fuel`], from a host function or any borrow of the
    /// store.
    ///
    /// # Errors
    ///
    /// As [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.0.opaque.set_fuel(fuel)
    }

    /// As [`Store::get_fuel`].
    ///
    /// # Errors
    ///
    /// As [`Store::set_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.opaque.get_fuel()
    }

    /// As [`Store::set_epoch_deadline`].
    ///
    /// # Errors
    ///
    /// As [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks: u64) -> Result<()> {
        self.0.opaque.set_epoch_deadline(ticks)
    }
}

/// Anything that can lend a store for reading.
pub trait AsContext {
    /// The store's host data type.
    type Data;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that can lend a store for writing.
pub trait AsContextMut: AsContext {
    /// Borrows the store exclusively.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a Store<T>) -> StoreContext<'a, T> {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContext<'a, T> {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContextMut<'a, T> {
        StoreContextMut(&mut store.inner)
    }
}

impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(cx: StoreContextMut<'a, T>) -> StoreContext<'a, T> {
        StoreContext(cx.0)
    }
}

impl<'a, T> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(cx: &'a StoreContextMut<'_, T>) -> StoreContext<'a, T> {
        StoreContext(cx.0)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContextMut<'a, T> {
    fn from(cx: &'a mut StoreContextMut<'_, T>) -> StoreContextMut<'a, T> {
        StoreContextMut(cx.0)
    }
}

impl<S: AsContext + ?Sized> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContext + ?Sized> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        (**self).as_context_mut()
    }
}
