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
