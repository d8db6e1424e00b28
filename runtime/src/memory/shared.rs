//! Shared linear memories (threads proposal): one memory that instances in
//! many stores, on many threads, use at once.
//!
//! A [`SharedMemory`] is reference-counted and belongs to no store; each
//! store that imports or defines it holds a clone in its memory list (a
//! [`StoreMemory::Shared`]), so it lives as long as any instance using it.
//! It never moves: it reserves its declared maximum (a shared memory must
//! have one) when made, and growing only makes more of that reservation
//! accessible, under a lock, then publishes the new length atomically (see
//! `VmMemoryDefinition::current_length`). Code on other threads keeps its
//! base and sees the new length at its next read.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};

use cljit_compiler::types::MemoryType;

use super::LinearMemory;
use super::parking::{self, Cell, WaitResult};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::vm::vmcontext::VmMemoryDefinition;

/// A linear memory shared between threads: cheap to clone (every clone is
/// the same memory), `Send` and `Sync`.
#[derive(Clone)]
pub struct SharedMemory(Arc<SharedInner>);

struct SharedInner {
    /// The memory; the lock serialises growth (and nothing else: reads and
    /// writes of the bytes go through the stable base pointer).
    memory: Mutex<LinearMemory>,
    /// The memory's definition, boxed inside it: its address is stable.
    definition: *mut VmMemoryDefinition,
    ty: MemoryType,
    engine: Engine,
}

// SAFETY: the memory's mapping and definition are process-wide and never
// move; the raw pointers in `LinearMemory` and `definition` are only
// written under the mutex (growth), except the length, which is atomic.
// Guest bytes are shared with other threads by design, as wasm threads
// share memory (racy accesses are the guest's, like native code's).
unsafe impl Send for SharedInner {}
// SAFETY: shared references from many threads are sound: the memory's
// state changes only under the mutex (growth) or through an atomic (the
// length); the guest's bytes are meant to be shared, racing as native
// threads' shared memory does.
unsafe impl Sync for SharedInner {}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ty", &self.0.ty)
            .field("bytes", &self.data_size())
            .finish()
    }
}

impl SharedMemory {
    /// Creates a shared memory of type `ty` laid out as `engine`'s code
    /// expects. Not counted against any store's limiter (it belongs to
    /// none); stores that import it are asked when they grow it.
    ///
    /// # Errors
    ///
    /// If `ty` is not shared or has no maximum, the engine does not have
    /// the threads proposal enabled, or the reservation fails.
    pub fn new(engine: &Engine, ty: MemoryType) -> Result<SharedMemory> {
        if !ty.shared {
            return Err(Error::msg("a shared memory needs a shared memory type"));
        }
        if ty.max_pages.is_none() {
            return Err(Error::msg("shared memory must have maximum"));
        }
        if !engine
            .config()
            .features()
            .contains(crate::WasmFeatures::THREADS)
        {
            return Err(Error::msg(
                "shared memories need the threads proposal (`-W threads=y`)",
            ));
        }
        let tunables = engine.config().tunables();
        let memory = LinearMemory::new(ty, tunables, engine.memory_pool(), None)
            .map_err(|e| Error::msg(format!("failed to allocate shared memory: {e}")))?;
        Ok(Self::from_memory(engine, memory))
    }

