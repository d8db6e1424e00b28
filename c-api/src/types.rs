//! Type descriptors: value, function, global, table, memory, extern,
//! import and export types.
//!
//! `wasm.h` converts function, global, table and memory types to and from
//! extern types by pointer, so all five are one Rust type,
//! [`wasm_externtype_t`], whose variant says which it is. Accessors return
//! pointers into the descriptor (`wasm_functype_params` and the like), so
//! each keeps its parts in the C layout it hands out.

use std::mem::MaybeUninit;

use crate::rt::{ExternType, FuncType, GlobalType, MemoryType, TableType, ValType};
use crate::vec::{CVec, vector_functions, wasm_byte_vec_t};

/// `wasm_valtype_t`: a value type.
#[derive(Debug, Clone)]
pub struct wasm_valtype_t {
    pub(crate) ty: ValType,
}

/// `wasm_limits_t`: a minimum and a maximum (`u32::MAX`: none).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wasm_limits_t {
    /// The minimum.
    pub min: u32,
    /// The maximum, or `0xffffffff` for none.
    pub max: u32,
}

/// `wasm_valkind_t` values.
pub mod valkind {
    /// `WASM_I32`.
    pub const I32: u8 = 0;
    /// `WASM_I64`.
    pub const I64: u8 = 1;
    /// `WASM_F32`.
    pub const F32: u8 = 2;
    /// `WASM_F64`.
    pub const F64: u8 = 3;
    /// `WASM_EXTERNREF`.
    pub const EXTERNREF: u8 = 128;
    /// `WASM_FUNCREF`.
    pub const FUNCREF: u8 = 129;
}

/// `wasm_externkind_t` values.
pub mod externkind {
    /// `WASM_EXTERN_FUNC`.
    pub const FUNC: u8 = 0;
    /// `WASM_EXTERN_GLOBAL`.
    pub const GLOBAL: u8 = 1;
    /// `WASM_EXTERN_TABLE`.
    pub const TABLE: u8 = 2;
    /// `WASM_EXTERN_MEMORY`.
    pub const MEMORY: u8 = 3;
    /// `CLJIT_EXTERN_TAG` (cljit.h): an exception tag.
    pub const TAG: u8 = 4;
}

/// The C kind of a value type (v128 and exnref, which the C API cannot
/// carry, have none).
pub(crate) fn kind_of(ty: ValType) -> Option<u8> {
    Some(match ty {
        ValType::I32 => valkind::I32,
        ValType::I64 => valkind::I64,
        ValType::F32 => valkind::F32,
        ValType::F64 => valkind::F64,
        // wasm.h has one kind per hierarchy: typed function references are
        // funcrefs, and exnref has no kind.
        ValType::Ref(r) if r.is_extern() => valkind::EXTERNREF,
        ValType::Ref(r) if r.is_func() => valkind::FUNCREF,
        ValType::Ref(_) | ValType::V128 => return None,
    })
}

/// The value type of a C kind.
pub(crate) fn valtype_of(kind: u8) -> Option<ValType> {
    Some(match kind {
        valkind::I32 => ValType::I32,
        valkind::I64 => ValType::I64,
        valkind::F32 => ValType::F32,
        valkind::F64 => ValType::F64,
        valkind::EXTERNREF => ValType::EXTERNREF,
        valkind::FUNCREF => ValType::FUNCREF,
        _ => return None,
    })
}

fn limits(min: u64, max: Option<u64>) -> wasm_limits_t {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    wasm_limits_t {
        min: clamp(min),
        max: max.map_or(u32::MAX, clamp),
    }
}

fn max_of(l: &wasm_limits_t) -> Option<u64> {
    (l.max != u32::MAX).then_some(u64::from(l.max))
}

