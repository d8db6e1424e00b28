//! `wasm_ref_t`: the one object behind every kind of reference `wasm.h`
//! has (functions, globals, tables, memories, externs, instances, foreign
//! objects, modules, traps). `wasm_func_as_ref`, `wasm_extern_as_func` and
//! the other conversions return the same pointer, checked where the kind
//! could differ; every kind's copy, identity and host-info functions are
//! defined here, once, by a macro.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use crate::env::wasm_store_t;
use crate::obj::{HostInfo, Obj, ObjectKey};
use crate::rt::{Extern, ExternRef};

/// `wasm_ref_t`, and every other reference type of `wasm.h`.
#[derive(Debug, Clone)]
pub struct wasm_ref_t {
    /// The store the object belongs to (modules and traps remember the
    /// store they were made in).
    pub(crate) store: *mut wasm_store_t,
    pub(crate) obj: Obj,
}

/// `wasm_func_t`.
pub type wasm_func_t = wasm_ref_t;
/// `wasm_global_t`.
pub type wasm_global_t = wasm_ref_t;
/// `wasm_table_t`.
pub type wasm_table_t = wasm_ref_t;
/// `wasm_memory_t`.
pub type wasm_memory_t = wasm_ref_t;
/// `wasm_extern_t`.
pub type wasm_extern_t = wasm_ref_t;
/// `wasm_instance_t`.
pub type wasm_instance_t = wasm_ref_t;
/// `wasm_foreign_t`.
pub type wasm_foreign_t = wasm_ref_t;
/// `wasm_module_t`.
pub type wasm_module_t = wasm_ref_t;
/// `wasm_trap_t`.
pub type wasm_trap_t = wasm_ref_t;

impl wasm_ref_t {
    /// A new reference to `obj` of `store`.
    pub(crate) fn boxed(store: *mut wasm_store_t, obj: Obj) -> Box<wasm_ref_t> {
        Box::new(wasm_ref_t { store, obj })
    }

    /// The store.
    #[allow(
        clippy::mut_from_ref,
        reason = "the store is another object, reached through the pointer C gave; \
                  references do not own it"
    )]
    pub(crate) fn store_mut(&self) -> &mut wasm_store_t {
        // SAFETY: every object is made with the live store it belongs to,
        // and the C API requires a store to outlive the references to its
        // objects; C uses a store from one thread at a time.
        unsafe { &mut *self.store }
    }

    /// The runtime extern this is, if it is one.
    pub(crate) fn as_extern(&self) -> Option<Extern> {
        Some(match self.obj {
            Obj::Func(f) => Extern::Func(f),
            Obj::Global(g) => Extern::Global(g),
            Obj::Table(t) => Extern::Table(t),
            Obj::Memory(m) => Extern::Memory(m),
            Obj::Tag(t) => Extern::Tag(t),
            _ => return None,
        })
    }

    /// A reference to a runtime extern of `store` (`None` only for a
    /// shared memory the store's engine cannot use).
    pub(crate) fn from_extern(store: *mut wasm_store_t, ext: Extern) -> Option<Box<wasm_ref_t>> {
        let obj = match ext {
            Extern::Func(f) => Obj::Func(f),
            Extern::Global(g) => Obj::Global(g),
            Extern::Table(t) => Obj::Table(t),
            Extern::Memory(m) => Obj::Memory(m),
            // `wasm.h` has no shared memories: C sees one as a memory of
            // the store.
            Extern::SharedMemory(m) => {
                // SAFETY: `store` is the live store the extern came from,
                // used from this thread (the C API's contract for every
                // call taking a store).
                let store = unsafe { &mut *store };
                Obj::Memory(crate::rt::Memory::from_shared(&mut store.store, &m).ok()?)
            }
            Extern::Tag(t) => Obj::Tag(t),
        };
        Some(wasm_ref_t::boxed(store, obj))
    }

    fn key(&self) -> Option<ObjectKey> {
        Some(match self.obj {
            Obj::Func(f) => ObjectKey::Func(f),
            Obj::Global(g) => ObjectKey::Global(g),
            Obj::Table(t) => ObjectKey::Table(t),
            Obj::Memory(m) => ObjectKey::Memory(m),
            Obj::Tag(t) => ObjectKey::Tag(t),
            Obj::Instance(i) => ObjectKey::Instance(i),
            Obj::Foreign(e) => ObjectKey::Foreign(e),
            Obj::Module(_) | Obj::Trap(_) => return None,
        })
    }

    /// Whether two references name the same object.
    fn same(&self, other: &wasm_ref_t) -> bool {
        match (&self.obj, &other.obj) {
            (Obj::Module(a), Obj::Module(b)) => Arc::ptr_eq(a, b),
            (Obj::Trap(a), Obj::Trap(b)) => Arc::ptr_eq(a, b),
            _ => self.store == other.store && self.key().is_some() && self.key() == other.key(),
        }
    }

    /// The slot holding a module's or trap's host info.
    fn own_info(&self) -> Option<&Mutex<Option<HostInfo>>> {
        match &self.obj {
            Obj::Module(m) => Some(&m.host_info),
            Obj::Trap(t) => Some(&t.host_info),
            _ => None,
        }
    }

    fn host_info(&self) -> *mut c_void {
        if let Some(slot) = self.own_info() {
            let slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            return slot.as_ref().map_or(std::ptr::null_mut(), |h| h.info);
        }
        let Some(key) = self.key() else {
            return std::ptr::null_mut();
        };
        let data = self.store_mut().store.data();
        data.host_info
            .get(&key)
            .map_or(std::ptr::null_mut(), |h| h.info)
    }

    /// Sets the host info; the info it replaces is finalized.
    fn set_host_info(&self, info: *mut c_void, finalizer: Option<extern "C" fn(*mut c_void)>) {
        let new = HostInfo { info, finalizer };
        let old = if let Some(slot) = self.own_info() {
            slot.lock().unwrap_or_else(|e| e.into_inner()).replace(new)
        } else if let Some(key) = self.key() {
            let data = self.store_mut().store.data_mut();
            data.host_info.insert(key, new)
        } else {
            None
        };
        // The old finalizer runs after the lock or borrow is released, so it
        // may touch the object again.
        drop(old);
    }
}

