//! WebAssembly types as cljit sees them: value, function, table, memory and
//! global types, and constant expressions.
//!
//! These are our own plain-data types rather than `wasmparser`'s so that a
//! [`ModuleInfo`](crate::ModuleInfo) can outlive the bytes it was parsed from
//! and be written into a compiled artifact, and so that the runtime's public
//! API does not leak the parser's version.

use std::fmt;

/// The type of a WebAssembly value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE 754 float.
    F32,
    /// 64-bit IEEE 754 float.
    F64,
    /// 128-bit vector.
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`, the nullable function reference.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`, the nullable host reference.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Returns true for reference types.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// Whether every value of `self` is a value of `other` (engine types).
    pub fn is_subtype_of(self, other: ValType) -> bool {
        self.is_subtype_of_with(other, &|_, _| false)
    }

    /// [`ValType::is_subtype_of`] with declared subtyping (see
    /// [`HeapType::is_subtype_of_with`]).
    pub fn is_subtype_of_with(self, other: ValType, declared: &dyn Fn(u32, u32) -> bool) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of_with(b, declared),
            (a, b) => a == b,
        }
    }

    /// This type with a module's type indices replaced by the engine's
    /// signature ids (see [`RefType::canonical`]).
    pub fn canonical(self, ids: &[u32]) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.canonical(ids)),
            other => other,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// What a concrete type defines: a function, a struct or an array type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TypeKind {
    /// A function type.
    Func,
    /// A struct type.
    Struct,
    /// An array type.
    Array,
}

/// What a reference points at: the abstract heap types of function
/// references, exceptions and GC, and concrete (defined) types.
///
/// A concrete type appears in two forms: by the module's type index in a
/// [`ModuleInfo`](crate::ModuleInfo), and by the engine's canonical type
/// id in the types the runtime hands out, where types from different
/// modules must compare. [`RefType::canonical`] turns the first into the
/// second. Both carry the kind of the type, which places it in the
/// function or the `any` hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HeapType {
    /// Any function (`func`).
    Func,
    /// Any host value (`extern`).
    Extern,
    /// Any exception (`exn`).
    Exn,
    /// No function: only null (`nofunc`).
    NoFunc,
    /// No host value: only null (`noextern`).
    NoExtern,
    /// No exception: only null (`noexn`).
    NoExn,
    /// Any internal reference (`any`): an `eq` value or a host value
    /// converted with `any.convert_extern`.
    Any,
    /// A reference that `ref.eq` compares (`eq`): an `i31`, a struct or an
    /// array.
    Eq,
    /// An unboxed 31-bit integer (`i31`).
    I31,
    /// Any struct (`struct`).
    Struct,
    /// Any array (`array`).
    Array,
    /// No internal reference: only null (`none`).
    None,
    /// Values of the module's type with this index.
    Module(TypeKind, u32),
    /// Values of the engine's canonical type with this id.
    Engine(TypeKind, u32),
}

impl HeapType {
    /// The top of this type's hierarchy: `func`, `extern`, `exn` or `any`.
    pub fn top(self) -> HeapType {
        match self {
            HeapType::Any
            | HeapType::Eq
            | HeapType::I31
            | HeapType::Struct
            | HeapType::Array
            | HeapType::None
            | HeapType::Module(TypeKind::Struct | TypeKind::Array, _)
            | HeapType::Engine(TypeKind::Struct | TypeKind::Array, _) => HeapType::Any,
            HeapType::Func
            | HeapType::NoFunc
            | HeapType::Module(TypeKind::Func, _)
            | HeapType::Engine(TypeKind::Func, _) => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
        }
    }

