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
    /// 128-bit vector (parsed, not yet compiled: SIMD is not supported).
    V128,
    /// A reference: `funcref` or `externref`.
    Ref(RefType),
}

impl ValType {
    /// `funcref`, the nullable function reference.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FuncRef);
    /// `externref`, the nullable host reference.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::ExternRef);

    /// Returns true for the two reference types.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
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

/// A reference type of WebAssembly 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RefType {
    /// A nullable reference to a function.
    FuncRef,
    /// A nullable reference to a host value.
    ExternRef,
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefType::FuncRef => f.write_str("funcref"),
            RefType::ExternRef => f.write_str("externref"),
        }
    }
}

/// The type of a function: parameters and results.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
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

    /// The largest number of elements the index type can count.
    pub fn element_limit(&self) -> u64 {
        if self.table64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
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
    /// Push a null reference of the given type.
    RefNull(RefType),
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
