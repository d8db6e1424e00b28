//! Handles to memories, tables and globals, and [`Extern`], any of the four
//! kinds of importable entity.

use cljit_compiler::types::{GlobalType, MemoryType, TableType, ValType};

use crate::error::{Error, Result};
use crate::func::Func;
use crate::memory::LinearMemory;
use crate::memory::shared::{SharedMemory, StoreMemory};
use crate::module::ExternType;
use crate::store::{AsContext, AsContextMut, GlobalSlot, StoreId, StoreOpaque};
use crate::values::{Ref, Val};
use crate::vm::table::TableStorage;
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::VmGlobalDefinition;

/// Anything an instance can import or export.
#[derive(Debug, Clone)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// A shared linear memory (threads proposal), which belongs to no
    /// store.
    SharedMemory(SharedMemory),
    /// A global.
    Global(Global),
    /// An exception tag.
    Tag(crate::exceptions::Tag),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The shared memory, if this is one.
    pub fn into_shared_memory(self) -> Option<SharedMemory> {
        match self {
            Extern::SharedMemory(m) => Some(m),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<crate::exceptions::Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the entity belongs to `store`.
    pub(crate) fn belongs_to(&self, store: &StoreOpaque) -> bool {
        let id = match self {
            Extern::Func(f) => f.store_id(),
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            // Any store may use a shared memory (instantiation checks the
            // engine's layout).
            Extern::SharedMemory(_) => return true,
            Extern::Global(g) => g.store,
            Extern::Tag(t) => t.store_id(),
        };
        id == store.id()
    }

    /// The entity's current type.
    ///
    /// # Panics
    ///
    /// If the entity belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        self.ty_in_store(store.as_context().opaque())
    }

    /// The entity's current type, given the untyped store.
    pub(crate) fn ty_in_store(&self, store: &StoreOpaque) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty_in_store(store)),
            Extern::Table(t) => ExternType::Table(t.get_storage(store).ty()),
            Extern::Memory(m) => ExternType::Memory(m.get(store).ty()),
            Extern::SharedMemory(m) => ExternType::Memory(m.ty()),
            Extern::Global(g) => ExternType::Global(store.globals[g.index(store)].ty),
            Extern::Tag(t) => ExternType::Tag(t.ty_in_store(store)),
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

impl From<SharedMemory> for Extern {
    fn from(m: SharedMemory) -> Extern {
        Extern::SharedMemory(m)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<crate::exceptions::Tag> for Extern {
    fn from(t: crate::exceptions::Tag) -> Extern {
        Extern::Tag(t)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

fn wrong_store(what: &str) -> ! {
    panic!("{what} used with the wrong store")
}

/// A linear memory owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    store: StoreId,
    index: usize,
}

impl Memory {
    pub(crate) fn from_index(store: StoreId, index: usize) -> Memory {
        Memory { store, index }
    }

    pub(crate) fn index(&self, store: &StoreOpaque) -> usize {
        if store.id() != self.store {
            wrong_store("memory")
        }
        self.index
    }

    /// Creates a memory of type `ty` in `store`.
    ///
    /// # Errors
    ///
    /// If the memory cannot be allocated or its type is unsupported.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        if ty.shared {
            return Err(Error::msg(
                "a shared memory belongs to no store: make it with `SharedMemory::new`",
            ));
        }
        store.check_new_memory(&ty)?;
        let engine = store.engine();
        let memory = LinearMemory::new(ty, engine.config().tunables(), engine.memory_pool(), None)
            .map_err(|e| Error::msg(format!("failed to allocate memory: {e}")))?;
        store.memories.push(StoreMemory::Owned(memory));
        Ok(Memory {
            store: store.id(),
            index: store.memories.len() - 1,
        })
    }

    /// A handle in `store` for shared memory `shared`, to use it through
    /// the store-bound API (its bytes as a slice, `read`, `write`, or as
    /// an import); the store keeps the memory alive.
    ///
    /// # Errors
    ///
    /// If the store's engine lays memories out unlike the one that made
    /// `shared` (see instantiation, which checks the same).
    pub fn from_shared(mut store: impl AsContextMut, shared: &SharedMemory) -> Result<Memory> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        shared.check_layout(store.engine())?;
        store.memories.push(StoreMemory::Shared(shared.clone()));
        Ok(Memory {
            store: store.id(),
            index: store.memories.len() - 1,
        })
    }

