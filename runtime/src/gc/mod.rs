//! References of the GC proposal's `any` hierarchy as the host sees them:
//! [`I31`] values and [`AnyRef`] handles, and the word they are in compiled
//! code (see `cljit_compiler::abi::gc`).

use std::num::NonZeroUsize;

use cljit_compiler::abi::gc::{GcKind, I31_TAG};

use crate::error::{Error, Result};
use crate::store::{AsContextMut, StoreId};
use crate::values::ExternRef;

/// The header every object behind a reference word starts with (see
/// `cljit_compiler::abi::gc`): its engine type id and its kind.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct GcHeader {
    /// The engine type id of a struct or array; unused for host values.
    pub(crate) type_id: u32,
    /// A [`GcKind`], as its byte.
    pub(crate) kind: u8,
    _reserved: [u8; 3],
}

impl GcHeader {
    /// The header of a host value.
    pub(crate) const EXTERN: GcHeader = GcHeader {
        type_id: u32::MAX,
        kind: GcKind::Extern as u8,
        _reserved: [0; 3],
    };
}

/// The word of `ref.i31 v`: `v`'s low 31 bits, shifted left, tagged.
pub(crate) fn i31_word(v: i32) -> usize {
    ((v as u32) << 1 | I31_TAG as u32) as usize
}

/// Whether a non-null reference word is an `i31`.
pub(crate) fn is_i31_word(word: usize) -> bool {
    word & I31_TAG as usize != 0
}

/// A 31-bit integer held in a reference (`i31ref`) rather than in an
/// object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The low 31 bits of `v` (as `ref.i31` keeps them).
    pub fn wrapping_u32(v: u32) -> I31 {
        I31(v & 0x7fff_ffff)
    }

    /// The low 31 bits of `v`, two's complement (as `ref.i31` keeps them).
    pub fn wrapping_i32(v: i32) -> I31 {
        I31::wrapping_u32(v as u32)
    }

    /// `v`, if it fits in 31 bits unsigned.
    pub fn new_u32(v: u32) -> Option<I31> {
        (v < 1 << 31).then_some(I31(v))
    }

    /// `v`, if it fits in 31 bits signed.
    pub fn new_i32(v: i32) -> Option<I31> {
        (-(1 << 30)..1 << 30)
            .contains(&v)
            .then_some(I31::wrapping_i32(v))
    }

    /// The value zero-extended (`i31.get_u`).
    pub fn get_u32(self) -> u32 {
        self.0
    }

    /// The value sign-extended (`i31.get_s`).
    pub fn get_i32(self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }

    fn word(self) -> NonZeroUsize {
        NonZeroUsize::new(i31_word(self.0 as i32)).expect("tagged words are not zero")
    }
}

/// A non-null reference of the `any` hierarchy (`anyref`): an `i31`, or a
/// host value converted with `any.convert_extern`. It belongs to a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnyRef {
    store: StoreId,
    word: NonZeroUsize,
}

impl AnyRef {
    /// The `anyref` holding `value`, for use in `store`.
    pub fn from_i31(mut store: impl AsContextMut, value: I31) -> AnyRef {
        let id = store.as_context_mut().opaque().id();
        AnyRef {
            store: id,
            word: value.word(),
        }
    }

    /// `any.convert_extern`: the host reference seen as an `anyref`.
    pub fn convert_extern(externref: ExternRef) -> AnyRef {
        let (store, word) = externref.parts();
        AnyRef { store, word }
    }

    /// The `i31` value, if this reference is one.
    pub fn as_i31(&self) -> Option<I31> {
        is_i31_word(self.word.get()).then(|| I31::wrapping_u32((self.word.get() >> 1) as u32))
    }

    /// Whether this is an `i31`.
    pub fn is_i31(&self) -> bool {
        is_i31_word(self.word.get())
    }

    /// Whether this is a struct, an array or an `i31`: a value of `eq`.
    pub fn is_eq(&self) -> bool {
        self.is_i31()
    }

    /// The reference as `extern.convert_any` gives it.
    pub fn to_extern(&self) -> ExternRef {
        ExternRef::from_parts(self.store, self.word)
    }

    /// A handle for `word`, a non-null word of the `any` hierarchy made in
    /// store `store`.
    pub(crate) fn from_word(store: StoreId, word: NonZeroUsize) -> AnyRef {
        AnyRef { store, word }
    }

    /// The raw word, if the handle may be used in store `store` (an `i31`
    /// may be used in any).
    pub(crate) fn raw(&self, store: StoreId) -> Result<usize> {
        if store != self.store && !self.is_i31() {
            return Err(Error::msg("anyref used with the wrong store"));
        }
        Ok(self.word.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i31_keeps_31_bits_and_extends_both_ways() {
        for v in [0, 1, -1, 0x3fff_ffff, -0x4000_0000, i32::MAX, i32::MIN] {
            let i = I31::wrapping_i32(v);
            assert_eq!(i.get_i32(), (v << 1) >> 1, "{v}");
            assert_eq!(i.get_u32(), (v as u32) & 0x7fff_ffff, "{v}");
            assert_eq!(i31_word(v) >> 1, i.get_u32() as usize);
            assert!(is_i31_word(i31_word(v)));
        }
        assert_eq!(I31::new_i32(1 << 30), None);
        assert_eq!(I31::new_i32(-(1 << 30)).map(I31::get_i32), Some(-(1 << 30)));
        assert_eq!(I31::new_u32(1 << 31), None);
        assert_eq!(
            I31::new_u32((1 << 31) - 1).map(I31::get_u32),
            Some(0x7fff_ffff)
        );
    }
}
