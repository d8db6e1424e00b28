//! Exceptions: tags, exception objects, and the unwinder behind `throw`.
//!
//! !!! The unwinder decides where execution resumes. Changes need a second
//! reviewer. !!!
//!
//! A tag is a [`VmTagDefinition`] owned by a store; its address is its
//! identity. An exception is a [`VmExnObject`] owned by the store (its tag
//! and its payload slots), which an `exnref` points at. A catch clause
//! that takes only the payload frees it; one that takes an `exnref` leaves
//! it to the collector of `exn_collect.rs`.
//!
//! `throw` (the `cljit_throw` stub of `arch`) calls [`cljit_throw_unwind`] with
//! its own frame pointer. The unwinder walks the frame-pointer chain from
//! there: each return address that lies in JIT code names a call site; if
//! the site has handler clauses (it is a call inside a `try_table`), they
//! are tried in order, tags compared by identity through the frame's vmctx
//! (stored in the frame, as the site's context clause says). The first
//! match gives the landing pad, the frame's pointers and the stack pointer
//! at the call (frame pointer less the site's frame offset), and the stub
//! jumps there. The walk ends at the first return address outside JIT code
//! (the entry from the host): the exception is uncaught, becomes the
//! error of the wasm call, and the stub jumps to `cljit_unwind`, which
//! returns from the entry as a trap does. Only wasm frames and trampolines
//! are ever skipped: host frames are never unwound.

use std::ptr::NonNull;

use cljit_compiler::abi::{HandlerClause, HandlerSite, VmOffsets};
use cljit_compiler::types::FuncType;

use crate::arch::{self, Resume};
use crate::error::{Error, Result};
pub use crate::exn_ref::ExnRef;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::traps::{self, registry};
use crate::values::Val;
use crate::vm::exn::{ExnSlot, TagSlot};
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::{VmExnObject, VmTagDefinition};

impl StoreOpaque {
    /// Adds a tag of engine type `type_id` with `params` payload values,
    /// returning its index.
    pub(crate) fn new_tag(&mut self, type_id: u32, params: u32) -> usize {
        self.tags.push(TagSlot {
            definition: Box::new(VmTagDefinition { type_id, params }),
        });
        self.tags.len() - 1
    }

    /// A new exception of `tag` with its payload slots zeroed (first
    /// collecting unreachable ones if they have piled up).
    pub(crate) fn new_exception(&mut self, tag: *const VmTagDefinition) -> *mut VmExnObject {
        self.maybe_collect_exceptions();
        // SAFETY: `tag` is the definition of one of this store's tags
        // (from a vmctx or a `Tag` handle), alive as long as the store.
        let params = unsafe { (*tag).params } as usize;
        let mut values = vec![ValRaw::default(); params].into_boxed_slice();
        let mut object = Box::new(VmExnObject {
            tag,
            values: values.as_mut_ptr(),
            escaped: 0,
            index: self.exceptions.len(),
        });
        let ptr: *mut VmExnObject = &mut *object;
        self.exceptions.push(ExnSlot {
            object,
            _values: values,
        });
        ptr
    }

    /// Frees `object` unless an `exnref` to it may exist: a catch clause
    /// that takes only the payload has read it, and nothing else can
    /// reach it.
    ///
    /// # Safety
    ///
    /// `object` is a live exception of this store.
    pub(crate) unsafe fn release_exception(&mut self, object: *mut VmExnObject) {
        // SAFETY: per the function's contract the object is live.
        let (escaped, index) = unsafe { ((*object).escaped, (*object).index) };
        if escaped != 0 {
            return;
        }
        debug_assert!(std::ptr::eq(&*self.exceptions[index].object, object));
        self.exceptions.swap_remove(index);
        if let Some(moved) = self.exceptions.get_mut(index) {
            moved.object.index = index;
        }
    }

    /// The index of the tag whose definition is `definition`.
    fn tag_index(&self, definition: *const VmTagDefinition) -> Option<usize> {
        self.tags
            .iter()
            .position(|t| std::ptr::eq(&*t.definition, definition))
    }

