//! References of the GC proposal's `any` hierarchy as the host sees them:
//! [`I31`] values and [`AnyRef`] handles, and the word they are in compiled
//! code (see `cljit_compiler::abi::gc`).

mod alloc;
mod collect;
mod heap;
mod roots;

use std::num::NonZeroUsize;

use cljit_compiler::abi::gc::{GcKind, HEADER_KIND_OFFSET, I31_TAG};

use cljit_compiler::abi::gc::{ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET};
use cljit_compiler::types::{StorageType, ValType};

use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::values::{ExternRef, Val};

pub(crate) use alloc::{
    alloc_object, array_init_data, array_init_elem, array_new, array_new_data, array_new_elem,
    gc_memmove, read_storage, register_layouts, struct_new, write_element, write_storage,
};
pub use heap::DEFAULT_GC_HEAP_LIMIT;
pub(crate) use heap::{GcHeap, TypeLayout};
pub use roots::RootScope;
pub(crate) use roots::{Root, Roots};

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

/// A non-null reference of the `any` hierarchy (`anyref`): an `i31`, a
/// struct, an array, or a host value converted with `any.convert_extern`.
/// It belongs to a store. A handle to a struct or array keeps it alive
/// while its root lasts: until the [`RootScope`] it was made in ends, or
/// the host function call it was made in returns, or (made outside both)
/// until the store ends; from then on the handle is refused with an error.
/// Two handles are equal when they refer to the same reference.
#[derive(Debug, Clone, Copy)]
pub struct AnyRef {
    store: StoreId,
    word: NonZeroUsize,
    /// The object's kind byte (0 for an `i31`), read when the handle was
    /// made, so that no query reads memory through a handle.
    kind: u8,
    /// A struct's or array's engine type id.
    type_id: u32,
    /// Where a struct or array is rooted.
    root: Option<Root>,
}

/// Implements equality and hashing for a handle type with `store` and
/// `word` fields by those two: handles to one reference are equal
/// whatever their roots.
macro_rules! handle_identity {
    ($handle:ty) => {
        impl PartialEq for $handle {
            fn eq(&self, other: &$handle) -> bool {
                (self.store, self.word) == (other.store, other.word)
            }
        }

        impl Eq for $handle {}

        impl std::hash::Hash for $handle {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                (self.store, self.word).hash(state);
            }
        }
    };
}
pub(crate) use handle_identity;

handle_identity!(AnyRef);

/// The kind byte, type id and root of a new host handle to `word`, a
/// non-null reference word of `store`, rooting the object if it is a
/// struct or an array.
///
/// # Safety
///
/// `word` must be an `i31` or point at a live object with a header.
pub(crate) unsafe fn describe_and_root(
    store: &StoreOpaque,
    word: usize,
) -> (u8, u32, Option<Root>) {
    if is_i31_word(word) {
        return (0, 0, None);
    }
    // SAFETY: a non-`i31` word is a live object or host value (this
    // function's contract), so it points at a header of 8 bytes.
    let (kind, type_id) = unsafe {
        (
            *((word + HEADER_KIND_OFFSET as usize) as *const u8),
            *(word as *const u32),
        )
    };
    let root = (kind != GcKind::Extern as u8).then(|| store.gc.roots.push(word));
    (kind, type_id, root)
}

/// Checks that a handle of store `handle_store` with root `root` may be
/// used in `store`; `what` names the handle's type in the error.
pub(crate) fn check_handle(
    store: &StoreOpaque,
    handle_store: StoreId,
    word: NonZeroUsize,
    root: Option<Root>,
    what: &str,
) -> Result<usize> {
    if store.id() != handle_store && !is_i31_word(word.get()) {
        return Err(Error::msg(format!("{what} used with the wrong store")));
    }
    if let Some(root) = root
        && !store.gc.roots.is_live(root)
    {
        return Err(Error::msg(format!(
            "{what} used after its root ended (its RootScope closed or its host call returned)"
        )));
    }
    Ok(word.get())
}

