//! Values crossing between the host and wasm: [`Val`] for the typed API,
//! [`Ref`] for table elements, [`ExternRef`] for host references
//! ([`AnyRef`], in `gc/`, for the `any` hierarchy), and
//! [`V128`] for typed functions. (The raw 16-byte slots these are encoded
//! into are [`ValRaw`], in `vm/val_raw.rs`.)

use std::any::Any;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use cljit_compiler::types::{HeapType, RefType, ValType};

use crate::error::{Error, Result};
use crate::exn_ref::ExnRef;
use crate::func::Func;
use crate::gc::{AnyRef, Root};
use crate::store::{AsContext, AsContextMut, ExternData, StoreId, StoreOpaque};
use crate::vm::val_raw::ValRaw;
use crate::vm::vmcontext::{VmExnObject, VmFuncRef};

/// A WebAssembly value.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits (so NaN payloads survive).
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A `funcref`; `None` is null.
    FuncRef(Option<Func>),
    /// An `externref`; `None` is null.
    ExternRef(Option<ExternRef>),
    /// An `exnref`; `None` is null.
    ExnRef(Option<ExnRef>),
    /// An `anyref` (or a reference of another type of its hierarchy:
    /// `eqref`, `i31ref`, ...); `None` is null.
    AnyRef(Option<AnyRef>),
}

impl Val {
    /// The value's type: for references, the nullable abstract type
    /// (`funcref`, `externref`); [`Func::ty`] gives a function's own type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::Ref(RefType::EXNREF),
            Val::AnyRef(_) => ValType::Ref(RefType::ANYREF),
        }
    }

    /// The zero value of a type (null for references).
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) if r.is_extern() => Val::ExternRef(None),
            ValType::Ref(r) if r.is_func() => Val::FuncRef(None),
            ValType::Ref(r) if r.is_any() => Val::AnyRef(None),
            ValType::Ref(_) => Val::ExnRef(None),
        }
    }

    /// Whether the value is one of type `ty` (an engine type, as the
    /// runtime's types are): the same number type, or a reference of the
    /// right kind that is null only where `ty` is nullable and, for a
    /// concrete function type, a function of exactly that type.
    pub(crate) fn matches(&self, store: &StoreOpaque, ty: ValType) -> bool {
        let ValType::Ref(r) = ty else {
            return self.ty() == ty;
        };
        match self {
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None)
                if !r.nullable =>
            {
                false
            }
            Val::FuncRef(None) => r.is_func(),
            Val::ExternRef(None) => r.is_extern(),
            Val::AnyRef(None) => r.is_any(),
            Val::AnyRef(Some(a)) => match r.heap {
                HeapType::Any => true,
                HeapType::Eq => a.is_eq(),
                HeapType::I31 => a.is_i31(),
                HeapType::Struct => a.is_struct(),
                HeapType::Array => a.is_array(),
                HeapType::Engine(_, id) => a
                    .object_type_id()
                    .is_some_and(|t| store.engine().signatures().is_subtype(t, id)),
                _ => false,
            },
            Val::ExnRef(None) => r.heap.top() == HeapType::Exn,
            Val::ExnRef(Some(_)) => r.heap == HeapType::Exn,
            Val::FuncRef(Some(f)) => match r.heap {
                HeapType::Func => true,
                HeapType::Engine(_, id) => f
                    .type_id_in_store(store)
                    .is_ok_and(|t| store.engine().signatures().is_subtype(t, id)),
                _ => false,
            },
            Val::ExternRef(Some(_)) => r.heap == HeapType::Extern,
            _ => false,
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    /// The `v128`, if this is one (lane 0 in the low bits).
    pub fn v128(&self) -> Option<u128> {
        match self {
            Val::V128(v) => Some(*v),
            _ => None,
        }
    }

    /// Encodes the value into a raw slot, checking it belongs to `store`.
    pub(crate) fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::i32(v),
            Val::I64(v) => ValRaw::i64(v),
            Val::F32(v) => ValRaw::i32(v as i32),
            Val::F64(v) => ValRaw::i64(v as i64),
            Val::V128(v) => ValRaw::v128(v),
            Val::FuncRef(f) => ValRaw::pointer(match f {
                Some(f) => f.raw_func_ref(store)? as usize,
                None => 0,
            }),
            Val::ExternRef(e) => ValRaw::pointer(match e {
                Some(e) => e.raw(store)?,
                None => 0,
            }),
            Val::ExnRef(e) => ValRaw::pointer(match e {
                Some(e) => e.raw(store)?,
                None => 0,
            }),
            Val::AnyRef(a) => ValRaw::pointer(match a {
                Some(a) => a.raw(store)?,
                None => 0,
            }),
        })
    }

    /// Decodes a raw slot of type `ty` produced in `store`.
    ///
    /// # Safety
    ///
    /// A reference slot must hold null or a reference made in `store`.
    pub(crate) unsafe fn from_raw(raw: ValRaw, ty: ValType, store: &StoreOpaque) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_i32() as u32),
            ValType::F64 => Val::F64(raw.get_i64() as u64),
            ValType::V128 => Val::V128(raw.get_v128()),
            ValType::Ref(r) if r.is_func() => Val::FuncRef(
                NonNull::new(raw.get_pointer() as *mut VmFuncRef)
                    .map(|p| Func::from_raw(store.id(), p)),
            ),
            ValType::Ref(r) if r.is_extern() => Val::ExternRef(
                NonZeroUsize::new(raw.get_pointer())
                    // SAFETY: per the contract, the word was made in `store`.
                    .map(|w| unsafe { ExternRef::from_word(store, w) }),
            ),
            ValType::Ref(r) if r.is_any() => Val::AnyRef(
                NonZeroUsize::new(raw.get_pointer())
                    // SAFETY: per the contract, the word was made in `store`.
                    .map(|w| unsafe { AnyRef::from_word(store, w) }),
            ),
            ValType::Ref(_) => Val::ExnRef(
                NonNull::new(raw.get_pointer() as *mut VmExnObject)
                    .map(|p| ExnRef::from_raw(store.id(), p)),
            ),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

