//! The marking half of the GC heap's collector: finding the roots.
//!
//! A collection runs inside an allocation that found the heap due for one
//! (or full). It marks every object reachable from:
//!
//! - the wasm frames of this thread: every word of the stack between the
//!   collector and the outermost wasm entry, and every callee-saved
//!   register, is a candidate, and an address inside an object (its start
//!   or any field: Cranelift may keep only a derived address live) keeps
//!   the object alive. This is the conservative scan the exception
//!   collector uses (`exn_collect.rs`); since the heap never moves an
//!   object, a scan that sometimes keeps garbage alive is sound;
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
use crate::traps;

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
    ///
    /// Never inlined, so that the stack it scans (from its own locals up)
    /// covers every frame that called it and the registers those frames
    /// kept values in.
    #[inline(never)]
    pub(crate) fn collect_garbage(&mut self) -> usize {
        let registers = arch::callee_saved_registers();
        let heap = &self.gc;
        let mut work: Vec<usize> = Vec::new();
        let mut candidate = |word: usize| {
            if let Some(object) = heap.object_containing(word)
                && heap.mark(object)
            {
                work.push(object);
            }
        };
        for &r in &registers {
            candidate(r);
        }
        let low = std::hint::black_box(&registers).as_ptr() as usize;
        if let Some(top) = traps::outermost_stack_top() {
            let mut at = low;
            while at + size_of::<usize>() <= top {
                // SAFETY: `at` is word-aligned (it starts at an array of
                // words) and lies between this frame's locals and the
                // stack pointer of the outermost wasm entry on this
                // thread, stack that is mapped and in use by this call's
                // callers. A volatile read takes whatever bits are there,
                // which is all a conservative scan needs.
                candidate(unsafe { std::ptr::read_volatile(at as *const usize) });
                at += size_of::<usize>();
            }
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