/// What an extern type describes, in the layout its accessors hand out.
#[derive(Debug)]
enum Described {
    Func {
        params: wasm_valtype_vec_t,
        results: wasm_valtype_vec_t,
    },
    Global {
        content: Box<wasm_valtype_t>,
        mutability: u8,
    },
    Table {
        element: Box<wasm_valtype_t>,
        limits: wasm_limits_t,
    },
    Memory {
        limits: wasm_limits_t,
    },
    /// An exception tag (a cljit extension: `CLJIT_EXTERN_TAG`), by its
    /// payload types.
    Tag {
        params: wasm_valtype_vec_t,
    },
}

/// `wasm_externtype_t`, which is also `wasm_functype_t`,
/// `wasm_globaltype_t`, `wasm_tabletype_t` and `wasm_memorytype_t`.
#[derive(Debug)]
pub struct wasm_externtype_t {
    described: Described,
}

/// `wasm_functype_t` (an extern type that is a function type).
pub type wasm_functype_t = wasm_externtype_t;
/// `wasm_globaltype_t`.
pub type wasm_globaltype_t = wasm_externtype_t;
/// `wasm_tabletype_t`.
pub type wasm_tabletype_t = wasm_externtype_t;
/// `wasm_memorytype_t`.
pub type wasm_memorytype_t = wasm_externtype_t;

fn valtypes(types: &[ValType]) -> wasm_valtype_vec_t {
    CVec::from_vec(
        types
            .iter()
            .map(|&ty| Some(Box::new(wasm_valtype_t { ty })))
            .collect(),
    )
}

fn types_of(v: &wasm_valtype_vec_t) -> Option<Vec<ValType>> {
    v.as_slice()
        .iter()
        .map(|t| t.as_ref().map(|t| t.ty))
        .collect()
}

impl Clone for wasm_externtype_t {
    fn clone(&self) -> Self {
        let described = match &self.described {
            Described::Func { params, results } => Described::Func {
                params: CVec::from_vec(params.as_slice().to_vec()),
                results: CVec::from_vec(results.as_slice().to_vec()),
            },
            Described::Global {
                content,
                mutability,
            } => Described::Global {
                content: content.clone(),
                mutability: *mutability,
            },
            Described::Table { element, limits } => Described::Table {
                element: element.clone(),
                limits: *limits,
            },
            Described::Memory { limits } => Described::Memory { limits: *limits },
            Described::Tag { params } => Described::Tag {
                params: CVec::from_vec(params.as_slice().to_vec()),
            },
        };
        wasm_externtype_t { described }
    }
}

impl Drop for wasm_externtype_t {
    fn drop(&mut self) {
        if let Described::Func { params, results } = &mut self.described {
            params.release();
            results.release();
        }
    }
}

impl wasm_externtype_t {
    /// The descriptor of a runtime type (`None` for what C cannot
    /// describe).
    pub(crate) fn new(ty: &ExternType) -> wasm_externtype_t {
        let described = match ty {
            ExternType::Func(f) => Described::Func {
                params: valtypes(f.params()),
                results: valtypes(f.results()),
            },
            ExternType::Global(g) => Described::Global {
                content: Box::new(wasm_valtype_t { ty: g.content }),
                mutability: u8::from(g.mutable),
            },
            ExternType::Table(t) => Described::Table {
                element: Box::new(wasm_valtype_t {
                    ty: ValType::Ref(t.element),
                }),
                limits: limits(t.min_elements, t.max_elements),
            },
            ExternType::Memory(m) => Described::Memory {
                limits: limits(m.min_pages, m.max_pages),
            },
            ExternType::Tag(t) => Described::Tag {
                params: valtypes(t.params()),
            },
        };
        wasm_externtype_t { described }
    }

    /// The C kind of this type.
    pub(crate) fn kind(&self) -> u8 {
        match self.described {
            Described::Func { .. } => externkind::FUNC,
            Described::Global { .. } => externkind::GLOBAL,
            Described::Table { .. } => externkind::TABLE,
            Described::Memory { .. } => externkind::MEMORY,
            Described::Tag { .. } => externkind::TAG,
        }
    }

