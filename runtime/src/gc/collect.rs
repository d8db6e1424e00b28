//! The marking half of the GC heap's collector: finding the roots.
//!
//! A collection runs inside an allocation that found the heap due for one
//! (or full). It marks every object reachable from:
//!
//! - the wasm frames of this store on this thread, precisely: compiled
//!   code keeps every reference live across a call in a stack slot that
//!   the call's stack map names (see the compiler's
//!   `translate/stack_maps.rs`). Every exit from wasm that may collect (a
//!   wasm-to-host trampoline, or the adapter of a collecting builtin)
//!   leaves its frame pointer in the store's `VmRuntimeLimits`, each wasm
//!   call's entry saves the enclosing call's, and the collector walks the
//!   frame-pointer chain from each exit to its entry (`wasm_frame_roots`).
//!   Host frames hold no raw references: the host's are rooted handles;
//! - tables and globals of the `any` and `extern` hierarchies, passive
//!   element segments, and the payloads of the store's exceptions;
//! - objects the host holds a rooted handle to (see `roots.rs`);
//!
//! and, from each marked object, the reference fields its type's layout
//! names. Then the heap sweeps what is unmarked (see `heap.rs`).

use cljit_compiler::abi::gc::GcKind;
use cljit_compiler::types::{HeapType, ValType};

use crate::arch;
use crate::store::StoreOpaque;
use crate::traps::{self, registry};

/// Calls `f` with every GC reference the wasm frames of one wasm call
/// hold across their calls: walking the frame-pointer chain from `exit_fp`
/// (the frame of an exit from wasm: a wasm-to-host trampoline's or a
/// collecting builtin's adapter's) up to the call's entry at `stack_top`,
/// each return address into compiled code names a call site, whose stack
/// map lists the slots, relative to the calling frame's stack pointer at
/// the call, that hold references.
///
/// # Safety
///
/// `exit_fp` must be 0 or the frame pointer of the last exit from wasm of
/// a wasm call in progress on this thread whose entry is at `stack_top`,
/// with the frames between still live.
unsafe fn wasm_frame_roots(exit_fp: usize, stack_top: usize, f: &mut impl FnMut(usize)) {
    let mut fp = exit_fp;
    registry::with(|reg| {
        while fp != 0 && fp < stack_top && fp.is_multiple_of(size_of::<usize>()) {
            // SAFETY: `fp` is a frame pointer of this call's stack, below
            // its entry (checked above): the exit's frame, or a compiled
            // frame reached from it, each of which has a frame record.
            let (ret, caller_fp) = unsafe { arch::frame_record(fp) };
            // The call instruction ends just before its return address.
            let Some((_, func)) = reg.lookup(ret.wrapping_sub(1)) else {
                // Host code: the call's entry.
                break;
            };
            let offset = u32::try_from(ret - func.start).expect("functions are small");
            if let Some(site) = func.handlers.lookup(offset)
                && !site.gc_slots.is_empty()
            {
                let sp = caller_fp - site.frame_offset as usize;
                debug_assert_eq!(sp, fp + 2 * size_of::<usize>(), "a frame's size");
                for &slot in &site.gc_slots {
                    // SAFETY: the stack map names a slot of the calling
                    // frame, live while its call runs, holding a
                    // reference word.
                    f(unsafe { *((sp + slot as usize) as *const usize) });
                }
            }
            if caller_fp <= fp {
                break;
            }
            fp = caller_fp;
        }
    });
}

/// Whether a reference of this type may point into the GC heap.
fn may_hold_objects(ty: ValType) -> bool {
    matches!(ty, ValType::Ref(r) if matches!(r.heap.top(), HeapType::Any | HeapType::Extern))
}

impl StoreOpaque {
    /// A zeroed object of `size` bytes of engine type `id`, collecting
    /// first when the heap is due for it and `may_collect` (a caller that
    /// holds new objects where the collector cannot see them, such as a
    /// constant expression's evaluation, passes false). `None` when the
    /// heap is full even after a collection.
    pub(crate) fn gc_alloc(
        &mut self,
        size: u32,
        id: u32,
        kind: GcKind,
        may_collect: bool,
    ) -> Option<usize> {
        let mut collected = false;
        if may_collect && self.gc.wants_collection(size) {
            self.collect_garbage();
            collected = true;
        }
        if let Some(object) = self.gc.alloc(size, id, kind) {
            return Some(object);
        }
        // Full: what a collection frees may make room.
        if may_collect && !collected {
            self.collect_garbage();
            return self.gc.alloc(size, id, kind);
        }
        None
    }

    /// Frees every object nothing reachable refers to; returns the bytes
    /// freed.
    pub(crate) fn collect_garbage(&mut self) -> usize {
        let heap = &self.gc;
        let mut work: Vec<usize> = Vec::new();
        // Every root is an exact reference: an object of this heap, or
        // null, an `i31`, a host value, or (in a frame of another store's
        // wasm) another heap's object, none of which is one of ours.
        let mut candidate = |word: usize| {
            if heap.object_containing(word) == Some(word) && heap.mark(word) {
                work.push(word);
            }
        };
        let limits: *const crate::vm::vmcontext::VmRuntimeLimits = &*self.limits;
        for (exit_fp, stack_top) in traps::wasm_activations(limits) {
            // SAFETY: `exit_fp` is the frame of this store's last exit from
            // the wasm call whose entry is at `stack_top`, still running on
            // this thread (an exit that may collect recorded it).
            unsafe { wasm_frame_roots(exit_fp, stack_top, &mut candidate) };
        }
        for table in &self.tables {
            if may_hold_objects(ValType::Ref(table.ty().element)) {
                for &element in table.elements() {
                    candidate(element);
                }
            }
        }
        for global in &self.globals {
            if may_hold_objects(global.ty.content) {
                // SAFETY: a global's definition lives as long as the store
                // and holds a value of its type, here a pointer-sized
                // reference.
                let raw = unsafe { (*global.definition).storage };
                candidate(usize::from_ne_bytes(
                    raw[..size_of::<usize>()].try_into().expect("a word"),
                ));
            }
        }
        for instance in &self.instances {
            for segment in instance.passive_elements.iter().flatten() {
                for &word in segment.iter() {
                    candidate(word);
                }
            }
        }
        for slot in &self.exceptions {
            let object = &*slot.object;
            // SAFETY: an exception's tag is a definition of this store,
            // alive as long as the store.
            let params = unsafe { (*object.tag).params } as usize;
            for i in 0..params {
                // SAFETY: the object has one payload slot per parameter of
                // its tag's type.
                candidate(unsafe { *object.values.add(i) }.get_pointer());
            }
        }
        heap.roots.objects(&mut candidate);
        while let Some(object) = work.pop() {
            // SAFETY: only objects of this heap are marked and pushed.
            unsafe {
                heap.trace(object, |word| {
                    // SAFETY: `trace` reads the object's reference fields.
                    if let Some(child) = super::GcHeap::field_object(word)
                        && heap.mark(child)
                    {
                        work.push(child);
                    }
                })
            };
        }
        self.gc.sweep()
    }
}
