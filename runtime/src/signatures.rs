//! The engine-wide registry of defined types (function, struct and array
//! types): every distinct type gets one `u32` id, shared by all modules of
//! the engine, so `call_indirect` and casts check a type with one integer
//! compare, across modules.
//!
//! Types are registered by recursion group, as WebAssembly 3.0 defines
//! their identity (iso-recursively): two types are the same when they sit
//! at the same place in equal groups, a group's members referring to each
//! other by their place in it (see `CompositeType::in_rec_group`). A type
//! declared alone is a group of one. A group of `n` types gets `n`
//! consecutive ids.
//!
//! A member's declaration (final or not, and its supertype) is part of its
//! identity, and the registry keeps each id's supertype, so that
//! `call_indirect` to an open type and import matching can accept a
//! declared subtype ([`SignatureRegistry::is_subtype`]).
//!
//! Ids are never reused or freed: the registry grows with the number of
//! distinct function types an engine has seen.

use std::collections::HashMap;
use std::sync::RwLock;

use cljit_compiler::types::{CompositeType, FuncType, GroupMember, HeapType, SubtypeDecl};

/// Types by id and ids by type.
#[derive(Debug, Default)]
pub(crate) struct SignatureRegistry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The first id of each group registered, by the group's members.
    groups: HashMap<Box<[GroupMember]>, u32>,
    /// Every type by id, references into its group resolved to ids.
    types: Vec<CompositeType>,
    /// Every type's declared supertype by id: always a smaller id (an
    /// earlier group's, or an earlier member's of its own group).
    supertypes: Vec<Option<u32>>,
}

impl SignatureRegistry {
    /// The id of `ty`, a final function type declared alone (its
    /// references are engine ids), registering it if new.
    pub(crate) fn register(&self, ty: &FuncType) -> u32 {
        self.register_group(&[GroupMember {
            decl: SubtypeDecl::default(),
            ty: CompositeType::Func(ty.clone()),
        }])
    }

    /// The id of the first type of recursion group `group`, registering
    /// the group if new; its other types have the ids after it. Members
    /// refer to each other as `HeapType::Module` types of their place in the
    /// group, and to other types by engine id.
    ///
    /// # Panics
    ///
    /// If `group` is empty (a group always holds a type).
    pub(crate) fn register_group(&self, group: &[GroupMember]) -> u32 {
        assert!(!group.is_empty(), "a recursion group holds a type");
        if let Some(&id) = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .groups
            .get(group)
        {
            return id;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = inner.groups.get(group) {
            return id;
        }
        let first = u32::try_from(inner.types.len()).expect("fewer than 2^32 signatures");
        u32::try_from(group.len())
            .ok()
            .and_then(|n| first.checked_add(n))
            .expect("fewer than 2^32 signatures");
        let resolve = |heap: HeapType| match heap {
            HeapType::Module(_, i) => first + i,
            HeapType::Engine(_, id) => id,
            other => unreachable!("a supertype is a concrete type, not {other}"),
        };
        for member in group {
            inner.types.push(
                member
                    .ty
                    .map_type_indices(|kind, i| HeapType::Engine(kind, first + i)),
            );
            inner.supertypes.push(member.decl.supertype.map(resolve));
        }
        inner.groups.insert(group.into(), first);
        first
    }

    /// Whether type `sub` is `sup` or declares it as a supertype, directly
    /// or through its supertypes.
    pub(crate) fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        // Equal types, the common case (every import of a final type),
        // need no lock.
        if sub == sup {
            return true;
        }
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut at = Some(sub);
        // Each supertype has a smaller id, so the walk ends.
        while let Some(id) = at {
            if id == sup {
                return true;
            }
            if id < sup {
                return false;
            }
            at = inner.supertypes.get(id as usize).copied().flatten();
        }
        false
    }

    /// The function type with id `id`.
    ///
    /// # Panics
    ///
    /// If `id` is not a function type's id (callers hold a function's).
    pub(crate) fn lookup(&self, id: u32) -> FuncType {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).types[id as usize]
            .func()
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cljit_compiler::types::{RefType, TypeKind, ValType};

    #[test]
    fn equal_types_share_an_id() {
        let r = SignatureRegistry::default();
        let a = r.register(&FuncType::new([ValType::I32], [ValType::I64]));
        let b = r.register(&FuncType::new([ValType::I32], []));
        let c = r.register(&FuncType::new([ValType::I32], [ValType::I64]));
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(r.lookup(b).params(), &[ValType::I32]);
    }

    /// `(func (param (ref null $self)))`, by its place in its group.
    fn refers_to(place: u32) -> FuncType {
        FuncType::new(
            [ValType::Ref(RefType::new(
                true,
                HeapType::Module(TypeKind::Func, place),
            ))],
            [],
        )
    }

    fn member(ty: FuncType) -> GroupMember {
        GroupMember {
            decl: SubtypeDecl::default(),
            ty: CompositeType::Func(ty),
        }
    }

    #[test]
    fn supertypes_are_part_of_identity_and_walked() {
        let r = SignatureRegistry::default();
        let open = |supertype| GroupMember {
            decl: SubtypeDecl {
                is_final: false,
                supertype,
            },
            ty: CompositeType::Func(FuncType::new([], [])),
        };
        let base = r.register_group(&[open(None)]);
        let plain = r.register(&FuncType::new([], []));
        assert_ne!(base, plain, "an open type is not the final one");
        let mid = r.register_group(&[open(Some(HeapType::Engine(TypeKind::Func, base)))]);
        // A group whose second member extends its first.
        let pair = r.register_group(&[
            open(Some(HeapType::Engine(TypeKind::Func, mid))),
            open(Some(HeapType::Module(TypeKind::Func, 0))),
        ]);
        assert!(r.is_subtype(mid, base));
        assert!(r.is_subtype(pair + 1, base), "through two supertypes");
        assert!(r.is_subtype(pair + 1, pair));
        assert!(!r.is_subtype(base, mid), "not downwards");
        assert!(!r.is_subtype(plain, base));
        assert!(!r.is_subtype(pair, pair + 1));
        assert!(r.is_subtype(plain, plain));
    }

    #[test]
    fn groups_are_identified_by_their_members_in_order() {
        let r = SignatureRegistry::default();
        // (rec (type $a (func (param (ref null $b)))) (type $b (func (param (ref null $a)))))
        let pair = [member(refers_to(1)), member(refers_to(0))];
        let first = r.register_group(&pair);
        assert_eq!(r.register_group(&pair), first, "an equal group is the same");
        // The same shape alone is a different type: a group of one.
        let alone = r.register_group(&[member(refers_to(0))]);
        assert_ne!(alone, first);
        assert_ne!(alone, first + 1);
        // Members resolve to their group's ids.
        let expect = |id| {
            FuncType::new(
                [ValType::Ref(RefType::new(
                    true,
                    HeapType::Engine(TypeKind::Func, id),
                ))],
                [],
            )
        };
        assert_eq!(r.lookup(first), expect(first + 1));
        assert_eq!(r.lookup(first + 1), expect(first));
        assert_eq!(r.lookup(alone), expect(alone));
        // Ids run on after a group.
        let plain = r.register(&FuncType::new([ValType::I32], []));
        assert_eq!(plain, alone + 1);
    }
}