    /// The function type described, if this is one (and every value type
    /// in it is set).
    pub(crate) fn func_type(&self) -> Option<FuncType> {
        match &self.described {
            Described::Func { params, results } => {
                Some(FuncType::new(types_of(params)?, types_of(results)?))
            }
            _ => None,
        }
    }

    /// The global type described, if this is one.
    pub(crate) fn global_type(&self) -> Option<GlobalType> {
        match &self.described {
            Described::Global {
                content,
                mutability,
            } => Some(GlobalType {
                content: content.ty,
                mutable: *mutability != 0,
            }),
            _ => None,
        }
    }

    /// The table type described, if this is one.
    pub(crate) fn table_type(&self) -> Option<TableType> {
        match &self.described {
            Described::Table { element, limits } => {
                let ValType::Ref(element) = element.ty else {
                    return None;
                };
                Some(TableType::new(
                    element,
                    u64::from(limits.min),
                    max_of(limits),
                ))
            }
            _ => None,
        }
    }

    /// The memory type described, if this is one.
    pub(crate) fn memory_type(&self) -> Option<MemoryType> {
        match &self.described {
            Described::Memory { limits } => {
                Some(MemoryType::new(u64::from(limits.min), max_of(limits)))
            }
            _ => None,
        }
    }
}

/// Defines `wasm_<name>_delete` and `wasm_<name>_copy` for a descriptor.
macro_rules! descriptor_functions {
    ($ty:ty, $delete:ident, $copy:ident) => {
        #[doc = concat!("`", stringify!($delete), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $delete(_: Option<Box<$ty>>) {}

        #[doc = concat!("`", stringify!($copy), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $copy(t: &$ty) -> Box<$ty> {
            Box::new(t.clone())
        }
    };
}

descriptor_functions!(wasm_valtype_t, wasm_valtype_delete, wasm_valtype_copy);
descriptor_functions!(wasm_externtype_t, wasm_functype_delete, wasm_functype_copy);
descriptor_functions!(
    wasm_externtype_t,
    wasm_globaltype_delete,
    wasm_globaltype_copy
);
descriptor_functions!(
    wasm_externtype_t,
    wasm_tabletype_delete,
    wasm_tabletype_copy
);
descriptor_functions!(
    wasm_externtype_t,
    wasm_memorytype_delete,
    wasm_memorytype_copy
);
descriptor_functions!(
    wasm_externtype_t,
    wasm_externtype_delete,
    wasm_externtype_copy
);
descriptor_functions!(
    wasm_importtype_t,
    wasm_importtype_delete,
    wasm_importtype_copy
);
descriptor_functions!(
    wasm_exporttype_t,
    wasm_exporttype_delete,
    wasm_exporttype_copy
);

/// `wasm_valtype_new`; NULL for an unknown kind.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_valtype_new(kind: u8) -> Option<Box<wasm_valtype_t>> {
    let Some(ty) = valtype_of(kind) else {
        crate::set_last_error(format!("unknown value kind {kind}"));
        return None;
    };
    Some(Box::new(wasm_valtype_t { ty }))
}

/// `wasm_valtype_kind`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_valtype_kind(t: &wasm_valtype_t) -> u8 {
    // Value types C makes come from a kind; v128 never reaches C.
    kind_of(t.ty).unwrap_or(valkind::I32)
}

/// `wasm_functype_new`: takes the two vectors' elements.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_functype_new(
    params: &mut wasm_valtype_vec_t,
    results: &mut wasm_valtype_vec_t,
) -> Box<wasm_functype_t> {
    let described = Described::Func {
        params: CVec::from_vec(params.take()),
        results: CVec::from_vec(results.take()),
    };
    Box::new(wasm_externtype_t { described })
}

fn func_parts(t: &wasm_functype_t) -> (&wasm_valtype_vec_t, &wasm_valtype_vec_t) {
    match &t.described {
        Described::Func { params, results } => (params, results),
        // Only function types are passed as `wasm_functype_t*`; an empty
        // answer for anything else keeps a misuse from crashing.
        _ => (&EMPTY, &EMPTY),
    }
}

