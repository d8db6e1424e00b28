//! Reclaiming exceptions that wasm holds `exnref`s to.
//!
//! An exception caught only for its payload is freed by its catch clause
//! (`exn_release`). Once a `catch_ref`, `catch_all_ref` or legacy clause
//! has made an `exnref` to it, copies may sit wherever wasm keeps values:
//! in the registers and stack slots of wasm frames, in tables and globals
//! of an `exn` type, and in the payload of other exceptions. C++ built
//! with wasm exceptions passes nearly every exception through such a
//! clause (a cleanup runs destructors, then `throw_ref`s it on), so without
//! this collector a program throwing in a loop grows without bound.
//!
//! When a store's exceptions have doubled since the last collection, the
//! next one to be made first marks every exception reachable from those
//! places and frees the rest. Frames are scanned conservatively: any word
//! of this thread's stack between the collector and the outermost wasm
//! entry, and any callee-saved register, that equals the address of one of
//! the store's exceptions keeps it alive. A stale word may keep garbage a
//! while longer; nothing live is freed, because compiled code keeps an
//! `exnref` nowhere else (it never stores one in linear memory). An
//! exception the host has a handle to ([`crate::ExnRef`]) is pinned until
//! the store ends. The GC heap's collector reads wasm frames through
//! Cranelift's stack maps instead (`gc/collect.rs`); this one could too
//! once every place compiled code keeps an exception is declared to
//! Cranelift: `exnref` operand values, and the legacy `try` translation's
//! own variable holding the caught exception.

use cljit_compiler::types::{HeapType, ValType};

use crate::arch;
use crate::store::StoreOpaque;
use crate::traps;
use crate::vm::vmcontext::{EXN_PINNED, VmExnObject};

/// Fewest exceptions a store holds before it looks for unreachable ones.
pub(crate) const COLLECT_MIN: usize = 1024;

/// Marking state: the store's exceptions by address, which are reached,
/// and which still have their payload to scan.
struct Marker {
    /// `(address, index)` of every exception, sorted by address.
    by_address: Vec<(usize, usize)>,
    marked: Vec<bool>,
    work: Vec<usize>,
}

impl Marker {
    /// Marks the exception at address `word`, if `word` is one.
    fn word(&mut self, word: usize) {
        if let Ok(at) = self.by_address.binary_search_by_key(&word, |&(a, _)| a) {
            let index = self.by_address[at].1;
            if !self.marked[index] {
                self.marked[index] = true;
                self.work.push(index);
            }
        }
    }
}

impl StoreOpaque {
    /// Collects unreachable exceptions if there are twice as many as the
    /// last collection left (and at least [`COLLECT_MIN`]).
    pub(crate) fn maybe_collect_exceptions(&mut self) {
        if self.exceptions.len() >= self.exn_collect_at.max(COLLECT_MIN) {
            self.collect_exceptions();
            self.exn_collect_at = (2 * self.exceptions.len()).max(COLLECT_MIN);
        }
    }

    /// Frees every exception no wasm frame, table, global, reachable
    /// payload or host handle refers to; returns how many were freed.
    ///
    /// Never inlined, so that the stack it scans (from its own locals up)
    /// covers every frame that called it and the registers those frames
    /// kept values in.
    #[inline(never)]
    pub(crate) fn collect_exceptions(&mut self) -> usize {
        let registers = arch::callee_saved_registers();
        let mut by_address: Vec<(usize, usize)> = self
            .exceptions
            .iter()
            .enumerate()
            .map(|(i, slot)| (&*slot.object as *const VmExnObject as usize, i))
            .collect();
        by_address.sort_unstable();
        let mut marker = Marker {
            by_address,
            marked: vec![false; self.exceptions.len()],
            work: Vec::new(),
        };

        for (i, slot) in self.exceptions.iter().enumerate() {
            if slot.object.escaped & EXN_PINNED != 0 {
                marker.marked[i] = true;
                marker.work.push(i);
            }
        }
        for &r in &registers {
            marker.word(r);
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
                marker.word(unsafe { std::ptr::read_volatile(at as *const usize) });
                at += size_of::<usize>();
            }
        }
        for table in &self.tables {
            if table.ty().element.heap == HeapType::Exn {
                for &element in table.elements() {
                    marker.word(element);
                }
            }
        }
        for global in &self.globals {
            if matches!(global.ty.content, ValType::Ref(r) if r.heap == HeapType::Exn) {
                // SAFETY: a global's definition lives as long as the store
                // (in an instance's vmctx or boxed in the slot) and holds a
                // value of its type, here a pointer-sized reference.
                let raw = unsafe { (*global.definition).storage };
                marker.word(usize::from_ne_bytes(
                    raw[..size_of::<usize>()].try_into().expect("a word"),
                ));
            }
        }
        // Exceptions structs and arrays hold (the GC heap's objects are not
        // traced from here: any of them may still be reachable).
        self.gc.exception_words(|word| marker.word(word));
        while let Some(index) = marker.work.pop() {
            let object = &*self.exceptions[index].object;
            // SAFETY: an exception's tag is a definition of this store,
            // alive as long as the store.
            let params = unsafe { (*object.tag).params } as usize;
            for i in 0..params {
                // SAFETY: the object has one payload slot per parameter of
                // its tag's type.
                let slot = unsafe { *object.values.add(i) };
                marker.word(slot.get_pointer());
            }
        }

