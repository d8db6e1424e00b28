//! The engine-wide registry of function types: every distinct type gets one
//! `u32` id, shared by all modules of the engine, so `call_indirect` checks a
//! type with one integer compare, across modules.
//!
//! Ids are never reused or freed: the registry grows with the number of
//! distinct function types an engine has seen.

use std::collections::HashMap;
use std::sync::RwLock;

use cljit_compiler::types::FuncType;

/// Function types by id and ids by type.
#[derive(Debug, Default)]
pub(crate) struct SignatureRegistry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

impl SignatureRegistry {
    /// The id of `ty`, registering it if new.
    pub(crate) fn register(&self, ty: &FuncType) -> u32 {
        if let Some(&id) = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .ids
            .get(ty)
        {
            return id;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = inner.ids.get(ty) {
            return id;
        }
        let id = u32::try_from(inner.types.len()).expect("fewer than 2^32 signatures");
        inner.types.push(ty.clone());
        inner.ids.insert(ty.clone(), id);
        id
    }

    /// The type with id `id`.
    ///
    /// # Panics
    ///
    /// If `id` was not returned by `register` (ids come only from it).
    pub(crate) fn lookup(&self, id: u32) -> FuncType {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).types[id as usize].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cljit_compiler::types::ValType;

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
}