/// An empty vector for accessors given the wrong kind of descriptor.
static EMPTY: wasm_valtype_vec_t = CVec {
    size: 0,
    data: std::ptr::null_mut(),
};

// SAFETY: EMPTY holds no elements; its null pointer is never dereferenced.
unsafe impl Sync for CVec<Option<Box<wasm_valtype_t>>> {}

/// `wasm_functype_params`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_functype_params(t: &wasm_functype_t) -> &wasm_valtype_vec_t {
    func_parts(t).0
}

/// `wasm_functype_results`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_functype_results(t: &wasm_functype_t) -> &wasm_valtype_vec_t {
    func_parts(t).1
}

/// `wasm_globaltype_new`: takes the value type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_globaltype_new(
    content: Box<wasm_valtype_t>,
    mutability: u8,
) -> Box<wasm_globaltype_t> {
    Box::new(wasm_externtype_t {
        described: Described::Global {
            content,
            mutability: u8::from(mutability != 0),
        },
    })
}

/// `wasm_globaltype_content`; NULL if not a global type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_globaltype_content(t: &wasm_globaltype_t) -> Option<&wasm_valtype_t> {
    match &t.described {
        Described::Global { content, .. } => Some(content),
        _ => None,
    }
}

/// `wasm_globaltype_mutability`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_globaltype_mutability(t: &wasm_globaltype_t) -> u8 {
    match &t.described {
        Described::Global { mutability, .. } => *mutability,
        _ => 0,
    }
}

/// `wasm_tabletype_new`: takes the element type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_tabletype_new(
    element: Box<wasm_valtype_t>,
    limits: &wasm_limits_t,
) -> Box<wasm_tabletype_t> {
    Box::new(wasm_externtype_t {
        described: Described::Table {
            element,
            limits: *limits,
        },
    })
}

/// `wasm_tabletype_element`; NULL if not a table type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_tabletype_element(t: &wasm_tabletype_t) -> Option<&wasm_valtype_t> {
    match &t.described {
        Described::Table { element, .. } => Some(element),
        _ => None,
    }
}

/// `wasm_tabletype_limits`; NULL if not a table type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_tabletype_limits(t: &wasm_tabletype_t) -> Option<&wasm_limits_t> {
    match &t.described {
        Described::Table { limits, .. } => Some(limits),
        _ => None,
    }
}

/// `wasm_memorytype_new`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memorytype_new(limits: &wasm_limits_t) -> Box<wasm_memorytype_t> {
    Box::new(wasm_externtype_t {
        described: Described::Memory { limits: *limits },
    })
}

/// `wasm_memorytype_limits`; NULL if not a memory type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_memorytype_limits(t: &wasm_memorytype_t) -> Option<&wasm_limits_t> {
    match &t.described {
        Described::Memory { limits } => Some(limits),
        _ => None,
    }
}

/// `wasm_externtype_kind`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_externtype_kind(t: &wasm_externtype_t) -> u8 {
    t.kind()
}

/// Defines the conversions between extern types and one specific kind,
/// which are the same pointer (checked one way).
macro_rules! extern_casts {
    ($kind:expr, $to:ident, $to_const:ident, $from:ident, $from_const:ident) => {
        #[doc = concat!("`", stringify!($to), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $to(t: Option<&mut wasm_externtype_t>) -> Option<&mut wasm_externtype_t> {
            t
        }

        #[doc = concat!("`", stringify!($to_const), "`.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $to_const(t: Option<&wasm_externtype_t>) -> Option<&wasm_externtype_t> {
            t
        }

        #[doc = concat!("`", stringify!($from), "`: NULL if it is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from(
            t: Option<&mut wasm_externtype_t>,
        ) -> Option<&mut wasm_externtype_t> {
            t.filter(|t| t.kind() == $kind)
        }

        #[doc = concat!("`", stringify!($from_const), "`: NULL if it is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from_const(t: Option<&wasm_externtype_t>) -> Option<&wasm_externtype_t> {
            t.filter(|t| t.kind() == $kind)
        }
    };
}