/// Defines the functions every reference kind has, for one kind.
macro_rules! ref_base {
    ($delete:ident, $copy:ident, $same:ident, $get:ident, $set:ident, $set_fin:ident) => {
        #[doc = concat!("`", stringify!($delete), "`: releases the reference (not the object).")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $delete(_: Option<Box<wasm_ref_t>>) {}

        #[doc = concat!("`", stringify!($copy), "`: another reference to the same object.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $copy(r: &wasm_ref_t) -> Box<wasm_ref_t> {
            Box::new(r.clone())
        }

        #[doc = concat!("`", stringify!($same), "`: whether both name the same object.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $same(a: &wasm_ref_t, b: &wasm_ref_t) -> bool {
            a.same(b)
        }

        #[doc = concat!("`", stringify!($get), "`: the object's host info, or NULL.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $get(r: &wasm_ref_t) -> *mut c_void {
            r.host_info()
        }

        #[doc = concat!("`", stringify!($set), "`: sets the object's host info.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $set(r: &mut wasm_ref_t, info: *mut c_void) {
            r.set_host_info(info, None);
        }

        #[doc = concat!("`", stringify!($set_fin), "`: sets the object's host info and the function")]
        /// called with it when the object goes (or the info is replaced).
        #[unsafe(no_mangle)]
        pub extern "C" fn $set_fin(
            r: &mut wasm_ref_t,
            info: *mut c_void,
            finalizer: Option<extern "C" fn(*mut c_void)>,
        ) {
            r.set_host_info(info, finalizer);
        }
    };
}

/// Defines one reference kind: its base functions and its conversions to
/// and from `wasm_ref_t` (the same pointer; NULL if the kind differs).
macro_rules! ref_kind {
    ($is:expr; $delete:ident, $copy:ident, $same:ident, $get:ident, $set:ident, $set_fin:ident,
     $as_ref:ident, $as_ref_const:ident, $from_ref:ident, $from_ref_const:ident) => {
        ref_base!($delete, $copy, $same, $get, $set, $set_fin);

        #[doc = concat!("`", stringify!($as_ref), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $as_ref(r: Option<&mut wasm_ref_t>) -> Option<&mut wasm_ref_t> {
            r
        }

        #[doc = concat!("`", stringify!($as_ref_const), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $as_ref_const(r: Option<&wasm_ref_t>) -> Option<&wasm_ref_t> {
            r
        }

        #[doc = concat!("`", stringify!($from_ref), "`: NULL if the reference is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from_ref(r: Option<&mut wasm_ref_t>) -> Option<&mut wasm_ref_t> {
            let is: fn(&Obj) -> bool = $is;
            r.filter(|r| is(&r.obj))
        }

        #[doc = concat!("`", stringify!($from_ref_const), "`: NULL if the reference is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from_ref_const(r: Option<&wasm_ref_t>) -> Option<&wasm_ref_t> {
            let is: fn(&Obj) -> bool = $is;
            r.filter(|r| is(&r.obj))
        }
    };
}