    /// The bottom of this type's hierarchy, whose only value is null:
    /// `nofunc`, `noextern`, `noexn` or `none`.
    pub fn bottom(self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
            _ => HeapType::None,
        }
    }

    /// Whether every value of `self` is a value of `other`, for engine
    /// (canonical) types: the bottom types are below everything of their
    /// hierarchy, concrete function types below `func`, `i31`, `struct`
    /// and `array` below `eq`, and `eq` below `any`; concrete function
    /// types are below those they declare as supertypes.
    pub fn is_subtype_of(self, other: HeapType) -> bool {
        self.is_subtype_of_with(other, &|_, _| false)
    }

    /// [`HeapType::is_subtype_of`], with `declared(a, b)` telling whether
    /// engine type `a` is a declared subtype of engine type `b` (the
    /// engine's registry knows; `a != b`).
    pub fn is_subtype_of_with(self, other: HeapType, declared: &dyn Fn(u32, u32) -> bool) -> bool {
        self == other
            || match (self, other) {
                (HeapType::NoFunc, o) => o.top() == HeapType::Func,
                (HeapType::None, o) => o.top() == HeapType::Any,
                (
                    HeapType::Eq | HeapType::I31 | HeapType::Struct | HeapType::Array,
                    HeapType::Any,
                ) => true,
                (HeapType::I31 | HeapType::Struct | HeapType::Array, HeapType::Eq) => true,
                (
                    HeapType::Engine(TypeKind::Struct, _) | HeapType::Module(TypeKind::Struct, _),
                    HeapType::Struct | HeapType::Eq | HeapType::Any,
                ) => true,
                (
                    HeapType::Engine(TypeKind::Array, _) | HeapType::Module(TypeKind::Array, _),
                    HeapType::Array | HeapType::Eq | HeapType::Any,
                ) => true,
                (HeapType::NoExtern, HeapType::Extern) => true,
                (HeapType::NoExn, HeapType::Exn) => true,
                (
                    HeapType::Engine(TypeKind::Func, _) | HeapType::Module(TypeKind::Func, _),
                    HeapType::Func,
                ) => true,
                (HeapType::Engine(_, a), HeapType::Engine(_, b)) => declared(a, b),
                _ => false,
            }
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::Array => f.write_str("array"),
            HeapType::None => f.write_str("none"),
            HeapType::Module(_, index) => write!(f, "{index}"),
            HeapType::Engine(_, id) => write!(f, "<type {id}>"),
        }
    }
}

