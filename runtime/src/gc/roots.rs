//! Host handles to GC objects: the store's root list and the scopes that
//! end roots.
//!
//! A handle the host gets to a struct or an array ([`AnyRef`], or an
//! [`ExternRef`] made by `extern.convert_any`) roots its object: the
//! object's address goes on the store's root list, which the collector
//! reads, and the handle remembers its entry. Entries end in last-made,
//! first-ended order: when the [`RootScope`] they were made in ends, when
//! the host function call they were made in returns, or (made outside
//! both) when the store ends. A handle whose entry ended is refused with
//! an error when used; it never reaches memory that may have been freed.
//!
//! [`AnyRef`]: crate::AnyRef
//! [`ExternRef`]: crate::ExternRef

use std::cell::{Cell, RefCell};

use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut};

/// A handle's entry in its store's root list: its place and the
/// generation of the entry made there for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Root {
    index: u32,
    generation: u64,
}

/// A store's root list: the objects host handles keep alive.
///
/// Handles are `Copy` and are made where the store is only lent for
/// reading (a field read, a call's results), so the list is a `RefCell`.
#[derive(Debug, Default)]
pub(crate) struct Roots {
    /// Each entry's object and generation, oldest first.
    entries: RefCell<Vec<(usize, u64)>>,
    /// The generation of the next entry: entries are numbered in the
    /// order they are made, so no two of a store's share one.
    next: Cell<u64>,
}

impl Roots {
    /// Roots `object` until the innermost scope open now ends.
    pub(crate) fn push(&self, object: usize) -> Root {
        let mut entries = self.entries.borrow_mut();
        let generation = self.next.get();
        self.next.set(generation + 1);
        let index = u32::try_from(entries.len()).expect("fewer than 2^32 rooted handles");
        entries.push((object, generation));
        Root { index, generation }
    }

    /// Whether `root`'s entry is still on the list.
    pub(crate) fn is_live(&self, root: Root) -> bool {
        self.entries
            .borrow()
            .get(root.index as usize)
            .is_some_and(|&(_, generation)| generation == root.generation)
    }

    /// How many entries the list holds: where a scope opened now begins.
    pub(crate) fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Ends every entry made since the list held `len`.
    pub(crate) fn truncate(&self, len: usize) {
        self.entries.borrow_mut().truncate(len);
    }

    /// Calls `f` with every rooted object.
    pub(crate) fn objects(&self, mut f: impl FnMut(usize)) {
        for &(object, _) in self.entries.borrow().iter() {
            f(object);
        }
    }
}

/// A scope for host handles to GC objects: every struct or array handle
/// made through it (or through its store while it is open) stops keeping
/// its object alive when the scope ends, and is refused from then on.
///
/// A host that runs many calls on one store should make its handles in
/// scopes: handles made outside any (and outside host function calls,
/// which are scopes of their own) live as long as the store.
///
/// ```
/// # use cljit_runtime::{Engine, Instance, Module, RootScope, Store, Val};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (type $pair (struct (field i32) (field i32)))
///     (func (export "make") (result anyref)
///         (struct.new $pair (i32.const 1) (i32.const 2))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let make = instance.get_func(&store, "make").unwrap();
/// let kept = {
///     let mut scope = RootScope::new(&mut store);
///     let mut results = [Val::I32(0)];
///     make.call(&mut scope, &[], &mut results)?;
///     let Val::AnyRef(Some(pair)) = results[0] else { unreachable!() };
///     assert_eq!(pair.field(&scope, 1)?.i32().unwrap(), 2);
///     pair
/// };
/// // The scope ended: the pair may be collected, and the handle is refused.
/// assert!(kept.field(&store, 1).is_err());
/// # Ok::<(), cljit_runtime::Error>(())
/// ```
pub struct RootScope<C: AsContextMut> {
    store: C,
    /// The length of the root list when the scope opened.
    base: usize,
}

impl<C: AsContextMut> RootScope<C> {
    /// Opens a scope on `store`; it ends when dropped.
    pub fn new(mut store: C) -> RootScope<C> {
        let base = store.as_context_mut().opaque().gc.roots.len();
        RootScope { store, base }
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        self.store.as_context_mut()
    }
}

impl<C: AsContextMut> Drop for RootScope<C> {
    fn drop(&mut self) {
        let base = self.base;
        self.store.as_context_mut().opaque().gc.roots.truncate(base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_end_last_made_first_and_never_come_back() {
        let roots = Roots::default();
        let a = roots.push(0x1000);
        let base = roots.len();
        let b = roots.push(0x2000);
        assert!(roots.is_live(a) && roots.is_live(b));
        roots.truncate(base);
        assert!(roots.is_live(a));
        assert!(!roots.is_live(b));
        // A new entry in the same place is not the old one.
        let c = roots.push(0x3000);
        assert!(roots.is_live(c));
        assert!(!roots.is_live(b));
        let mut seen = Vec::new();
        roots.objects(|o| seen.push(o));
        assert_eq!(seen, [0x1000, 0x3000]);
    }
}
