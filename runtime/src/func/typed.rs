//! Statically typed functions: Rust types that are wasm value types
//! ([`WasmTy`]), parameter and result lists ([`WasmParams`],
//! [`WasmResults`]), and [`TypedFunc`], a function whose type was checked
//! once so calls need no per-value checks.

use cljit_compiler::types::{FuncType, ValType};

use super::{Func, call_raw};
use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut};
use crate::values::V128;
use crate::vm::val_raw::ValRaw;

impl Func {
    /// A typed view of the function.
    ///
    /// # Errors
    ///
    /// If the function's type differs from `Params -> Results`.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let cx = store.as_context();
        self.check_store(cx.opaque())?;
        let ty = self.ty(&cx);
        let want = FuncType::new(Params::types(), Results::types());
        if ty != want {
            return Err(Error::msg(format!(
                "function type mismatch: the function is {ty}, requested {want}"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: std::marker::PhantomData,
        })
    }
}

/// A Rust type that is a wasm value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// Reads the value from a slot.
    fn from_raw(raw: ValRaw) -> Self;
    /// Writes the value to a slot.
    fn into_raw(self) -> ValRaw;
}

macro_rules! wasm_ty {
    ($($ty:ty => $vt:ident, $get:ident, $make:ident, $as:ty);* $(;)?) => {
        $(
            impl WasmTy for $ty {
                fn valtype() -> ValType {
                    ValType::$vt
                }
                fn from_raw(raw: ValRaw) -> Self {
                    raw.$get() as $ty
                }
                fn into_raw(self) -> ValRaw {
                    ValRaw::$make(self as $as)
                }
            }
        )*
    };
}

wasm_ty! {
    i32 => I32, get_i32, i32, i32;
    u32 => I32, get_i32, i32, i32;
    i64 => I64, get_i64, i64, i64;
    u64 => I64, get_i64, i64, i64;
}

impl WasmTy for f32 {
    fn valtype() -> ValType {
        ValType::F32
    }
    fn from_raw(raw: ValRaw) -> Self {
        f32::from_bits(raw.get_i32() as u32)
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::i32(self.to_bits() as i32)
    }
}

impl WasmTy for f64 {
    fn valtype() -> ValType {
        ValType::F64
    }
    fn from_raw(raw: ValRaw) -> Self {
        f64::from_bits(raw.get_i64() as u64)
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::i64(self.to_bits() as i64)
    }
}

impl WasmTy for V128 {
    fn valtype() -> ValType {
        ValType::V128
    }
    fn from_raw(raw: ValRaw) -> Self {
        V128::from(raw.get_v128())
    }
    fn into_raw(self) -> ValRaw {
        ValRaw::v128(self.as_u128())
    }
}

/// Parameter lists of typed functions: tuples of [`WasmTy`].
pub trait WasmParams: Send + Sync + 'static {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Writes the values to slots.
    fn store(self, values: &mut [ValRaw]);
    /// Reads the values from slots.
    fn load(values: &[ValRaw]) -> Self;
}

/// Result lists of typed functions: `()`, a [`WasmTy`], or a tuple.
pub trait WasmResults: WasmParams {}

impl<P: WasmParams> WasmResults for P {}

impl<A: WasmTy> WasmParams for A {
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store(self, values: &mut [ValRaw]) {
        values[0] = self.into_raw();
    }
    fn load(values: &[ValRaw]) -> Self {
        A::from_raw(values[0])
    }
}

macro_rules! wasm_params_tuple {
    ($($a:ident $i:tt),*) => {
        impl<$($a: WasmTy),*> WasmParams for ($($a,)*) {
            fn types() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            #[allow(unused_variables, reason = "empty tuples ignore the slots")]
            fn store(self, values: &mut [ValRaw]) {
                $( values[$i] = self.$i.into_raw(); )*
            }
            #[allow(unused_variables, clippy::unused_unit, reason = "empty tuples ignore the slots")]
            fn load(values: &[ValRaw]) -> Self {
                ($( $a::from_raw(values[$i]), )*)
            }
        }
    };
}

super::for_each_arity!(wasm_params_tuple);

/// A function whose type is known statically.
#[derive(Debug)]
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: std::marker::PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Calls the function.
    ///
    /// # Errors
    ///
    /// A trap or a host function's error.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let mut cx = store.as_context_mut();
        let n = Params::types().len().max(Results::types().len());
        let mut values = vec![ValRaw::default(); n];
        params.store(&mut values);
        let func_ref = self.func.raw_func_ref(cx.opaque())?;
        // SAFETY: the function has type Params -> Results (checked when this
        // TypedFunc was made) and belongs to this store.
        unsafe { call_raw(&mut cx, func_ref, &mut values)? };
        Ok(Results::load(&values))
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}
