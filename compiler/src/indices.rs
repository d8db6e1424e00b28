//! Index newtypes for the entities of a module.
//!
//! `FuncIndex`, `TableIndex`, `MemoryIndex` and `GlobalIndex` count imports
//! first, as the WebAssembly index spaces do; the `Defined*` variants count
//! only the module's own definitions. Convert between them only through the
//! [`ModuleInfo`](crate::ModuleInfo) helpers.

use cranelift_entity::entity_impl;

/// Index of a function type in the type section.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TypeIndex(u32);
entity_impl!(TypeIndex);

/// Index of a function in the function index space (imports first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct FuncIndex(u32);
entity_impl!(FuncIndex);

/// Index of a function among those the module defines.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct DefinedFuncIndex(u32);
entity_impl!(DefinedFuncIndex);

/// Index of a table (imports first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TableIndex(u32);
entity_impl!(TableIndex);

/// Index of a linear memory (imports first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct MemoryIndex(u32);
entity_impl!(MemoryIndex);

/// Index of a global (imports first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct GlobalIndex(u32);
entity_impl!(GlobalIndex);

/// Index of a global among those the module defines.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct DefinedGlobalIndex(u32);
entity_impl!(DefinedGlobalIndex);

/// Index of an element segment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ElemIndex(u32);
entity_impl!(ElemIndex);

/// Index of a data segment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct DataIndex(u32);
entity_impl!(DataIndex);

/// Index of an exception tag (imports first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TagIndex(u32);
entity_impl!(TagIndex);

/// Any entity that can be imported or exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EntityIndex {
    /// A function.
    Function(FuncIndex),
    /// A table.
    Table(TableIndex),
    /// A linear memory.
    Memory(MemoryIndex),
    /// A global.
    Global(GlobalIndex),
    /// An exception tag.
    Tag(TagIndex),
}