/// A reference type: nullable or not, to a heap type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RefType {
    /// Whether null is a value of the type.
    pub nullable: bool,
    /// What the reference points at.
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`: a nullable reference to any function.
    pub const FUNCREF: RefType = RefType::new(true, HeapType::Func);
    /// `externref`: a nullable reference to any host value.
    pub const EXTERNREF: RefType = RefType::new(true, HeapType::Extern);
    /// `exnref`: a nullable reference to any exception.
    pub const EXNREF: RefType = RefType::new(true, HeapType::Exn);
    /// `anyref`: a nullable reference to any internal value.
    pub const ANYREF: RefType = RefType::new(true, HeapType::Any);

    /// A reference type.
    pub const fn new(nullable: bool, heap: HeapType) -> RefType {
        RefType { nullable, heap }
    }

    /// Whether this refers to functions (of any type, or none).
    pub fn is_func(self) -> bool {
        self.heap.top() == HeapType::Func
    }

    /// Whether this refers to host values.
    pub fn is_extern(self) -> bool {
        self.heap.top() == HeapType::Extern
    }

    /// Whether this refers to internal values (the `any` hierarchy of GC).
    pub fn is_any(self) -> bool {
        self.heap.top() == HeapType::Any
    }

    /// Whether every value of `self` is a value of `other` (engine types).
    pub fn is_subtype_of(self, other: RefType) -> bool {
        self.is_subtype_of_with(other, &|_, _| false)
    }

    /// [`RefType::is_subtype_of`] with declared subtyping (see
    /// [`HeapType::is_subtype_of_with`]).
    pub fn is_subtype_of_with(self, other: RefType, declared: &dyn Fn(u32, u32) -> bool) -> bool {
        (!self.nullable || other.nullable) && self.heap.is_subtype_of_with(other.heap, declared)
    }

    /// This type with a module's type indices replaced by the engine's
    /// signature ids, `ids[index]`.
    pub fn canonical(self, ids: &[u32]) -> RefType {
        match self.heap {
            HeapType::Module(kind, index) => RefType {
                heap: HeapType::Engine(kind, ids[index as usize]),
                ..self
            },
            _ => self,
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (true, HeapType::Any) => f.write_str("anyref"),
            (true, HeapType::Eq) => f.write_str("eqref"),
            (true, HeapType::I31) => f.write_str("i31ref"),
            (true, HeapType::Struct) => f.write_str("structref"),
            (true, HeapType::Array) => f.write_str("arrayref"),
            (true, HeapType::None) => f.write_str("nullref"),
            (true, heap) => write!(f, "(ref null {heap})"),
            (false, heap) => write!(f, "(ref {heap})"),
        }
    }
}

/// How a type takes part in subtyping: whether it is final (no type may
/// name it as its supertype) and the supertype it declares, if any. A type
/// declared without `sub` is final with no supertype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SubtypeDecl {
    /// Whether the type is final.
    pub is_final: bool,
    /// The declared supertype: a `Module` type in a module, mapped as the
    /// type's references are (see [`GroupMember`]).
    pub supertype: Option<HeapType>,
}

impl Default for SubtypeDecl {
    fn default() -> SubtypeDecl {
        SubtypeDecl {
            is_final: true,
            supertype: None,
        }
    }
}

/// A member of a recursion group as the engine registers it: its
/// declaration and type, with references to earlier types as engine ids
/// and references into its own group as `Module` types of their place in
/// it (see [`CompositeType::in_rec_group`]). Equal groups of members are
/// the same types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMember {
    /// Finality and the supertype.
    pub decl: SubtypeDecl,
    /// The type.
    pub ty: CompositeType,
}

/// Module type index `i` (of kind `kind`) as a member of the group
/// starting at `group` refers to it (see [`CompositeType::in_rec_group`]).
pub fn in_group(ids: &[u32], group: u32, kind: TypeKind, i: u32) -> HeapType {
    match i.checked_sub(group) {
        Some(within) => HeapType::Module(kind, within),
        None => HeapType::Engine(kind, ids[i as usize]),
    }
}

/// How a field or an array element is stored: a value type, or a packed
/// 8- or 16-bit integer (read with `struct.get_s`/`_u`, `array.get_s`/`_u`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StorageType {
    /// A packed 8-bit integer.
    I8,
    /// A packed 16-bit integer.
    I16,
    /// A value type.
    Val(ValType),
}

impl StorageType {
    /// The value type a read gives (`i32` for packed types).
    pub fn unpacked(self) -> ValType {
        match self {
            StorageType::I8 | StorageType::I16 => ValType::I32,
            StorageType::Val(t) => t,
        }
    }

    /// This storage with `map` applied to a reference's concrete type.
    fn map(self, map: &impl Fn(TypeKind, u32) -> HeapType) -> StorageType {
        match self {
            StorageType::Val(t) => StorageType::Val(map_val_type(t, map)),
            packed => packed,
        }
    }
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageType::I8 => f.write_str("i8"),
            StorageType::I16 => f.write_str("i16"),
            StorageType::Val(t) => t.fmt(f),
        }
    }
}

/// A struct field or an array's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FieldType {
    /// How the value is stored.
    pub storage: StorageType,
    /// Whether `struct.set`/`array.set` may write it.
    pub mutable: bool,
}

impl FieldType {
    fn map(self, map: &impl Fn(TypeKind, u32) -> HeapType) -> FieldType {
        FieldType {
            storage: self.storage.map(map),
            ..self
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutable {
            write!(f, "(mut {})", self.storage)
        } else {
            self.storage.fmt(f)
        }
    }
}

/// A struct type: its fields, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct StructType {
    /// The fields.
    pub fields: Box<[FieldType]>,
}

/// An array type: its element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ArrayType {
    /// The element type.
    pub element: FieldType,
}

/// A type a module defines: a function, struct or array type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CompositeType {
    /// A function type.
    Func(FuncType),
    /// A struct type.
    Struct(StructType),
    /// An array type.
    Array(ArrayType),
}

impl CompositeType {
    /// Which kind of type this is.
    pub fn kind(&self) -> TypeKind {
        match self {
            CompositeType::Func(_) => TypeKind::Func,
            CompositeType::Struct(_) => TypeKind::Struct,
            CompositeType::Array(_) => TypeKind::Array,
        }
    }

    /// The function type, for a type validation made sure is one.
    ///
    /// # Panics
    ///
    /// If this is a struct or an array type.
    pub fn func(&self) -> &FuncType {
        match self {
            CompositeType::Func(f) => f,
            other => panic!("validated: a function type, not {other:?}"),
        }
    }

    /// The function type, if this is one.
    pub fn as_func(&self) -> Option<&FuncType> {
        match self {
            CompositeType::Func(f) => Some(f),
            _ => None,
        }
    }

    /// This type with every concrete type it refers to replaced by
    /// `map(kind, index)`.
    pub fn map_type_indices(&self, map: impl Fn(TypeKind, u32) -> HeapType) -> CompositeType {
        match self {
            CompositeType::Func(f) => CompositeType::Func(f.map_type_indices(&map)),
            CompositeType::Struct(s) => CompositeType::Struct(StructType {
                fields: s.fields.iter().map(|f| f.map(&map)).collect(),
            }),
            CompositeType::Array(a) => CompositeType::Array(ArrayType {
                element: a.element.map(&map),
            }),
        }
    }

    /// The form the engine registers a member of a recursion group that
    /// starts at module type index `group`, as `canonical` with the ids of
    /// the types before the group: a reference into the group stays a
    /// `Module` type, its index made relative to the group's start (so
    /// equal groups of different modules read the same).
    pub fn in_rec_group(&self, ids: &[u32], group: u32) -> CompositeType {
        self.map_type_indices(|kind, i| in_group(ids, group, kind, i))
    }

    /// The module type indices this type refers to.
    pub fn referenced_types(&self) -> Vec<u32> {
        // Collected through a cell: `map_type_indices` takes `Fn`.
        let out = std::cell::RefCell::new(Vec::new());
        let _ = self.map_type_indices(|kind, i| {
            out.borrow_mut().push(i);
            HeapType::Module(kind, i)
        });
        out.into_inner()
    }
}

impl fmt::Display for CompositeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompositeType::Func(t) => t.fmt(f),
            CompositeType::Struct(s) => {
                f.write_str("(struct")?;
                for field in s.fields.iter() {
                    write!(f, " (field {field})")?;
                }
                f.write_str(")")
            }
            CompositeType::Array(a) => write!(f, "(array {})", a.element),
        }
    }
}

/// `t` with `map` applied to a reference's concrete type.
fn map_val_type(t: ValType, map: &impl Fn(TypeKind, u32) -> HeapType) -> ValType {
    match t {
        ValType::Ref(RefType {
            nullable,
            heap: HeapType::Module(kind, index),
        }) => ValType::Ref(RefType {
            nullable,
            heap: map(kind, index),
        }),
        other => other,
    }
}

/// The type of a function: parameters and results.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    /// This type with a module's type indices replaced by the engine's
    /// signature ids (see [`RefType::canonical`]).
    pub fn canonical(&self, ids: &[u32]) -> FuncType {
        FuncType::new(
            self.params.iter().map(|t| t.canonical(ids)),
            self.results.iter().map(|t| t.canonical(ids)),
        )
    }

    /// This type with every concrete type it refers to replaced by
    /// `map(kind, index)`.
    pub fn map_type_indices(&self, map: &impl Fn(TypeKind, u32) -> HeapType) -> FuncType {
        FuncType::new(
            self.params.iter().map(|&t| map_val_type(t, map)),
            self.results.iter().map(|&t| map_val_type(t, map)),
        )
    }

    /// Creates a function type from its parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The parameter types, in order.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    /// The result types, in order.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// The type of a table: element type and limits in elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TableType {
    /// What the table holds.
    pub element: RefType,
    /// Initial size, in elements.
    pub min_elements: u64,
    /// Maximum size, in elements, if declared.
    pub max_elements: Option<u64>,
    /// Whether elements are indexed by `i64` (memory64 proposal's 64-bit
    /// tables) rather than `i32`.
    pub table64: bool,
}

impl TableType {
    /// A table of `element`s indexed by `i32`.
    pub fn new(element: RefType, min_elements: u64, max_elements: Option<u64>) -> TableType {
        TableType {
            element,
            min_elements,
            max_elements,
            table64: false,
        }
    }

    /// This type with a module's type indices replaced by the engine's
    /// signature ids (see [`RefType::canonical`]).
    pub fn canonical(self, ids: &[u32]) -> TableType {
        TableType {
            element: self.element.canonical(ids),
            ..self
        }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(table ")?;
        if self.table64 {
            f.write_str("i64 ")?;
        }
        write!(f, "{}", self.min_elements)?;
        if let Some(max) = self.max_elements {
            write!(f, " {max}")?;
        }
        write!(f, " {})", self.element)
    }
}

/// The size of a WebAssembly page, in bytes.
pub const WASM_PAGE_BYTES: u64 = 65536;

/// The largest number of pages a 32-bit memory may have (4 GiB).
pub const MAX_PAGES_32: u64 = 65536;

/// The base-2 logarithm of the default page size (64 KiB).
pub const DEFAULT_PAGE_SIZE_LOG2: u8 = 16;

/// The type of a linear memory: limits in pages of 64 KiB, or of the
/// memory's own page size (custom-page-sizes proposal: 1 byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MemoryType {
    /// Initial size, in pages.
    pub min_pages: u64,
    /// Maximum size, in pages, if declared.
    pub max_pages: Option<u64>,
    /// Whether addresses are 64-bit (memory64 proposal): `i64` indices,
    /// always bounds-checked explicitly.
    pub memory64: bool,
    /// Whether the memory is shared between threads (threads proposal).
    pub shared: bool,
    /// The page size's base-2 logarithm: 16 (64 KiB, the default) or 0
    /// (custom-page-sizes proposal).
    pub page_size_log2: u8,
}

impl MemoryType {
    /// A 32-bit, unshared memory of 64 KiB pages.
    pub fn new(min_pages: u64, max_pages: Option<u64>) -> MemoryType {
        MemoryType {
            min_pages,
            max_pages,
            memory64: false,
            shared: false,
            page_size_log2: DEFAULT_PAGE_SIZE_LOG2,
        }
    }

    /// The size of a page, in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// The largest number of pages the index type can address: 2^32 (or
    /// 2^64) bytes' worth, less one page for 1-byte pages, whose count must
    /// fit the index type.
    pub fn page_limit(&self) -> u64 {
        let bits = if self.memory64 { 64 } else { 32 };
        let pages = (1u128 << bits) >> self.page_size_log2;
        let max = if self.memory64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        u64::try_from(pages).unwrap_or(u64::MAX).min(max)
    }

    /// The largest size this memory can ever reach, in pages, whether or not
    /// a maximum was declared.
    pub fn max_pages_or_limit(&self) -> u64 {
        let limit = self.page_limit();
        self.max_pages.unwrap_or(limit).min(limit)
    }

    /// `pages` pages in bytes, if that fits in a `u64`.
    pub fn bytes_of(&self, pages: u64) -> Option<u64> {
        pages.checked_mul(self.page_size())
    }

    /// The largest size this memory can ever reach, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.bytes_of(self.max_pages_or_limit()).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(memory ")?;
        if self.memory64 {
            f.write_str("i64 ")?;
        }
        write!(f, "{}", self.min_pages)?;
        if let Some(max) = self.max_pages {
            write!(f, " {max}")?;
        }
        if self.page_size_log2 != DEFAULT_PAGE_SIZE_LOG2 {
            write!(f, " (pagesize {})", self.page_size())?;
        }
        f.write_str(")")
    }
}

/// The type of a global: value type and mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GlobalType {
    /// The type of the value held.
    pub content: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

impl GlobalType {
    /// This type with a module's type indices replaced by the engine's
    /// signature ids (see [`RefType::canonical`]).
    pub fn canonical(self, ids: &[u32]) -> GlobalType {
        GlobalType {
            content: self.content.canonical(ids),
            ..self
        }
    }

    /// Whether a global of type `self` may satisfy an import of type
    /// `import` (engine types): the same mutability, and a content type
    /// that is a subtype (immutable) or the same (mutable, as it is both
    /// read and written).
    pub fn matches(self, import: GlobalType) -> bool {
        self.matches_with(import, &|_, _| false)
    }

    /// [`GlobalType::matches`] with declared subtyping (see
    /// [`HeapType::is_subtype_of_with`]).
    pub fn matches_with(self, import: GlobalType, declared: &dyn Fn(u32, u32) -> bool) -> bool {
        self.mutable == import.mutable
            && if self.mutable {
                self.content == import.content
            } else {
                self.content.is_subtype_of_with(import.content, declared)
            }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutable {
            write!(f, "(global (mut {}))", self.content)
        } else {
            write!(f, "(global {})", self.content)
        }
    }
}

/// One operation of a constant expression.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ConstOp {
    /// Push an `i32`.
    I32Const(i32),
    /// Push an `i64`.
    I64Const(i64),
    /// Push an `f32`, as its bit pattern.
    F32Const(u32),
    /// Push an `f64`, as its bit pattern.
    F64Const(u64),
    /// Push a `v128`.
    V128Const(u128),
    /// Push a null reference to the given heap type.
    RefNull(HeapType),
    /// Push a reference to the function with this index.
    RefFunc(u32),
    /// Pop an `i32` and push it as an `i31` reference (`ref.i31`).
    RefI31,
    /// Pop an `externref` and push it as an `anyref` (`any.convert_extern`).
    AnyConvertExtern,
    /// Pop an `anyref` and push it as an `externref` (`extern.convert_any`).
    ExternConvertAny,
    /// Pop the fields of a struct of this type and push a new one
    /// (`struct.new`).
    StructNew(u32),
    /// Push a new struct of this type with default fields.
    StructNewDefault(u32),
    /// Pop a value and a length and push a new array of this type
    /// (`array.new`).
    ArrayNew(u32),
    /// Pop a length and push a new array of this type of default elements.
    ArrayNewDefault(u32),
    /// Pop this many elements and push a new array of this type of them
    /// (`array.new_fixed`).
    ArrayNewFixed(u32, u32),
    /// Push the value of the global with this index (an import, in 2.0).
    GlobalGet(u32),
    /// Pop two `i32`s and push their sum (extended-const).
    I32Add,
    /// Pop two `i32`s and push their difference (extended-const).
    I32Sub,
    /// Pop two `i32`s and push their product (extended-const).
    I32Mul,
    /// Pop two `i64`s and push their sum (extended-const).
    I64Add,
    /// Pop two `i64`s and push their difference (extended-const).
    I64Sub,
    /// Pop two `i64`s and push their product (extended-const).
    I64Mul,
}

/// A constant expression: a short stack program evaluated at instantiation.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ConstExpr {
    /// The operations, in order; the expression leaves one value.
    pub ops: Vec<ConstOp>,
}

impl ConstExpr {
    /// An expression of one operation.
    pub fn single(op: ConstOp) -> ConstExpr {
        ConstExpr { ops: vec![op] }
    }
}