        let before = self.exceptions.len();
        let mut i = 0;
        self.exceptions.retain(|_| {
            i += 1;
            marker.marked[i - 1]
        });
        for (index, slot) in self.exceptions.iter_mut().enumerate() {
            slot.object.index = index;
        }
        before - self.exceptions.len()
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{AsContext, AsContextMut};
    use crate::{Caller, Engine, ExnRef, FuncType, Linker, Module, Store, Tag, Val, ValType};

    /// Exceptions held by `exnref` in a local, a table, a global, the
    /// payload of another exception, and a frame below a host re-entry,
    /// while `churn` throws through C++-style cleanups (`catch_all_ref`,
    /// then `throw_ref`) often enough to collect many times.
    const GUEST: &str = r#"
    (module
      (import "host" "reenter" (func $reenter (param i32)))
      (tag $e (param i32))
      (tag $box (param exnref))
      (table $t 2 exnref)
      (global $g (mut exnref) (ref.null exn))
      (func $throw (param i32) (throw $e (local.get 0)))
      (func $cleanup (param i32)
        (throw_ref
          (block $h (result exnref)
            (try_table (catch_all_ref $h) (call $throw (local.get 0)))
            (return))))
      (func $churn (export "churn") (param $n i32) (result i32)
        (local $i i32) (local $sum i32)
        (loop $l
          (block $h (result i32)
            (try_table (catch $e $h) (call $cleanup (local.get $i)))
            (unreachable))
          (local.set $sum (i32.add (local.get $sum)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $sum))
      (func $make (param i32) (result exnref)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (call $throw (local.get 0)))
          (unreachable)))
      (func $value (param exnref) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (throw_ref (local.get 0)))
          (unreachable)))
      (func $unbox (param exnref) (result i32)
        (call $value
          (block $h (result exnref)
            (try_table (catch $box $h) (throw_ref (local.get 0)))
            (unreachable))))
      (func (export "hold") (param $n i32) (result i32)
        (local $a exnref) (local $b exnref)
        (local.set $a (call $make (i32.const 11)))
        (table.set $t (i32.const 0) (call $make (i32.const 22)))
        (global.set $g (call $make (i32.const 33)))
        (table.set $t (i32.const 1)
          (block $h (result exnref)
            (try_table (catch_all_ref $h) (throw $box (call $make (i32.const 44))))
            (unreachable)))
        (local.set $b (call $make (i32.const 55)))
        (drop (call $churn (local.get $n)))
        (call $reenter (local.get $n))
        (i32.add
          (i32.add
            (i32.add (call $value (local.get $a)) (call $value (table.get $t (i32.const 0))))
            (i32.add (call $value (global.get $g)) (call $unbox (table.get $t (i32.const 1)))))
          (call $value (local.get $b))))
    )
    "#;

    #[test]
    fn unreachable_exceptions_are_collected_and_reachable_ones_kept() {
        let engine = Engine::default();
        let module = Module::new(&engine, GUEST).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "reenter", |mut caller: Caller<'_, ()>, n: i32| {
                let churn = caller
                    .get_export("churn")
                    .and_then(|e| e.into_func())
                    .expect("churn is exported");
                let mut out = [Val::I32(0)];
                churn.call(&mut caller, &[Val::I32(n)], &mut out).unwrap();
            })
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();

        // A handle the host keeps: pinned, whatever the collector sees.
        let host_tag = Tag::new(&mut store, &FuncType::new([ValType::I64], [])).unwrap();
        let kept = ExnRef::new(&mut store, &host_tag, &[Val::I64(-7)]).unwrap();

        let hold = instance
            .get_typed_func::<i32, i32>(&mut store, "hold")
            .unwrap();
        let n = 20_000;
        assert_eq!(hold.call(&mut store, n).unwrap(), 11 + 22 + 33 + 44 + 55);
        // 2 × 20,000 exceptions went through cleanups; what is left is the
        // garbage since the last collection, below the next threshold.
        let left = store.as_context().opaque().exceptions.len();
        assert!(
            left <= super::COLLECT_MIN + 16,
            "{left} exceptions left after 40,000 thrown"
        );
        assert!(store.as_context().opaque().exn_collect_at <= 2 * super::COLLECT_MIN);
        match kept.values(&store)[..] {
            [Val::I64(v)] => assert_eq!(v, -7),
            ref other => panic!("kept exception holds {other:?}"),
        }
    }

    #[test]
    fn a_collection_outside_wasm_keeps_only_pinned_and_stored_exceptions() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let tag = Tag::new(&mut store, &FuncType::new([ValType::I32], [])).unwrap();
        let pinned = ExnRef::new(&mut store, &tag, &[Val::I32(5)]).unwrap();
        let mut cx = store.as_context_mut();
        let opaque = cx.opaque_mut();
        let definition = tag.definition(opaque);
        // Exceptions wasm once referred to (bit 0) and nothing reaches now.
        for _ in 0..100 {
            let object = opaque.new_exception(definition);
            // SAFETY: `object` was just made by this store.
            unsafe { (*object).escaped = 1 };
        }
        assert_eq!(opaque.exceptions.len(), 101);
        let freed = opaque.collect_exceptions();
        // The registers scanned conservatively may hold a few addresses.
        assert!(freed >= 100 - 6, "freed only {freed}");
        assert!(opaque.exceptions.len() <= 7);
        for (index, slot) in opaque.exceptions.iter().enumerate() {
            assert_eq!(slot.object.index, index);
        }
        match pinned.values(&store)[..] {
            [Val::I32(v)] => assert_eq!(v, 5),
            ref other => panic!("pinned exception holds {other:?}"),
        }
    }
}