    /// Whether `object` is one of this store's exceptions.
    fn owns_exception(&self, object: *const VmExnObject) -> bool {
        self.exceptions
            .iter()
            .any(|e| std::ptr::eq(&*e.object, object))
    }
}

/// An exception tag owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    store: StoreId,
    index: usize,
}

impl Tag {
    pub(crate) fn from_index(store: StoreId, index: usize) -> Tag {
        Tag { store, index }
    }

    pub(crate) fn index(&self, store: &StoreOpaque) -> usize {
        assert!(store.id() == self.store, "tag used with the wrong store");
        self.index
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    /// Creates a tag whose exceptions carry values of `ty`'s parameters.
    ///
    /// # Errors
    ///
    /// If `ty` has results: a tag's type has none.
    pub fn new(mut store: impl AsContextMut, ty: &FuncType) -> Result<Tag> {
        if !ty.results().is_empty() {
            return Err(Error::msg("a tag's type has no results"));
        }
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let type_id = store.engine().signatures().register(ty);
        let params = u32::try_from(ty.params().len()).map_err(|_| Error::msg("too many params"))?;
        let index = store.new_tag(type_id, params);
        Ok(Tag::from_index(store.id(), index))
    }

    /// The tag's type (its parameters are the payload).
    ///
    /// # Panics
    ///
    /// If the tag belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context().opaque();
        self.ty_in_store(store)
    }

    pub(crate) fn ty_in_store(&self, store: &StoreOpaque) -> FuncType {
        let id = store.tags[self.index(store)].definition.type_id;
        store.engine().signatures().lookup(id)
    }

    pub(crate) fn definition(&self, store: &StoreOpaque) -> *const VmTagDefinition {
        &*store.tags[self.index(store)].definition
    }
}

impl ExnRef {
    /// A new exception of `tag` carrying `values`, to throw from a host
    /// function (as [`Error::exception`]) or pass to wasm.
    ///
    /// # Errors
    ///
    /// If the values do not match the tag's type, or belong to another
    /// store.
    pub fn new(mut store: impl AsContextMut, tag: &Tag, values: &[Val]) -> Result<ExnRef> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let ty = tag.ty_in_store(store);
        if values.len() != ty.params().len()
            || !values
                .iter()
                .zip(ty.params())
                .all(|(v, &t)| v.matches(store, t))
        {
            return Err(Error::msg(format!(
                "exception values do not match the tag's type {ty}"
            )));
        }
        let raw = values
            .iter()
            .map(|v| v.to_raw(store))
            .collect::<Result<Vec<_>>>()?;
        let object = store.new_exception(tag.definition(store));
        // SAFETY: the object was just made with one slot per parameter.
        unsafe {
            for (i, r) in raw.into_iter().enumerate() {
                *(*object).values.add(i) = r;
            }
        }
        let ptr = NonNull::new(object).expect("a box is not null");
        Ok(ExnRef::from_raw(store.id(), ptr))
    }

    /// The raw `exnref`, checking the store.
    pub(crate) fn raw(&self, store: &StoreOpaque) -> Result<usize> {
        self.raw_in(store.id())
            .ok_or_else(|| Error::msg("exception used with the wrong store"))
    }

    /// The tag the exception was thrown with.
    ///
    /// # Panics
    ///
    /// If the exception belongs to another store.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        self.tag_in_store(store.as_context().opaque())
    }

    fn tag_in_store(&self, store: &StoreOpaque) -> Tag {
        self.raw(store)
            .expect("exception used with the wrong store");
        // SAFETY: the object belongs to this store (checked), which keeps
        // it and its tag alive.
        let definition = unsafe { self.object().as_ref() }.tag;
        let index = store
            .tag_index(definition)
            .expect("an exception's tag belongs to its store");
        Tag::from_index(store.id(), index)
    }

    /// The exception's payload.
    ///
    /// # Panics
    ///
    /// If the exception belongs to another store.
    pub fn values(&self, store: impl AsContext) -> Vec<Val> {
        let store = store.as_context().opaque();
        let ty = self.tag_in_store(store).ty_in_store(store);
        // SAFETY: the object belongs to this store (checked by `tag_in_store`) and
        // has one slot per parameter of its tag's type, each written by
        // `throw` or `ExnRef::new` with a value of that type.
        unsafe {
            let values = self.object().as_ref().values;
            ty.params()
                .iter()
                .enumerate()
                .map(|(i, &t)| Val::from_raw(*values.add(i), t, store))
                .collect()
        }
    }
}

