//! The store's limits state: fuel, its epoch deadline, and the resource
//! limiter, with the checks that consult them.
//!
//! !!! This file bounds untrusted guests. Changes need a second reviewer. !!!
//!
//! Fuel and the interrupt page live where compiled code reads them (the
//! store's `VmRuntimeLimits`); what compiled code does not read is here:
//! the fuel held in reserve beyond the `i64` counter, the store's place in
//! the engine's deadline list, and the hook that reaches the embedder's
//! [`ResourceLimiter`] inside the typed store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cljit_compiler::types::{MemoryType, TableType, WASM_PAGE_BYTES};

use super::{StoreInner, StoreOpaque};
use crate::engine::Engine;
use crate::epoch::InterruptPage;
use crate::error::{Error, Result};
use crate::limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter,
};

/// Calls a closure with the embedder's limiter of a typed store.
type LimiterHook = unsafe fn(*mut StoreOpaque, &mut dyn FnMut(&mut dyn ResourceLimiter));

/// What a store keeps for its limits, beside `VmRuntimeLimits`.
#[derive(Default)]
pub(crate) struct LimitsState {
    /// Fuel beyond what the `i64` counter holds.
    fuel_reserve: u64,
    /// The store's interrupt page and deadline, when epochs are on.
    interrupt: Option<StoreInterrupt>,
    /// Reaches the limiter installed with `Store::limiter`.
    limiter: Option<LimiterHook>,
}

/// A store's interrupt page and its entry in the engine's deadline list.
struct StoreInterrupt {
    engine: Engine,
    page: Arc<InterruptPage>,
    serial: u64,
    slot: Option<(u64, u64)>,
}

impl Drop for StoreInterrupt {
    fn drop(&mut self) {
        self.engine.epochs().remove(&mut self.slot);
    }
}

impl LimitsState {
    /// The state of a new store of `engine`: with an interrupt page (its
    /// deadline already passed, as in wasmtime) when the engine's code
    /// checks for interrupts. If the page cannot be mapped, the pointer
    /// stays null and every check faults: the store's code traps with
    /// `Interrupt` instead of running unbounded.
    pub(crate) fn new(engine: &Engine) -> (LimitsState, *const u8) {
        static SERIAL: AtomicU64 = AtomicU64::new(1);
        let mut state = LimitsState::default();
        let mut page_ptr = std::ptr::null();
        if engine.config().tunables().epoch_interruption
            && let Ok(page) = InterruptPage::from_pool(engine.interrupt_pages())
        {
            page_ptr = page.as_ptr();
            state.interrupt = Some(StoreInterrupt {
                engine: engine.clone(),
                page: Arc::new(page),
                serial: SERIAL.fetch_add(1, Ordering::Relaxed),
                slot: None,
            });
        }
        (state, page_ptr)
    }
}

/// The hook for a store of data type `T`.
///
/// # Safety
///
/// `store` must point at the `StoreOpaque` that begins a live
/// `StoreInner<T>` (it is its first field, and the struct is `repr(C)`),
/// and nothing may use that store's `data` or `limiter` fields during the
/// call.
unsafe fn call_limiter<T>(store: *mut StoreOpaque, f: &mut dyn FnMut(&mut dyn ResourceLimiter)) {
    let inner = store.cast::<StoreInner<T>>();
    // SAFETY: `inner` is a live StoreInner<T> (the function's contract); the
    // two fields borrowed here are disjoint from the opaque part the caller
    // holds, and nothing else touches them during the call.
    let (limiter, data) = unsafe {
        (
            &mut *std::ptr::addr_of_mut!((*inner).limiter),
            &mut *std::ptr::addr_of_mut!((*inner).data),
        )
    };
    if let Some(limiter) = limiter {
        f(limiter(data));
    }
}

impl StoreOpaque {
    /// The store's interrupt page, when its engine checks epochs.
    pub(crate) fn interrupt_page(&self) -> Option<&InterruptPage> {
        self.limits_state.interrupt.as_ref().map(|i| &*i.page)
    }

    /// Installs the hook that reaches a limiter stored in `StoreInner<T>`.
    pub(crate) fn install_limiter<T>(&mut self) {
        self.limits_state.limiter = Some(call_limiter::<T>);
        if let Some(bytes) = self.with_limiter(|l| l.gc_heap_size()) {
            self.gc.set_limit(bytes);
        }
    }

    /// Runs `f` with the store's limiter, if one is installed.
    fn with_limiter<R>(&mut self, f: impl FnOnce(&mut dyn ResourceLimiter) -> R) -> Option<R> {
        let hook = self.limits_state.limiter?;
        let mut f = Some(f);
        let mut out = None;
        let store: *mut StoreOpaque = self;
        // SAFETY: the hook was installed by `Store::limiter` for this
        // store's data type, and this store is the opaque part of that
        // `StoreInner<T>`; `f` touches neither the store's data nor its
        // limiter closure.
        unsafe {
            hook(store, &mut |limiter| {
                if let Some(f) = f.take() {
                    out = Some(f(limiter));
                }
            })
        };
        out
    }