/// A reference value, as stored in tables.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    /// A function reference; `None` is null.
    Func(Option<Func>),
    /// A host reference; `None` is null.
    Extern(Option<ExternRef>),
    /// A reference of the `any` hierarchy; `None` is null.
    Any(Option<AnyRef>),
}

impl Ref {
    /// The nullable abstract reference type of this value (`funcref`,
    /// `externref` or `anyref`).
    pub fn ty(&self) -> RefType {
        match self {
            Ref::Func(_) => RefType::FUNCREF,
            Ref::Extern(_) => RefType::EXTERNREF,
            Ref::Any(_) => RefType::ANYREF,
        }
    }

    /// Whether the reference is one of type `ty` (see [`Val::matches`]).
    pub(crate) fn matches(&self, store: &StoreOpaque, ty: RefType) -> bool {
        Val::from(*self).matches(store, ValType::Ref(ty))
    }

    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Ref::Func(None) | Ref::Extern(None) | Ref::Any(None))
    }

    /// The raw table element, checking the reference belongs to `store`.
    pub(crate) fn to_raw(self, store: &StoreOpaque) -> Result<usize> {
        Ok(match self {
            Ref::Func(Some(f)) => f.raw_func_ref(store)? as usize,
            Ref::Extern(Some(e)) => e.raw(store)?,
            Ref::Any(Some(a)) => a.raw(store)?,
            Ref::Func(None) | Ref::Extern(None) | Ref::Any(None) => 0,
        })
    }

    /// Decodes a raw table element of type `ty`.
    ///
    /// # Safety
    ///
    /// `raw` must be null or a reference made in `store`.
    pub(crate) unsafe fn from_raw(raw: usize, ty: RefType, store: &StoreOpaque) -> Ref {
        // SAFETY: per the caller's contract.
        match unsafe { Val::from_raw(ValRaw::pointer(raw), ValType::Ref(ty), store) } {
            Val::FuncRef(f) => Ref::Func(f),
            Val::ExternRef(e) => Ref::Extern(e),
            Val::AnyRef(a) => Ref::Any(a),
            _ => unreachable!("reference types decode to references"),
        }
    }
}

impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
            Ref::Any(a) => Val::AnyRef(a),
        }
    }
}

/// A reference to a host value that wasm can hold and pass around but not
/// look into, or (made by `extern.convert_any`) a wasm `anyref` seen as
/// one. A host value lives as long as its store; a wasm struct or array
/// seen as one is rooted as an [`AnyRef`] is. Two handles are equal when
/// they refer to the same reference.
#[derive(Debug, Clone, Copy)]
pub struct ExternRef {
    store: StoreId,
    /// The reference word (see `cljit_compiler::abi::gc`): a boxed
    /// [`ExternData`] of the store, or a word of the `any` hierarchy.
    word: NonZeroUsize,
    /// As in [`AnyRef`]: the kind byte and type id of what the word is,
    /// and where a struct or array is rooted.
    kind: u8,
    type_id: u32,
    root: Option<Root>,
}