/// Where a throw resumes, for the exception `exn` thrown below the frame
/// whose frame pointer is `fp` (the `cljit_throw` stub's): a handler, or
/// the entry with the exception recorded as the call's error. Called by
/// `cljit_throw` only.
///
/// # Safety
///
/// `vmctx` is the thrower's vmctx, `exn` an exception of its store, and
/// `fp` the frame pointer of `cljit_throw`, called from JIT code running
/// inside `traps::catch_traps` on this thread.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn cljit_throw_unwind(
    vmctx: *mut u8,
    exn: *mut u8,
    fp: usize,
) -> *const Resume {
    let state = traps::current_state().expect("wasm runs inside catch_traps");
    let exn = exn.cast::<VmExnObject>();
    // SAFETY: `exn` is a live exception of the thrower's store.
    let tag = unsafe { (*exn).tag };
    // SAFETY: `fp` is the stub's frame on this thread's stack, below the
    // entry of the current wasm call (the caller's contract).
    let found = registry::with(|reg| unsafe { find_handler(reg, state.stack_top(), fp, tag) });
    let resume = match found {
        Some(handler) => Resume {
            payload: exn as usize,
            ..handler
        },
        None => {
            // SAFETY: the thrower's vmctx leads to its store, which is
            // not otherwise borrowed while wasm runs.
            let (store, _) = unsafe { crate::libcalls::context(vmctx) };
            debug_assert!(store.owns_exception(exn));
            let ptr = NonNull::new(exn).expect("exnref is not null");
            // SAFETY: as for `find_handler` above.
            let pcs = unsafe { wasm_frames(state.stack_top(), fp) };
            let backtrace = traps::symbolize(&pcs);
            let exn = ExnRef::from_raw(store.id(), ptr);
            state.record_error(Error::exception_at(exn, backtrace));
            Resume::unwind_to_entry(state.jmp_buf())
        }
    };
    state.set_resume(resume)
}

/// The first handler for an exception of `tag` in the frames above `fp`.
///
/// # Safety
///
/// `fp` is a frame record on this thread's stack below `stack_top`, the
/// stack pointer of the current wasm call's entry.
unsafe fn find_handler(
    reg: &registry::Registry,
    stack_top: usize,
    mut fp: usize,
    tag: *const VmTagDefinition,
) -> Option<Resume> {
    let mut lower = fp;
    loop {
        // Only follow frame pointers between the stub's frame and the
        // entry's stack pointer, so a corrupt chain cannot fault here.
        if fp < lower || fp >= stack_top || !fp.is_multiple_of(size_of::<usize>()) {
            return None;
        }
        // SAFETY: fp is within the live wasm stack (checked above).
        let (ret, caller_fp) = unsafe { arch::frame_record(fp) };
        let (code, func) = reg.lookup(ret.wrapping_sub(1))?;
        let offset = u32::try_from(ret - func.start).ok()?;
        if let Some(site) = func.handlers.lookup(offset) {
            let counts = code.module.as_ref().map(|m| m.vm_counts());
            // SAFETY: the site belongs to the frame at `caller_fp`, whose
            // call to the frame at `fp` is in progress.
            if let Some(landing) = unsafe { match_site(site, caller_fp, counts, tag) } {
                return Some(Resume {
                    pc: func.start + landing as usize,
                    sp: caller_fp - site.frame_offset as usize,
                    fp: caller_fp,
                    payload: 0,
                    arg: 0,
                });
            }
        }
        lower = fp + 2 * size_of::<usize>();
        fp = caller_fp;
    }
}