extern_casts!(
    externkind::FUNC,
    wasm_functype_as_externtype,
    wasm_functype_as_externtype_const,
    wasm_externtype_as_functype,
    wasm_externtype_as_functype_const
);
extern_casts!(
    externkind::GLOBAL,
    wasm_globaltype_as_externtype,
    wasm_globaltype_as_externtype_const,
    wasm_externtype_as_globaltype,
    wasm_externtype_as_globaltype_const
);
extern_casts!(
    externkind::TABLE,
    wasm_tabletype_as_externtype,
    wasm_tabletype_as_externtype_const,
    wasm_externtype_as_tabletype,
    wasm_externtype_as_tabletype_const
);
extern_casts!(
    externkind::MEMORY,
    wasm_memorytype_as_externtype,
    wasm_memorytype_as_externtype_const,
    wasm_externtype_as_memorytype,
    wasm_externtype_as_memorytype_const
);

/// `wasm_importtype_t`: an import's module name, field name and type.
#[derive(Debug)]
pub struct wasm_importtype_t {
    module: wasm_byte_vec_t,
    name: wasm_byte_vec_t,
    ty: Box<wasm_externtype_t>,
}

impl Clone for wasm_importtype_t {
    fn clone(&self) -> Self {
        wasm_importtype_t {
            module: CVec::from_vec(self.module.as_slice().to_vec()),
            name: CVec::from_vec(self.name.as_slice().to_vec()),
            ty: self.ty.clone(),
        }
    }
}

impl Drop for wasm_importtype_t {
    fn drop(&mut self) {
        self.module.release();
        self.name.release();
    }
}

impl wasm_importtype_t {
    /// The descriptor of one import.
    pub(crate) fn new(module: &str, name: &str, ty: &ExternType) -> wasm_importtype_t {
        wasm_importtype_t {
            module: crate::vec::name(module.as_bytes()),
            name: crate::vec::name(name.as_bytes()),
            ty: Box::new(wasm_externtype_t::new(ty)),
        }
    }
}

/// `wasm_importtype_new`: takes the names and the type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_importtype_new(
    module: &mut wasm_byte_vec_t,
    name: &mut wasm_byte_vec_t,
    ty: Box<wasm_externtype_t>,
) -> Box<wasm_importtype_t> {
    Box::new(wasm_importtype_t {
        module: CVec::from_vec(module.take()),
        name: CVec::from_vec(name.take()),
        ty,
    })
}

/// `wasm_importtype_module`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_importtype_module(t: &wasm_importtype_t) -> &wasm_byte_vec_t {
    &t.module
}

/// `wasm_importtype_name`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_importtype_name(t: &wasm_importtype_t) -> &wasm_byte_vec_t {
    &t.name
}

/// `wasm_importtype_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_importtype_type(t: &wasm_importtype_t) -> &wasm_externtype_t {
    &t.ty
}

/// `wasm_exporttype_t`: an export's name and type.
#[derive(Debug)]
pub struct wasm_exporttype_t {
    name: wasm_byte_vec_t,
    ty: Box<wasm_externtype_t>,
}

impl Clone for wasm_exporttype_t {
    fn clone(&self) -> Self {
        wasm_exporttype_t {
            name: CVec::from_vec(self.name.as_slice().to_vec()),
            ty: self.ty.clone(),
        }
    }
}

impl Drop for wasm_exporttype_t {
    fn drop(&mut self) {
        self.name.release();
    }
}

impl wasm_exporttype_t {
    /// The descriptor of one export.
    pub(crate) fn new(name: &str, ty: &ExternType) -> wasm_exporttype_t {
        wasm_exporttype_t {
            name: crate::vec::name(name.as_bytes()),
            ty: Box::new(wasm_externtype_t::new(ty)),
        }
    }
}