impl AnyRef {
    /// The `anyref` holding `value`, for use in `store`.
    pub fn from_i31(mut store: impl AsContextMut, value: I31) -> AnyRef {
        let id = store.as_context_mut().opaque().id();
        AnyRef {
            store: id,
            word: value.word(),
            kind: 0,
            type_id: 0,
            root: None,
        }
    }

    /// `any.convert_extern`: the host reference seen as an `anyref`.
    pub fn convert_extern(externref: ExternRef) -> AnyRef {
        let (store, word, kind, type_id, root) = externref.parts();
        AnyRef {
            store,
            word,
            kind,
            type_id,
            root,
        }
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
        self.is_i31() || self.is_struct() || self.is_array()
    }

    /// Whether this is a struct.
    pub fn is_struct(&self) -> bool {
        self.kind == GcKind::Struct as u8
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        self.kind == GcKind::Array as u8
    }

    /// The engine type id of a struct or array.
    pub(crate) fn object_type_id(&self) -> Option<u32> {
        (self.is_struct() || self.is_array()).then_some(self.type_id)
    }

    /// The reference as `extern.convert_any` gives it.
    pub fn to_extern(&self) -> ExternRef {
        ExternRef::from_parts(self.store, self.word, self.kind, self.type_id, self.root)
    }

    /// A handle for `word`, a non-null word of the `any` hierarchy made in
    /// `store`, rooting the object it may be.
    ///
    /// # Safety
    ///
    /// `word` must be an `i31` or a live object of `store`.
    pub(crate) unsafe fn from_word(store: &StoreOpaque, word: NonZeroUsize) -> AnyRef {
        // SAFETY: `word` is an `i31` or a live object of `store` (this
        // function's contract), which is what `describe_and_root` needs.
        let (kind, type_id, root) = unsafe { describe_and_root(store, word.get()) };
        AnyRef {
            store: store.id(),
            word,
            kind,
            type_id,
            root,
        }
    }

