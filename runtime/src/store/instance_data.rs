//! [`InstanceData`]: what a store keeps for each instance it holds.
//!
//! The data lives below the handles: libcalls and host-call entries reach
//! it from a vmctx (whose `instance` field points here), and the
//! [`Instance`](crate::Instance) handle is only its index in the store.

use cljit_compiler::indices::FuncIndex;

use crate::module::Module;
use crate::vm::vmcontext::{VmContextAlloc, VmFuncRef};

/// What the store keeps for each instance.
pub(crate) struct InstanceData {
    /// This instance's index in the store.
    pub(crate) handle: usize,
    pub(crate) module: Module,
    pub(crate) vmctx: VmContextAlloc,
    /// Store indices of all memories, imports first.
    pub(crate) memories: Vec<usize>,
    /// Store indices of all tables, imports first.
    pub(crate) tables: Vec<usize>,
    /// Store indices of all globals, imports first.
    pub(crate) globals: Vec<usize>,
    /// Store indices of all tags, imports first.
    pub(crate) tags: Vec<usize>,
    /// Passive element segments' values; `None` once dropped (and for
    /// active and declared segments, which are dropped at instantiation).
    pub(crate) passive_elements: Vec<Option<Box<[usize]>>>,
    /// Whether each data segment has been dropped.
    pub(crate) dropped_data: Vec<bool>,
}

impl InstanceData {
    /// The `VmFuncRef` of function `index` inside this instance's vmctx.
    pub(crate) fn func_ref_ptr(&self, index: FuncIndex) -> *mut VmFuncRef {
        let offset = self.module.offsets().vmctx_func_ref(index.as_u32());
        // SAFETY: the offset comes from this module's layout and names the
        // function's VmFuncRef, which lies inside the vmctx allocation.
        unsafe { self.vmctx.field::<VmFuncRef>(offset) }
    }
}