    fn get<'a>(&self, store: &'a StoreOpaque) -> &'a StoreMemory {
        &store.memories[self.index(store)]
    }

    /// The memory's type, with its current size as minimum.
    ///
    /// # Panics
    ///
    /// If the memory belongs to another store (as every method here).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.get(store.as_context().opaque()).ty()
    }

    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get(store.as_context().opaque()).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.get(store.as_context().opaque()).byte_size()
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'a>(&self, store: impl Into<crate::store::StoreContext<'a, T>>) -> &'a [u8] {
        let cx = store.into();
        self.get(cx.opaque()).data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::store::StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let cx = store.into();
        let index = self.index(&cx.0.opaque);
        cx.0.opaque.memories[index].data_mut()
    }

    /// The memory's bytes and the store's host data at once, for host
    /// functions that move data between the two (as WASI does).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::store::StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let cx = store.into();
        let index = self.index(&cx.0.opaque);
        let inner = cx.0;
        (inner.opaque.memories[index].data_mut(), &mut inner.data)
    }

    /// As [`Memory::data_and_store_mut`], for a shared memory that an
    /// instance of the store uses (imports or defines): `None` if none
    /// does. Other threads may be using the bytes at the same time.
    pub fn shared_data_and_store_mut<'a, T: 'a>(
        shared: &SharedMemory,
        store: impl Into<crate::store::StoreContextMut<'a, T>>,
    ) -> Option<(&'a mut [u8], &'a mut T)> {
        let cx = store.into();
        let inner = cx.0;
        let slot = inner
            .opaque
            .memories
            .iter_mut()
            .find(|m| m.as_shared().is_some_and(|m| SharedMemory::same(m, shared)))?;
        Some((slot.data_mut(), &mut inner.data))
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// If the range is out of bounds.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<()> {
        let cx = store.as_context();
        let data = self.get(cx.opaque()).data();
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| data.get(offset..end))
            .ok_or_else(|| Error::msg("out of bounds memory access"))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    ///
    /// # Errors
    ///
    /// If the range is out of bounds.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        let mut cx = store.as_context_mut();
        let index = self.index(cx.opaque());
        let data = cx.opaque_mut().memories[index].data_mut();
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| data.get_mut(offset..end))
            .ok_or_else(|| Error::msg("out of bounds memory access"))?;
        dst.copy_from_slice(buf);
        Ok(())
    }

    /// Grows by `delta` pages, as the store's limiter allows, returning
    /// the old size in pages.
    ///
    /// # Errors
    ///
    /// If the memory cannot grow that much, or the limiter refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let mut cx = store.as_context_mut();
        let index = self.index(cx.opaque());
        cx.opaque_mut()
            .grow_memory(index, delta)?
            .ok_or_else(|| Error::msg("failed to grow memory"))
    }
}

/// A table owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    store: StoreId,
    index: usize,
}

impl Table {
    pub(crate) fn from_index(store: StoreId, index: usize) -> Table {
        Table { store, index }
    }

    pub(crate) fn index(&self, store: &StoreOpaque) -> usize {
        if store.id() != self.store {
            wrong_store("table")
        }
        self.index
    }