crate::gc::handle_identity!(ExternRef);

impl ExternRef {
    /// Wraps `value` in a new reference owned by `store`.
    pub fn new(mut store: impl AsContextMut, value: impl Any + Send + Sync) -> ExternRef {
        let mut cx = store.as_context_mut();
        let store = cx.opaque_mut();
        let mut data = Box::new(ExternData {
            header: crate::gc::GcHeader::EXTERN,
            value: Box::new(value),
        });
        let word = NonNull::from(&mut *data).addr();
        store.externs.push(data);
        ExternRef {
            store: store.id(),
            word,
            kind: cljit_compiler::abi::gc::GcKind::Extern as u8,
            type_id: u32::MAX,
            root: None,
        }
    }

    /// The host value.
    ///
    /// # Errors
    ///
    /// If the reference belongs to another store, or holds a wasm
    /// reference rather than host data (see [`ExternRef::to_any`]).
    pub fn data<'a, S: AsContext>(&self, store: &'a S) -> Result<&'a (dyn Any + Send + Sync)> {
        let opaque = store.as_context().opaque();
        if opaque.id() != self.store {
            return Err(Error::msg("externref used with the wrong store"));
        }
        if self.kind != cljit_compiler::abi::gc::GcKind::Extern as u8 {
            return Err(Error::msg(
                "the externref holds a wasm anyref, not host data",
            ));
        }
        let ptr = self.word.get() as *const ExternData;
        // SAFETY: a host value's word points at its `ExternData`, owned by
        // the store, which outlives 'a.
        let data = unsafe { &*ptr };
        Ok(data.value.as_ref())
    }

    /// `extern.convert_any`'s inverse, `any.convert_extern`: this
    /// reference as an `anyref`.
    pub fn to_any(&self) -> AnyRef {
        AnyRef::convert_extern(*self)
    }

    /// `extern.convert_any`: a wasm `anyref` as an `externref`.
    pub fn convert_any(any: AnyRef) -> ExternRef {
        any.to_extern()
    }

    /// The store, word, kind, type id and root.
    pub(crate) fn parts(&self) -> (StoreId, NonZeroUsize, u8, u32, Option<Root>) {
        (self.store, self.word, self.kind, self.type_id, self.root)
    }

    /// A handle from its parts (see [`ExternRef::parts`]).
    pub(crate) fn from_parts(
        store: StoreId,
        word: NonZeroUsize,
        kind: u8,
        type_id: u32,
        root: Option<Root>,
    ) -> ExternRef {
        ExternRef {
            store,
            word,
            kind,
            type_id,
            root,
        }
    }

    /// A handle for `word`, a non-null reference word made in `store`,
    /// rooting the object it may be.
    ///
    /// # Safety
    ///
    /// `word` must be an `i31`, a host value or a live object of `store`.
    pub(crate) unsafe fn from_word(store: &StoreOpaque, word: NonZeroUsize) -> ExternRef {
        // SAFETY: `word` is an `i31`, a host value or a live object of
        // `store` (this function's contract): each starts with a header or
        // is tagged, which is what `describe_and_root` needs.
        let (kind, type_id, root) = unsafe { crate::gc::describe_and_root(store, word.get()) };
        ExternRef::from_parts(store.id(), word, kind, type_id, root)
    }

    /// The raw word, if the handle may be used in `store` and its root
    /// lasts.
    pub(crate) fn raw(&self, store: &StoreOpaque) -> Result<usize> {
        crate::gc::check_handle(store, self.store, self.word, self.root, "externref")
    }
}

/// A `v128` for typed functions ([`TypedFunc`](crate::TypedFunc),
/// [`Func::wrap`](crate::Func::wrap)): 16 bytes, lane 0 in the low bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

impl V128 {
    /// The value as a 128-bit integer (little-endian lanes).
    pub fn as_u128(self) -> u128 {
        self.0
    }

    /// The 16 bytes in memory order.
    pub fn to_le_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }
}

impl From<u128> for V128 {
    fn from(v: u128) -> V128 {
        V128(v)
    }
}

impl From<[u8; 16]> for V128 {
    fn from(bytes: [u8; 16]) -> V128 {
        V128(u128::from_le_bytes(bytes))
    }
}

impl From<V128> for Val {
    fn from(v: V128) -> Val {
        Val::V128(v.0)
    }
}