    /// The object's address and its layout, checking the handle belongs to
    /// `store` and is a struct or an array (`what`).
    fn object<'s>(&self, store: &'s StoreOpaque, kind: GcKind) -> Result<(usize, &'s TypeLayout)> {
        if store.id() != self.store {
            return Err(Error::msg("anyref used with the wrong store"));
        }
        self.raw(store)?;
        if self.kind != kind as u8 {
            return Err(Error::msg(match kind {
                GcKind::Struct => "not a struct",
                _ => "not an array",
            }));
        }
        let object = self.word.get();
        // SAFETY: the handle's root is live (checked above), so the
        // collector has kept the object, and its store is alive.
        Ok((object, unsafe { store.gc.layout_of(object) }))
    }

    /// Field `index` of a struct (packed fields zero-extended).
    ///
    /// # Errors
    ///
    /// If this is not a struct of `store`, or has no such field.
    pub fn field(&self, store: impl AsContext, index: usize) -> Result<Val> {
        let store = store.as_context().opaque();
        let (at, storage, _) = self.field_place(store, index)?;
        // SAFETY: the field lies in the live struct.
        let raw = unsafe { read_storage(at, storage) };
        // SAFETY: a reference field holds a reference of this store.
        Ok(unsafe { Val::from_raw(raw, storage.unpacked(), store) })
    }

    /// Sets field `index` of a struct to `value`.
    ///
    /// # Errors
    ///
    /// If this is not a struct of `store`, the field does not exist or is
    /// immutable, or `value` is not of the field's type.
    pub fn set_field(&self, mut store: impl AsContextMut, index: usize, value: Val) -> Result<()> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let (at, storage, mutable) = self.field_place(store, index)?;
        if !mutable {
            return Err(Error::msg(format!("field {index} is immutable")));
        }
        let raw = checked_raw(store, value, storage)?;
        // SAFETY: the field lies in the live struct.
        unsafe { write_storage(at, storage, raw) };
        Ok(())
    }

    /// Field `index` of a struct: its address, storage and mutability.
    fn field_place(&self, store: &StoreOpaque, index: usize) -> Result<(usize, StorageType, bool)> {
        let (object, layout) = self.object(store, GcKind::Struct)?;
        match (layout.offsets.get(index), layout.fields.get(index)) {
            (Some(&offset), Some(&storage)) => {
                Ok((object + offset as usize, storage, layout.mutable[index]))
            }
            _ => Err(Error::msg(format!("no field {index}"))),
        }
    }

    /// The length of an array.
    ///
    /// # Errors
    ///
    /// If this is not an array of `store`.
    pub fn array_len(&self, store: impl AsContext) -> Result<u32> {
        let store = store.as_context().opaque();
        let (object, _) = self.object(store, GcKind::Array)?;
        // SAFETY: an array's length follows its header.
        Ok(unsafe { *((object + ARRAY_LENGTH_OFFSET as usize) as *const u32) })
    }

    /// Element `index` of an array (packed elements zero-extended).
    ///
    /// # Errors
    ///
    /// If this is not an array of `store`, or `index` is out of bounds.
    pub fn array_get(&self, store: impl AsContext, index: u32) -> Result<Val> {
        let store = store.as_context().opaque();
        let at = self.element(store, index)?;
        let storage = self.object(store, GcKind::Array)?.1.element();
        // SAFETY: the element lies in the live array.
        let raw = unsafe { read_storage(at, storage) };
        // SAFETY: a reference element holds a reference of this store.
        Ok(unsafe { Val::from_raw(raw, storage.unpacked(), store) })
    }

    /// Sets element `index` of an array to `value`.
    ///
    /// # Errors
    ///
    /// If this is not an array of `store`, `index` is out of bounds, or
    /// `value` is not of the element type.
    pub fn array_set(&self, mut store: impl AsContextMut, index: u32, value: Val) -> Result<()> {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let at = self.element(store, index)?;
        let layout = self.object(store, GcKind::Array)?.1;
        if !layout.mutable[0] {
            return Err(Error::msg("the array is immutable"));
        }
        let raw = checked_raw(store, value, layout.element())?;
        // SAFETY: the element lies in the live array.
        unsafe { write_storage(at, layout.element(), raw) };
        Ok(())
    }

    /// The address of element `index`, if in bounds.
    fn element(&self, store: &StoreOpaque, index: u32) -> Result<usize> {
        let (object, layout) = self.object(store, GcKind::Array)?;
        // SAFETY: an array's length follows its header.
        let len = unsafe { *((object + ARRAY_LENGTH_OFFSET as usize) as *const u32) };
        if index >= len {
            return Err(Error::msg(format!(
                "array index {index} out of bounds for length {len}"
            )));
        }
        Ok(object + ARRAY_DATA_OFFSET as usize + layout.size as usize * index as usize)
    }

    /// The raw word, if the handle may be used in `store` (an `i31` may
    /// be used in any) and its root lasts.
    pub(crate) fn raw(&self, store: &StoreOpaque) -> Result<usize> {
        check_handle(store, self.store, self.word, self.root, "anyref")
    }
}

/// `value` as the raw bits of a field of `storage`, checking its type.
fn checked_raw(
    store: &StoreOpaque,
    value: Val,
    storage: StorageType,
) -> Result<crate::vm::val_raw::ValRaw> {
    let ty = storage.unpacked();
    let ok = match (storage, ty) {
        (_, ValType::Ref(r)) => value.matches(store, ValType::Ref(r)),
        _ => value.ty() == ty,
    };
    if !ok {
        return Err(Error::msg(format!("a {ty} field cannot hold {value:?}")));
    }
    value.to_raw(store)
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