    /// Wraps a memory just made for a module's own shared memory.
    pub(crate) fn from_memory(engine: &Engine, mut memory: LinearMemory) -> SharedMemory {
        let definition = memory.definition_ptr();
        let ty = memory.ty;
        SharedMemory(Arc::new(SharedInner {
            memory: Mutex::new(memory),
            definition,
            ty,
            engine: engine.clone(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, LinearMemory> {
        self.0.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The memory's type, with its current size as the minimum.
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            min_pages: self.size(),
            ..self.0.ty
        }
    }

    /// Current size in pages.
    pub fn size(&self) -> u64 {
        self.data_size() as u64 >> self.0.ty.page_size_log2
    }

    /// Current size in bytes. Another thread may grow it at any moment;
    /// it never shrinks.
    pub fn data_size(&self) -> usize {
        // SAFETY: the definition lives as long as the memory (`self`).
        unsafe { &*self.0.definition }
            .current_length
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The memory's bytes, as cells: other threads may read and write them
    /// concurrently, so they are not a `&[u8]`.
    pub fn data(&self) -> &[UnsafeCell<u8>] {
        // SAFETY: [base, base + data_size) is accessible and stays so (the
        // memory never moves or shrinks) while `self` keeps it alive;
        // `UnsafeCell<u8>` has `u8`'s layout and admits shared mutation.
        unsafe { std::slice::from_raw_parts(self.base().cast(), self.data_size()) }
    }

    /// Start of the memory (constant for its whole life).
    pub(crate) fn base(&self) -> *mut u8 {
        // SAFETY: the definition lives as long as the memory; its base is
        // written once, at creation.
        unsafe { (*self.0.definition).base }
    }

    /// The definition compiled code reads.
    pub(crate) fn definition_ptr(&self) -> *mut VmMemoryDefinition {
        self.0.definition
    }

    /// Grows by `delta` pages, returning the old size in pages.
    ///
    /// # Errors
    ///
    /// If the memory cannot grow that much.
    pub fn grow(&self, delta: u64) -> Result<u64> {
        self.grow_raw(delta)
            .ok_or_else(|| Error::msg("failed to grow memory"))
    }

    /// As [`LinearMemory::grow`], under the lock.
    pub(crate) fn grow_raw(&self, delta: u64) -> Option<u64> {
        self.lock().grow(delta)
    }

    /// The native address of an aligned cell of `bytes` at `offset`.
    fn cell(&self, offset: u64, bytes: u64) -> Result<*mut u8> {
        if !offset.is_multiple_of(bytes) {
            return Err(Error::trap(crate::Trap::HeapMisaligned, Default::default()));
        }
        let end = offset.checked_add(bytes);
        if end.is_none_or(|end| end > self.data_size() as u64) {
            return Err(Error::trap(
                crate::Trap::MemoryOutOfBounds,
                Default::default(),
            ));
        }
        // SAFETY: offset + bytes is within the accessible length.
        Ok(unsafe { self.base().add(offset as usize) })
    }

    /// `memory.atomic.notify` from the host: wakes up to `count` threads
    /// waiting at byte `offset`, returning how many it woke.
    ///
    /// # Errors
    ///
    /// A trap, if `offset` is misaligned or out of bounds.
    pub fn atomic_notify(&self, offset: u64, count: u32) -> Result<u32> {
        let cell = self.cell(offset, 4)?;
        Ok(parking::notify(cell as usize, count))
    }

    /// `memory.atomic.wait32` from the host: blocks while the `u32` at
    /// `offset` is `expected`, until notified or `timeout` passes.
    ///
    /// # Errors
    ///
    /// A trap, if `offset` is misaligned or out of bounds.
    pub fn atomic_wait32(
        &self,
        offset: u64,
        expected: u32,
        timeout: Option<std::time::Duration>,
    ) -> Result<WaitResult> {
        let cell = self.cell(offset, 4)?;
        Ok(self.wait(Cell::U32(cell as *const AtomicU32, expected), timeout))
    }

    /// `memory.atomic.wait64` from the host, as [`Self::atomic_wait32`].
    ///
    /// # Errors
    ///
    /// A trap, if `offset` is misaligned or out of bounds.
    pub fn atomic_wait64(
        &self,
        offset: u64,
        expected: u64,
        timeout: Option<std::time::Duration>,
    ) -> Result<WaitResult> {
        let cell = self.cell(offset, 8)?;
        Ok(self.wait(Cell::U64(cell as *const AtomicU64, expected), timeout))
    }

    /// A host wait on `cell`, which [`Self::cell`] checked (the host has no
    /// deadline to interrupt it).
    fn wait(&self, cell: Cell, timeout: Option<std::time::Duration>) -> WaitResult {
        // SAFETY: `cell` came from `Self::cell`, so it is aligned to its
        // size and in bounds of this memory, which `self` keeps mapped for
        // the call (a shared memory never moves or shrinks).
        unsafe { parking::wait(cell, timeout, &|| false) }.expect("never interrupted")
    }

    /// Refuses to let code compiled by `engine` use this memory unless
    /// both engines lay memories out alike: code compiled for guard pages
    /// has no bounds checks, so it must never reach a memory reserved
    /// without them.
    ///
    /// # Errors
    ///
    /// If the layouts (reservation and guard size) differ.
    pub(crate) fn check_layout(&self, engine: &Engine) -> Result<()> {
        let (ours, theirs) = (
            engine.config().tunables(),
            self.0.engine.config().tunables(),
        );
        if (ours.memory_reservation, ours.memory_guard_size)
            == (theirs.memory_reservation, theirs.memory_guard_size)
        {
            Ok(())
        } else {
            Err(Error::msg(
                "the shared memory was made by an engine with another memory layout \
                 (reservation and guard size)",
            ))
        }
    }

    /// Whether two handles are the same memory.
    pub fn same(a: &SharedMemory, b: &SharedMemory) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

/// A memory in a store's list: its own, or a shared one it uses.
#[derive(Debug)]
pub(crate) enum StoreMemory {
    /// Owned by the store.
    Owned(LinearMemory),
    /// Shared with other stores and threads.
    Shared(SharedMemory),
}

impl StoreMemory {
    /// The memory's type, with its current size as the minimum.
    pub(crate) fn ty(&self) -> MemoryType {
        match self {
            StoreMemory::Owned(m) => m.ty(),
            StoreMemory::Shared(m) => m.ty(),
        }
    }

    /// Current size in bytes.
    pub(crate) fn byte_size(&self) -> usize {
        match self {
            StoreMemory::Owned(m) => m.byte_size(),
            StoreMemory::Shared(m) => m.data_size(),
        }
    }

    /// Current size in pages (of the memory's page size).
    pub(crate) fn pages(&self) -> u64 {
        match self {
            StoreMemory::Owned(m) => m.pages(),
            StoreMemory::Shared(m) => m.size(),
        }
    }

    /// Start of the memory.
    pub(crate) fn base(&self) -> *mut u8 {
        match self {
            StoreMemory::Owned(m) => m.base(),
            StoreMemory::Shared(m) => m.base(),
        }
    }

    /// The definition compiled code reads.
    pub(crate) fn definition_ptr(&mut self) -> *mut VmMemoryDefinition {
        match self {
            StoreMemory::Owned(m) => m.definition_ptr(),
            StoreMemory::Shared(m) => m.definition_ptr(),
        }
    }

    /// Whether the memory still maps an image (never for shared ones once
    /// another store may use them; see `clear_image`).
    pub(crate) fn has_image(&self) -> bool {
        match self {
            StoreMemory::Owned(m) => m.has_image(),
            StoreMemory::Shared(m) => m.lock().has_image(),
        }
    }

    /// As [`LinearMemory::clear_image`].
    pub(crate) fn clear_image(&mut self) -> std::io::Result<()> {
        match self {
            StoreMemory::Owned(m) => m.clear_image(),
            StoreMemory::Shared(m) => m.lock().clear_image(),
        }
    }

    /// As [`LinearMemory::grow`].
    pub(crate) fn grow(&mut self, delta_pages: u64) -> Option<u64> {
        match self {
            StoreMemory::Owned(m) => m.grow(delta_pages),
            StoreMemory::Shared(m) => m.grow_raw(delta_pages),
        }
    }

    /// The accessible bytes. For a shared memory, other threads may be
    /// writing them: a host that reads guest data races with the guest as
    /// native code racing on shared memory would (WASI copies what it reads).
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: [base, base + length) is accessible and stays so while
        // `&self` lives (owned memories cannot grow through a shared
        // borrow; shared ones never move or shrink).
        unsafe { std::slice::from_raw_parts(self.base(), self.byte_size()) }
    }

    /// The accessible bytes, mutably (see [`Self::data`] on sharing).
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: [base, base + length) is accessible and stays so while
        // `&mut self` lives: an owned memory cannot grow or move without
        // this borrow, and a shared one never moves or shrinks. For an
        // owned memory the borrow is exclusive; a shared one's bytes are
        // shared with other threads by the guest's own design.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.byte_size()) }
    }

    /// The shared memory, if this is one.
    pub(crate) fn as_shared(&self) -> Option<&SharedMemory> {
        match self {
            StoreMemory::Shared(m) => Some(m),
            StoreMemory::Owned(_) => None,
        }
    }
}