    /// Creates a table of type `ty` filled with `init`.
    ///
    /// # Errors
    ///
    /// If `init` has the wrong type or store, or the table is too large.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        if !init.matches(store, ty.element) {
            return Err(Error::msg("table initial value has the wrong type"));
        }
        let init = init.to_raw(store)?;
        store.check_new_table(&ty)?;
        let table = TableStorage::new(ty, init).ok_or_else(|| Error::msg("table too large"))?;
        store.tables.push(table);
        Ok(Table {
            store: store.id(),
            index: store.tables.len() - 1,
        })
    }

    fn get_storage<'a>(&self, store: &'a StoreOpaque) -> &'a TableStorage {
        &store.tables[self.index(store)]
    }

    /// The table's type, with its current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.get_storage(store.as_context().opaque()).ty()
    }

    /// Current number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get_storage(store.as_context().opaque()).size()
    }

    /// Element `index`, or `None` out of bounds.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Ref> {
        let cx = store.as_context();
        let storage = self.get_storage(cx.opaque());
        let raw = *storage.elements().get(usize::try_from(index).ok()?)?;
        // SAFETY: table elements are null or references made in this store.
        Some(unsafe { Ref::from_raw(raw, storage.ty().element, cx.opaque()) })
    }

    /// Sets element `index`.
    ///
    /// # Errors
    ///
    /// Out of bounds, or a value of the wrong type or store.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let mut cx = store.as_context_mut();
        let i = self.index(cx.opaque());
        let elem_ty = cx.opaque().tables[i].ty().element;
        if !value.matches(cx.opaque(), elem_ty) {
            return Err(Error::msg("table element has the wrong type"));
        }
        let raw = value.to_raw(cx.opaque())?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|index| cx.opaque_mut().tables[i].elements_mut().get_mut(index))
            .ok_or_else(|| Error::msg("out of bounds table access"))?;
        *slot = raw;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, as the store's limiter
    /// allows, returning the old size.
    ///
    /// # Errors
    ///
    /// If the table cannot grow that much, the limiter refuses, or `init`
    /// is of the wrong type.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let mut cx = store.as_context_mut();
        let i = self.index(cx.opaque());
        if !init.matches(cx.opaque(), cx.opaque().tables[i].ty().element) {
            return Err(Error::msg("table element has the wrong type"));
        }
        let raw = init.to_raw(cx.opaque())?;
        cx.opaque_mut()
            .grow_table(i, delta, raw)?
            .ok_or_else(|| Error::msg("failed to grow table"))
    }
}

/// A global owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    store: StoreId,
    index: usize,
}

/// Reads a global's value.
///
/// # Safety
///
/// `def` must be a live definition holding a value of type `ty` made in
/// `store`.
pub(crate) unsafe fn read_global(
    def: *const VmGlobalDefinition,
    ty: ValType,
    store: &StoreOpaque,
) -> Val {
    // SAFETY: per the contract; global storage and value slots share one
    // encoding.
    unsafe { Val::from_raw(ValRaw::from_bytes((*def).storage), ty, store) }
}

/// Encodes a value as a global's storage.
pub(crate) fn global_storage(value: ValRaw) -> VmGlobalDefinition {
    VmGlobalDefinition {
        storage: value.to_bytes(),
    }
}

impl Global {
    pub(crate) fn from_index(store: StoreId, index: usize) -> Global {
        Global { store, index }
    }

    pub(crate) fn index(&self, store: &StoreOpaque) -> usize {
        if store.id() != self.store {
            wrong_store("global")
        }
        self.index
    }

    /// Creates a global of type `ty` holding `value`.
    ///
    /// # Errors
    ///
    /// If `value` does not have the global's type or belongs to another
    /// store.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        if !value.matches(store, ty.content) {
            return Err(Error::msg(format!(
                "global of type {} cannot hold a {}",
                ty.content,
                value.ty()
            )));
        }
        let mut owned = Box::new(global_storage(value.to_raw(store)?));
        let definition: *mut VmGlobalDefinition = &mut *owned;
        store.globals.push(GlobalSlot {
            ty,
            definition,
            _owned: Some(owned),
        });
        Ok(Global {
            store: store.id(),
            index: store.globals.len() - 1,
        })
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let cx = store.as_context();
        cx.opaque().globals[self.index(cx.opaque())].ty
    }

    /// The global's value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let cx = store.as_context();
        let slot = &cx.opaque().globals[self.index(cx.opaque())];
        // SAFETY: the definition is live while the store is and holds a
        // value of the slot's type.
        unsafe { read_global(slot.definition, slot.ty.content, cx.opaque()) }
    }

    /// Sets the global's value.
    ///
    /// # Errors
    ///
    /// If the global is immutable, or `value` has the wrong type or store.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let slot = &store.globals[self.index(store)];
        if !slot.ty.mutable {
            return Err(Error::msg("cannot set an immutable global"));
        }
        if !value.matches(store, slot.ty.content) {
            return Err(Error::msg(format!(
                "global of type {} cannot hold a {}",
                slot.ty.content,
                value.ty()
            )));
        }
        let raw = value.to_raw(store)?;
        let definition = slot.definition;
        // SAFETY: the definition is live while the store is.
        unsafe { *definition = global_storage(raw) };
        Ok(())
    }
}