/// Where the wasm frames above the frame at `fp` (the throw stub's) are:
/// the thrower's call instruction (its return address less one, as
/// `traps::symbolize` takes the first entry exactly), then its callers'
/// return addresses, at most `traps::MAX_FRAMES`.
///
/// # Safety
///
/// As for [`find_handler`].
unsafe fn wasm_frames(stack_top: usize, mut fp: usize) -> Vec<usize> {
    let mut pcs = Vec::new();
    let mut lower = fp;
    registry::with(|reg| {
        while pcs.len() < traps::MAX_FRAMES {
            if fp < lower || fp >= stack_top || !fp.is_multiple_of(size_of::<usize>()) {
                break;
            }
            // SAFETY: fp is within the live wasm stack (checked above).
            let (ret, caller_fp) = unsafe { arch::frame_record(fp) };
            if !reg.is_wasm(ret.wrapping_sub(1)) {
                break;
            }
            pcs.push(if pcs.is_empty() { ret - 1 } else { ret });
            lower = fp + 2 * size_of::<usize>();
            fp = caller_fp;
        }
    });
    pcs
}

/// The landing offset of the first clause of `site` that catches `tag`,
/// in the frame whose frame pointer is `fp`.
///
/// # Safety
///
/// `site` is a call site of the function whose frame is at `fp`, and that
/// call is in progress.
unsafe fn match_site(
    site: &HandlerSite,
    fp: usize,
    counts: Option<cljit_compiler::abi::VmCounts>,
    tag: *const VmTagDefinition,
) -> Option<u32> {
    let sp = fp - site.frame_offset as usize;
    let mut vmctx: *const u8 = std::ptr::null();
    for clause in &site.clauses {
        match *clause {
            HandlerClause::Context { sp_offset } => {
                // SAFETY: the compiler stored the frame's vmctx at this
                // offset from the call's stack pointer, inside the frame.
                vmctx = unsafe { *((sp + sp_offset as usize) as *const *const u8) };
            }
            HandlerClause::Tag {
                tag: index,
                landing,
            } => {
                let counts = counts?;
                if vmctx.is_null() {
                    continue;
                }
                let offsets = VmOffsets::new(size_of::<usize>() as u8, counts);
                let slot = offsets.vmctx_tag(index) as usize;
                // SAFETY: `vmctx` is this frame's vmctx, whose tag slots
                // hold the definitions of its tags.
                let candidate = unsafe { *(vmctx.add(slot) as *const *const VmTagDefinition) };
                if std::ptr::eq(candidate, tag) {
                    return Some(landing);
                }
            }
            HandlerClause::CatchAll { landing } => return Some(landing),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::store::Store;

    #[test]
    fn released_exceptions_are_freed_unless_escaped() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let tag = store.new_tag(0, 1);
        let def: *const VmTagDefinition = &*store.tags[tag].definition;
        let a = store.new_exception(def);
        let b = store.new_exception(def);
        let c = store.new_exception(def);
        // An exnref to `b` exists: it stays whatever clause sees it.
        let b_ref = ExnRef::from_raw(store.id(), NonNull::new(b).unwrap());
        // SAFETY: all three are live exceptions of this store.
        unsafe {
            store.release_exception(a);
            assert_eq!(store.exceptions.len(), 2);
            // `c` moved into `a`'s slot and knows it.
            assert_eq!((*c).index, 0);
            assert!(std::ptr::eq(&*store.exceptions[0].object, c));
            store.release_exception(b);
            assert_eq!(store.exceptions.len(), 2);
            store.release_exception(c);
            assert_eq!(store.exceptions.len(), 1);
            assert_eq!((*b).index, 0);
        }
        assert_eq!(b_ref.raw(store).unwrap(), b as usize);
    }
}
