//! [`Instance`]: the handle to an instantiated module, and access to its
//! exports. Creating instances is `instantiate.rs`.

use std::ptr::NonNull;

use cljit_compiler::indices::EntityIndex;
use cranelift_entity::EntityRef;

use crate::error::{Error, Result};
use crate::externals::{Extern, Global, Memory, Table};
use crate::func::{Func, TypedFunc, WasmParams, WasmResults};
use crate::module::Module;
use crate::store::instance_data::InstanceData;
use crate::store::{AsContext, StoreId, StoreOpaque};

/// An instantiated module, owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    store: StoreId,
    index: usize,
}

impl Instance {
    pub(crate) fn from_index(store: StoreId, index: usize) -> Instance {
        Instance { store, index }
    }

    fn data<'a>(&self, store: &'a StoreOpaque) -> &'a InstanceData {
        assert_eq!(store.id(), self.store, "instance used with the wrong store");
        store.instance(self.index)
    }

    /// The module this is an instance of.
    pub fn module(&self, store: impl AsContext) -> Module {
        self.data(store.as_context().opaque()).module.clone()
    }

    /// The export called `name`.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let cx = store.as_context();
        let opaque = cx.opaque();
        let data = self.data(opaque);
        let index = data.module.info().export(name)?;
        Some(export(opaque, data, index))
    }

    /// All exports, in the module's order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let cx = store.as_context();
        let opaque = cx.opaque();
        let data = self.data(opaque);
        data.module
            .info()
            .exports
            .iter()
            .map(|e| (e.name.clone(), export(opaque, data, e.index)))
            .collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name`, typed.
    ///
    /// # Errors
    ///
    /// If there is no such function or its type differs.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let cx = store.as_context();
        let func = self
            .get_func(&cx, name)
            .ok_or_else(|| Error::msg(format!("no exported function `{name}`")))?;
        func.typed(&cx)
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported shared memory `name` (which [`Self::get_memory`]
    /// does not return).
    pub fn get_shared_memory(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Option<crate::memory::shared::SharedMemory> {
        self.get_export(store, name)?.into_shared_memory()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
}

/// The handle of export `index` of an instance.
fn export(store: &StoreOpaque, data: &InstanceData, index: EntityIndex) -> Extern {
    match index {
        EntityIndex::Function(f) => Extern::Func(Func::from_raw(
            store.id(),
            NonNull::new(data.func_ref_ptr(f)).expect("vmctx pointers are not null"),
        )),
        EntityIndex::Table(t) => {
            Extern::Table(Table::from_index(store.id(), data.tables[t.index()]))
        }
        EntityIndex::Memory(m) => {
            let index = data.memories[m.index()];
            match store.memories[index].as_shared() {
                Some(shared) => Extern::SharedMemory(shared.clone()),
                None => Extern::Memory(Memory::from_index(store.id(), index)),
            }
        }
        EntityIndex::Global(g) => {
            Extern::Global(Global::from_index(store.id(), data.globals[g.index()]))
        }
        EntityIndex::Tag(t) => Extern::Tag(crate::exceptions::Tag::from_index(
            store.id(),
            data.tags[t.index()],
        )),
    }
}