/// Whether an object is one of the four externs.
pub(crate) fn is_extern(o: &Obj) -> bool {
    matches!(
        o,
        Obj::Func(_) | Obj::Global(_) | Obj::Table(_) | Obj::Memory(_)
    )
}

ref_base!(
    wasm_ref_delete,
    wasm_ref_copy,
    wasm_ref_same,
    wasm_ref_get_host_info,
    wasm_ref_set_host_info,
    wasm_ref_set_host_info_with_finalizer
);

ref_kind!(|o| matches!(o, Obj::Trap(_));
    wasm_trap_delete, wasm_trap_copy, wasm_trap_same, wasm_trap_get_host_info,
    wasm_trap_set_host_info, wasm_trap_set_host_info_with_finalizer,
    wasm_trap_as_ref, wasm_trap_as_ref_const, wasm_ref_as_trap, wasm_ref_as_trap_const);
ref_kind!(|o| matches!(o, Obj::Foreign(_));
    wasm_foreign_delete, wasm_foreign_copy, wasm_foreign_same, wasm_foreign_get_host_info,
    wasm_foreign_set_host_info, wasm_foreign_set_host_info_with_finalizer,
    wasm_foreign_as_ref, wasm_foreign_as_ref_const, wasm_ref_as_foreign, wasm_ref_as_foreign_const);
ref_kind!(|o| matches!(o, Obj::Module(_));
    wasm_module_delete, wasm_module_copy, wasm_module_same, wasm_module_get_host_info,
    wasm_module_set_host_info, wasm_module_set_host_info_with_finalizer,
    wasm_module_as_ref, wasm_module_as_ref_const, wasm_ref_as_module, wasm_ref_as_module_const);
ref_kind!(|o| matches!(o, Obj::Func(_));
    wasm_func_delete, wasm_func_copy, wasm_func_same, wasm_func_get_host_info,
    wasm_func_set_host_info, wasm_func_set_host_info_with_finalizer,
    wasm_func_as_ref, wasm_func_as_ref_const, wasm_ref_as_func, wasm_ref_as_func_const);
ref_kind!(|o| matches!(o, Obj::Global(_));
    wasm_global_delete, wasm_global_copy, wasm_global_same, wasm_global_get_host_info,
    wasm_global_set_host_info, wasm_global_set_host_info_with_finalizer,
    wasm_global_as_ref, wasm_global_as_ref_const, wasm_ref_as_global, wasm_ref_as_global_const);
ref_kind!(|o| matches!(o, Obj::Table(_));
    wasm_table_delete, wasm_table_copy, wasm_table_same, wasm_table_get_host_info,
    wasm_table_set_host_info, wasm_table_set_host_info_with_finalizer,
    wasm_table_as_ref, wasm_table_as_ref_const, wasm_ref_as_table, wasm_ref_as_table_const);
ref_kind!(|o| matches!(o, Obj::Memory(_));
    wasm_memory_delete, wasm_memory_copy, wasm_memory_same, wasm_memory_get_host_info,
    wasm_memory_set_host_info, wasm_memory_set_host_info_with_finalizer,
    wasm_memory_as_ref, wasm_memory_as_ref_const, wasm_ref_as_memory, wasm_ref_as_memory_const);
ref_kind!(is_extern;
    wasm_extern_delete, wasm_extern_copy, wasm_extern_same, wasm_extern_get_host_info,
    wasm_extern_set_host_info, wasm_extern_set_host_info_with_finalizer,
    wasm_extern_as_ref, wasm_extern_as_ref_const, wasm_ref_as_extern, wasm_ref_as_extern_const);
ref_kind!(|o| matches!(o, Obj::Instance(_));
    wasm_instance_delete, wasm_instance_copy, wasm_instance_same, wasm_instance_get_host_info,
    wasm_instance_set_host_info, wasm_instance_set_host_info_with_finalizer,
    wasm_instance_as_ref, wasm_instance_as_ref_const, wasm_ref_as_instance,
    wasm_ref_as_instance_const);

/// `wasm_foreign_new`: a new host object of `store`, which wasm can hold
/// as an `externref`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_foreign_new(store: &mut wasm_store_t) -> Box<wasm_foreign_t> {
    let foreign = ExternRef::new(&mut store.store, ());
    wasm_ref_t::boxed(store, Obj::Foreign(foreign))
}
