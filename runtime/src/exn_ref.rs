//! [`ExnRef`], the handle of an exception, on its own so that errors can
//! carry one without depending on stores (its methods that need a store
//! are in `exceptions.rs`).

use std::ptr::NonNull;

use crate::store::id::StoreId;
use crate::vm::vmcontext::{EXN_PINNED, VmExnObject};

/// A reference to an exception, thrown by wasm or made by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExnRef {
    store: StoreId,
    ptr: NonNull<VmExnObject>,
}

// SAFETY: the pointer is only dereferenced through the owning store
// (checked by id), which provides the synchronisation.
unsafe impl Send for ExnRef {}
// SAFETY: the handle itself is two plain words; reading the exception
// goes through the owning store, as for `Send`.
unsafe impl Sync for ExnRef {}

impl ExnRef {
    /// A handle to the live exception `ptr` of store `store`. The
    /// exception is pinned: the collector cannot see handles, so only the
    /// store's end frees it now.
    pub(crate) fn from_raw(store: StoreId, mut ptr: NonNull<VmExnObject>) -> ExnRef {
        // SAFETY: callers pass an exception of the store `store`, which is
        // alive (they hold the store or run inside its wasm).
        unsafe { ptr.as_mut().escaped |= EXN_PINNED };
        ExnRef { store, ptr }
    }

    /// The raw `exnref`, if the handle belongs to store `store`.
    pub(crate) fn raw_in(&self, store: StoreId) -> Option<usize> {
        (store == self.store).then_some(self.ptr.as_ptr() as usize)
    }

    /// The exception object (to be read only through its store).
    pub(crate) fn object(&self) -> NonNull<VmExnObject> {
        self.ptr
    }
}