    fn fuel_enabled(&self) -> Result<()> {
        if self.engine().config().tunables().consume_fuel {
            Ok(())
        } else {
            Err(Error::msg(
                "fuel is not configured in this store (enable `Config::consume_fuel`)",
            ))
        }
    }

    /// Sets the fuel left to `fuel`.
    ///
    /// # Errors
    ///
    /// When the engine does not consume fuel.
    pub(crate) fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.fuel_enabled()?;
        let active = fuel.min(i64::MAX.unsigned_abs());
        self.limits_state.fuel_reserve = fuel - active;
        self.limits.fuel_consumed = -i64::try_from(active).expect("at most i64::MAX");
        Ok(())
    }

    /// The fuel left.
    ///
    /// # Errors
    ///
    /// When the engine does not consume fuel.
    pub(crate) fn get_fuel(&self) -> Result<u64> {
        self.fuel_enabled()?;
        let active = self.limits.fuel_consumed;
        let active = if active < 0 { active.unsigned_abs() } else { 0 };
        Ok(self.limits_state.fuel_reserve.saturating_add(active))
    }

    /// Compiled code ran out of fuel: moves the reserve into the counter.
    /// Returns whether there is fuel again.
    pub(crate) fn refuel(&mut self) -> bool {
        let reserve = self.limits_state.fuel_reserve;
        if reserve == 0 {
            return false;
        }
        let inject = reserve.min(i64::MAX.unsigned_abs());
        self.limits_state.fuel_reserve = reserve - inject;
        let inject = i64::try_from(inject).expect("at most i64::MAX");
        self.limits.fuel_consumed = self.limits.fuel_consumed.saturating_sub(inject);
        self.limits.fuel_consumed < 0
    }

    /// Whether the store's deadline has passed (never, without epochs).
    pub(crate) fn is_interrupted(&self) -> bool {
        self.limits_state
            .interrupt
            .as_ref()
            .is_some_and(|i| i.page.is_interrupted())
    }

    /// Sets the store's deadline `ticks` epochs from now (zero: passed).
    ///
    /// # Errors
    ///
    /// When the engine does not check for interrupts.
    pub(crate) fn set_epoch_deadline(&mut self, ticks: u64) -> Result<()> {
        let Some(interrupt) = &mut self.limits_state.interrupt else {
            return Err(Error::msg(
                if self.engine().config().tunables().epoch_interruption {
                    "this store's interrupt page could not be mapped, so its code always traps \
                 with `interrupt`"
                } else {
                    "epoch interruption is not enabled in this store (enable \
                 `Config::epoch_interruption`)"
                },
            ));
        };
        let StoreInterrupt {
            engine,
            page,
            serial,
            slot,
        } = interrupt;
        engine.epochs().set_deadline(page, *serial, slot, ticks);
        Ok(())
    }

    /// Checks that an instance defining `memories` memories and `tables`
    /// tables fits in the store's counts.
    ///
    /// # Errors
    ///
    /// Naming the count that would be exceeded.
    pub(crate) fn check_new_instance(&mut self, memories: usize, tables: usize) -> Result<()> {
        let caps = self
            .with_limiter(|l| (l.instances(), l.memories(), l.tables()))
            .unwrap_or((
                DEFAULT_INSTANCE_LIMIT,
                DEFAULT_MEMORY_LIMIT,
                DEFAULT_TABLE_LIMIT,
            ));
        let (instances, memory_count, table_count) = caps;
        let over = |what: &str, have: usize, adding: usize, cap: usize| {
            if have.saturating_add(adding) > cap {
                Err(Error::msg(format!(
                    "resource limit exceeded: {what} count too high at {}",
                    have.saturating_add(adding)
                )))
            } else {
                Ok(())
            }
        };
        over("instance", self.instances.len(), 1, instances)?;
        over("memory", self.memories.len(), memories, memory_count)?;
        over("table", self.tables.len(), tables, table_count)
    }

    /// Asks the limiter whether a memory of type `ty` may be created.
    ///
    /// # Errors
    ///
    /// When it may not, or the memory count is exhausted.
    pub(crate) fn check_new_memory(&mut self, ty: &MemoryType) -> Result<()> {
        let maximum = ty.max_pages.map(|p| bytes(ty, p));
        self.check_new(Resource::Memory, bytes(ty, ty.min_pages), maximum)
    }

    /// Asks the limiter whether a table of type `ty` may be created.
    ///
    /// # Errors
    ///
    /// When it may not, or the table count is exhausted.
    pub(crate) fn check_new_table(&mut self, ty: &TableType) -> Result<()> {
        let maximum = ty.max_elements.map(elements);
        self.check_new(Resource::Table, elements(ty.min_elements), maximum)
    }

    /// Grows memory `index` by `delta` pages, as the limiter allows:
    /// `Ok(Some(old pages))`, `Ok(None)` when refused or failed, an error
    /// when the limiter made the refusal one.
    ///
    /// # Errors
    ///
    /// The limiter's.
    pub(crate) fn grow_memory(&mut self, index: usize, delta: u64) -> Result<Option<u64>> {
        let memory = &self.memories[index];
        let current = memory.byte_size();
        let ty = memory.ty();
        let maximum = ty.max_pages.map(|p| bytes(&ty, p));
        let desired = current.saturating_add(bytes(&ty, delta));
        self.grow(Resource::Memory, current, desired, maximum, |store| {
            store.memories[index].grow(delta)
        })
    }

    /// Grows table `index` by `delta` elements set to `init`, as the
    /// limiter allows; results as [`StoreOpaque::grow_memory`].
    ///
    /// # Errors
    ///
    /// The limiter's.
    pub(crate) fn grow_table(
        &mut self,
        index: usize,
        delta: u64,
        init: usize,
    ) -> Result<Option<u64>> {
        let table = &self.tables[index];
        let current = elements(table.size());
        let maximum = table.ty().max_elements.map(elements);
        let desired = current.saturating_add(elements(delta));
        self.grow(Resource::Table, current, desired, maximum, |store| {
            store.tables[index].grow(delta, init)
        })
    }

    /// Creating a memory or table of `desired` units: the count, then the
    /// limiter (asked as for growth from zero).
    fn check_new(&mut self, what: Resource, desired: usize, maximum: Option<usize>) -> Result<()> {
        let (have, default) = match what {
            Resource::Memory => (self.memories.len(), DEFAULT_MEMORY_LIMIT),
            Resource::Table => (self.tables.len(), DEFAULT_TABLE_LIMIT),
        };
        let cap = self.with_limiter(|l| what.count(l)).unwrap_or(default);
        if have >= cap {
            return Err(Error::msg(format!(
                "resource limit exceeded: {} count too high at {}",
                what.name(),
                have + 1
            )));
        }
        match self.with_limiter(|l| what.growing(l, 0, desired, maximum)) {
            Some(Ok(false)) => Err(Error::msg(format!(
                "{} minimum size of {} exceeds {} limits",
                what.name(),
                what.in_units(desired),
                what.name()
            ))),
            Some(Err(e)) => Err(e),
            Some(Ok(true)) | None => Ok(()),
        }
    }

    /// The growth protocol: the limiter may refuse (or turn the refusal
    /// into an error) first; if `grow` then fails anyway, the limiter's
    /// failure hook may turn that into an error.
    fn grow(
        &mut self,
        what: Resource,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
        grow: impl FnOnce(&mut StoreOpaque) -> Option<u64>,
    ) -> Result<Option<u64>> {
        match self.with_limiter(|l| what.growing(l, current, desired, maximum)) {
            Some(Ok(false)) => return Ok(None),
            Some(Err(e)) => return Err(e),
            Some(Ok(true)) | None => {}
        }
        if let Some(old) = grow(self) {
            return Ok(Some(old));
        }
        let failure = Error::msg(format!(
            "failed to grow {} to {}",
            what.name(),
            what.in_units(desired)
        ));
        match self.with_limiter(|l| what.grow_failed(l, failure)) {
            Some(Err(e)) => Err(e),
            Some(Ok(())) | None => Ok(None),
        }
    }
}

