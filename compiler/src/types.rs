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

/// What a reference points at (the function-references proposal's heap
/// types, without those of GC).
///
/// A concrete function type appears in two forms: by the module's type
/// index in a [`ModuleInfo`](crate::ModuleInfo), and by the engine's
/// canonical signature id in the types the runtime hands out, where types
/// from different modules must compare. [`RefType::canonical`] turns the
/// first into the second.
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
    /// Functions of the module's type with this index.
    ModuleFunc(u32),
    /// Functions of the engine's canonical signature with this id.
    EngineFunc(u32),
}

impl HeapType {
    /// The top of this type's hierarchy: `func`, `extern` or `exn`.
    pub fn top(self) -> HeapType {
        match self {
            HeapType::Func
            | HeapType::NoFunc
            | HeapType::ModuleFunc(_)
            | HeapType::EngineFunc(_) => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
        }
    }

    /// Whether every value of `self` is a value of `other`, for engine
    /// (canonical) types: the bottom types are below everything of their
    /// hierarchy, concrete function types below `func`. Function types have
    /// no other subtypes without GC.
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
                (HeapType::NoExtern, HeapType::Extern) => true,
                (HeapType::NoExn, HeapType::Exn) => true,
                (HeapType::EngineFunc(_) | HeapType::ModuleFunc(_), HeapType::Func) => true,
                (HeapType::EngineFunc(a), HeapType::EngineFunc(b)) => declared(a, b),
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
            HeapType::ModuleFunc(index) => write!(f, "{index}"),
            HeapType::EngineFunc(id) => write!(f, "<signature {id}>"),
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
            HeapType::ModuleFunc(index) => RefType {
                heap: HeapType::EngineFunc(ids[index as usize]),
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
    /// The declared supertype: a `ModuleFunc` in a module, mapped as the
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
/// and references into its own group as `ModuleFunc` of their place in it
/// (see [`FuncType::in_rec_group`]). Equal groups of members are the same
/// types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMember {
    /// Finality and the supertype.
    pub decl: SubtypeDecl,
    /// The function type.
    pub ty: FuncType,
}

/// Module type index `i` as a member of the group starting at `group`
/// refers to it (see [`FuncType::in_rec_group`]).
pub fn in_group(ids: &[u32], group: u32, i: u32) -> HeapType {
    match i.checked_sub(group) {
        Some(within) => HeapType::ModuleFunc(within),
        None => HeapType::EngineFunc(ids[i as usize]),
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

    /// This type with every module type index `i` it refers to replaced by
    /// `map(i)`.
    pub fn map_type_indices(&self, map: impl Fn(u32) -> HeapType) -> FuncType {
        let one = |t: &ValType| match *t {
            ValType::Ref(RefType {
                nullable,
                heap: HeapType::ModuleFunc(index),
            }) => ValType::Ref(RefType {
                nullable,
                heap: map(index),
            }),
            other => other,
        };
        FuncType::new(self.params.iter().map(one), self.results.iter().map(one))
    }

    /// The form the engine registers a member of a recursion group that
    /// starts at module type index `group`, as `canonical` with the ids of
    /// the types before the group: a reference into the group stays a
    /// `ModuleFunc`, its index made relative to the group's start (so
    /// equal groups of different modules read the same).
    pub fn in_rec_group(&self, ids: &[u32], group: u32) -> FuncType {
        self.map_type_indices(|i| in_group(ids, group, i))
    }

    /// The module type indices this type refers to.
    pub fn referenced_types(&self) -> impl Iterator<Item = u32> + '_ {
        self.params
            .iter()
            .chain(self.results.iter())
            .filter_map(|t| match t {
                ValType::Ref(RefType {
                    heap: HeapType::ModuleFunc(index),
                    ..
                }) => Some(*index),
                _ => None,
            })
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
    /// Whether the memory is shared (threads proposal; not yet supported).
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
