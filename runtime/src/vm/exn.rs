//! What a store keeps for its tags and exceptions (the operations on them
//! are in `exceptions.rs`).

use super::val_raw::ValRaw;
use super::vmcontext::{VmExnObject, VmTagDefinition};

/// A store's tag: its boxed definition, whose address is its identity.
pub(crate) struct TagSlot {
    pub(crate) definition: Box<VmTagDefinition>,
}

/// A store's exception: the object compiled code reads and the payload
/// slots it points at.
pub(crate) struct ExnSlot {
    pub(crate) object: Box<VmExnObject>,
    /// The payload slots, owned here; everything reads them through
    /// `object.values`.
    pub(crate) _values: Box<[ValRaw]>,
}