/// `wasm_exporttype_new`: takes the name and the type.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_exporttype_new(
    name: &mut wasm_byte_vec_t,
    ty: Box<wasm_externtype_t>,
) -> Box<wasm_exporttype_t> {
    Box::new(wasm_exporttype_t {
        name: CVec::from_vec(name.take()),
        ty,
    })
}

/// `wasm_exporttype_name`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_exporttype_name(t: &wasm_exporttype_t) -> &wasm_byte_vec_t {
    &t.name
}

/// `wasm_exporttype_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_exporttype_type(t: &wasm_exporttype_t) -> &wasm_externtype_t {
    &t.ty
}

/// Writes `items` to an out-parameter vector of descriptors.
pub(crate) fn write_descriptors<T: Clone>(
    out: &mut MaybeUninit<CVec<Option<Box<T>>>>,
    items: impl IntoIterator<Item = T>,
) {
    crate::vec::write(out, items.into_iter().map(|t| Some(Box::new(t))).collect());
}

vector_functions!(
    wasm_valtype_vec_t,
    Option<Box<wasm_valtype_t>>,
    "wasm_valtype_t*",
    wasm_valtype_vec_new_empty,
    wasm_valtype_vec_new_uninitialized,
    wasm_valtype_vec_new,
    wasm_valtype_vec_copy,
    wasm_valtype_vec_delete
);
vector_functions!(
    wasm_functype_vec_t,
    Option<Box<wasm_externtype_t>>,
    "wasm_functype_t*",
    wasm_functype_vec_new_empty,
    wasm_functype_vec_new_uninitialized,
    wasm_functype_vec_new,
    wasm_functype_vec_copy,
    wasm_functype_vec_delete
);
vector_functions!(
    wasm_globaltype_vec_t,
    Option<Box<wasm_externtype_t>>,
    "wasm_globaltype_t*",
    wasm_globaltype_vec_new_empty,
    wasm_globaltype_vec_new_uninitialized,
    wasm_globaltype_vec_new,
    wasm_globaltype_vec_copy,
    wasm_globaltype_vec_delete
);
vector_functions!(
    wasm_tabletype_vec_t,
    Option<Box<wasm_externtype_t>>,
    "wasm_tabletype_t*",
    wasm_tabletype_vec_new_empty,
    wasm_tabletype_vec_new_uninitialized,
    wasm_tabletype_vec_new,
    wasm_tabletype_vec_copy,
    wasm_tabletype_vec_delete
);
vector_functions!(
    wasm_memorytype_vec_t,
    Option<Box<wasm_externtype_t>>,
    "wasm_memorytype_t*",
    wasm_memorytype_vec_new_empty,
    wasm_memorytype_vec_new_uninitialized,
    wasm_memorytype_vec_new,
    wasm_memorytype_vec_copy,
    wasm_memorytype_vec_delete
);
vector_functions!(
    wasm_externtype_vec_t,
    Option<Box<wasm_externtype_t>>,
    "wasm_externtype_t*",
    wasm_externtype_vec_new_empty,
    wasm_externtype_vec_new_uninitialized,
    wasm_externtype_vec_new,
    wasm_externtype_vec_copy,
    wasm_externtype_vec_delete
);
vector_functions!(
    wasm_importtype_vec_t,
    Option<Box<wasm_importtype_t>>,
    "wasm_importtype_t*",
    wasm_importtype_vec_new_empty,
    wasm_importtype_vec_new_uninitialized,
    wasm_importtype_vec_new,
    wasm_importtype_vec_copy,
    wasm_importtype_vec_delete
);
vector_functions!(
    wasm_exporttype_vec_t,
    Option<Box<wasm_exporttype_t>>,
    "wasm_exporttype_t*",
    wasm_exporttype_vec_new_empty,
    wasm_exporttype_vec_new_uninitialized,
    wasm_exporttype_vec_new,
    wasm_exporttype_vec_copy,
    wasm_exporttype_vec_delete
);
