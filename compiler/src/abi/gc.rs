//! How compiled code sees references of the `any` and `extern`
//! hierarchies (the GC proposal's): one pointer-sized word each.
//!
//! - `0` is null;
//! - a word with its low bit set is an `i31`: the value shifted left by
//!   one, with [`I31_TAG`] (`ref.i31` keeps the low 31 bits of its
//!   operand);
//! - any other word points at an object that starts with a header: a
//!   32-bit engine type id at [`HEADER_TYPE_OFFSET`] and a kind byte at
//!   [`HEADER_KIND_OFFSET`] ([`GcKind`]). Host values behind an
//!   `externref` carry such a header too (kind [`GcKind::Extern`]).
//!
//! So `any.convert_extern` and `extern.convert_any` keep the word as it
//! is: a host value seen as `any` stays itself, and converting back gives
//! the same reference, as the spec requires. Casts read the tag bit and,
//! for objects, the header.
//!
//! A struct's fields follow its header ([`struct_layout`]); an array has
//! its length at [`ARRAY_LENGTH_OFFSET`] and its elements from
//! [`ARRAY_DATA_OFFSET`]. Packed fields take 1 or 2 bytes, references a
//! pointer's width.

use crate::types::{StorageType, StructType, ValType};

/// The low bit that marks an `i31` reference.
pub const I31_TAG: i64 = 1;

/// Where an object's engine type id (`u32`) lies in its header.
pub const HEADER_TYPE_OFFSET: u32 = 0;

/// Where an object's kind byte ([`GcKind`]) lies in its header.
pub const HEADER_KIND_OFFSET: u32 = 4;

/// What an object behind a reference word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum GcKind {
    /// A host value (`externref`, or `anyref` by `any.convert_extern`).
    Extern = 1,
    /// A struct.
    Struct = 2,
    /// An array.
    Array = 3,
}

/// Where the mark byte of an object lies in its header (the collector's;
/// compiled code never reads it).
pub const HEADER_MARK_OFFSET: u32 = 5;

/// The size of an object's header.
pub const HEADER_BYTES: u32 = 8;

/// Where a free slot of the GC heap links the next free slot of its size
/// class (its first word, the header, is zero while it is free).
pub const FREE_NEXT_OFFSET: u32 = 8;

/// The step between the GC heap's smallest size classes: class `i` holds
/// objects of up to `16 * (i + 1)` bytes, up to [`INLINE_ALLOC_MAX_BYTES`].
pub const SIZE_CLASS_STEP: u32 = 16;

/// The largest object compiled code allocates inline, by popping the free
/// list of its size class (larger ones, and any allocation that finds its
/// list empty, call the runtime).
pub const INLINE_ALLOC_MAX_BYTES: u32 = 128;

/// The size class of an object of `size` bytes that compiled code may
/// allocate inline.
pub fn inline_size_class(size: u32) -> Option<u32> {
    (size <= INLINE_ALLOC_MAX_BYTES).then(|| size.max(1).div_ceil(SIZE_CLASS_STEP) - 1)
}

/// Where an array's length (`u32`) lies.
pub const ARRAY_LENGTH_OFFSET: u32 = 8;

/// Where an array's first element lies.
pub const ARRAY_DATA_OFFSET: u32 = 16;

/// The bytes a field or element of `storage` takes (its alignment too).
pub fn storage_bytes(storage: StorageType, pointer_bytes: u8) -> u32 {
    match storage {
        StorageType::I8 => 1,
        StorageType::I16 => 2,
        StorageType::Val(ValType::I32 | ValType::F32) => 4,
        StorageType::Val(ValType::I64 | ValType::F64) => 8,
        StorageType::Val(ValType::V128) => 16,
        StorageType::Val(ValType::Ref(_)) => u32::from(pointer_bytes),
    }
}

/// Where a struct's fields lie and how big it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// The object's size, header included, a multiple of 8.
    pub size: u32,
    /// Each field's offset from the object's start, in field order.
    pub offsets: Vec<u32>,
}

/// The layout of a struct of type `ty`: its fields in order after the
/// header, each aligned to its size.
pub fn struct_layout(ty: &StructType, pointer_bytes: u8) -> StructLayout {
    let mut at = HEADER_BYTES;
    let offsets = ty
        .fields
        .iter()
        .map(|f| {
            let size = storage_bytes(f.storage, pointer_bytes);
            at = at.next_multiple_of(size);
            let offset = at;
            at += size;
            offset
        })
        .collect();
    StructLayout {
        size: at.next_multiple_of(8),
        offsets,
    }
}

/// The size of an array of `len` elements of `element_bytes` each, if it
/// fits in a `u32`.
pub fn array_bytes(element_bytes: u32, len: u32) -> Option<u32> {
    element_bytes
        .checked_mul(len)?
        .checked_add(ARRAY_DATA_OFFSET)
        .map(|n| n.next_multiple_of(8))
        .filter(|&n| n != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FieldType;

    #[test]
    fn struct_fields_are_aligned_in_order() {
        let field = |storage| FieldType {
            storage,
            mutable: true,
        };
        let ty = StructType {
            fields: [
                field(StorageType::I8),
                field(StorageType::Val(ValType::I64)),
                field(StorageType::I16),
                field(StorageType::Val(ValType::V128)),
                field(StorageType::Val(ValType::I32)),
            ]
            .into(),
        };
        let layout = struct_layout(&ty, 8);
        assert_eq!(layout.offsets, [8, 16, 24, 32, 48]);
        assert_eq!(layout.size, 56);
        assert_eq!(struct_layout(&StructType::default(), 8).size, 8);
        assert_eq!(array_bytes(4, 3), Some(32));
        assert_eq!(array_bytes(8, u32::MAX), None);
        assert_eq!(inline_size_class(8), Some(0));
        assert_eq!(inline_size_class(16), Some(0));
        assert_eq!(inline_size_class(24), Some(1));
        assert_eq!(inline_size_class(128), Some(7));
        assert_eq!(inline_size_class(136), None);
    }
}