/// What a limiter is asked about.
#[derive(Debug, Clone, Copy)]
enum Resource {
    Memory,
    Table,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Memory => "memory",
            Resource::Table => "table",
        }
    }

    /// A size in this resource's units, for messages.
    fn in_units(self, size: usize) -> String {
        match self {
            Resource::Memory if (size as u64).is_multiple_of(WASM_PAGE_BYTES) => {
                format!("{} pages", size as u64 / WASM_PAGE_BYTES)
            }
            Resource::Memory => format!("{size} bytes"),
            Resource::Table => format!("{size} elements"),
        }
    }

    fn count(self, limiter: &mut dyn ResourceLimiter) -> usize {
        match self {
            Resource::Memory => limiter.memories(),
            Resource::Table => limiter.tables(),
        }
    }

    fn growing(
        self,
        limiter: &mut dyn ResourceLimiter,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        match self {
            Resource::Memory => limiter.memory_growing(current, desired, maximum),
            Resource::Table => limiter.table_growing(current, desired, maximum),
        }
    }

    fn grow_failed(self, limiter: &mut dyn ResourceLimiter, error: Error) -> Result<()> {
        match self {
            Resource::Memory => limiter.memory_grow_failed(error),
            Resource::Table => limiter.table_grow_failed(error),
        }
    }
}

/// `pages` pages of a memory of type `ty` in bytes, saturating at
/// `usize::MAX`.
fn bytes(ty: &MemoryType, pages: u64) -> usize {
    ty.bytes_of(pages)
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(usize::MAX)
}

/// An element count as `usize`, saturating.
fn elements(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}
