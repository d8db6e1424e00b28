//! SIMD128 and relaxed SIMD.
//!
//! Wasm has one `v128` type; Cranelift has one vector type per lane shape
//! (`i8x16`, `i16x8`, `i32x4`, `i64x2`, `f32x4`, `f64x2`). cljit keeps every
//! `v128` in the canonical shape `i8x16` wherever it can flow between
//! operators: the operand stack, locals, block parameters, globals,
//! signatures and the host's value slots (see `ir_type`). Each operator
//! bitcasts its operands to the shape it works on and its result back to
//! `i8x16`. The bitcasts cost nothing (the value stays in its register), and
//! with one canonical type no other part of the translator needs to know
//! about lane shapes.
//!
//! The operators map onto Cranelift instructions that already have the
//! spec's semantics (wasmtime relies on the same instructions): saturating
//! narrowing (`snarrow`/`unarrow`), saturating float-to-int conversion that
//! turns NaN into 0, NaN-propagating `fmin`/`fmax`, `swizzle` that zeroes
//! out-of-range indices, round-to-nearest-even `nearest`. A few compound
//! operators (dot products, extended multiplies, pairwise additions,
//! `pmin`/`pmax`) are written as the instruction sequences the x86-64 and
//! aarch64 backends recognise and lower to one machine instruction.
//! <https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions>
//!
//! Files: `lanes.rs` (constants, shuffles, splats, lane access),
//! `memory.rs` (loads and stores), `arith.rs` (lane-wise arithmetic,
//! comparisons, bitwise operators, reductions), `convert.rs` (widening,
//! narrowing, conversions, dot products), `relaxed.rs` (relaxed SIMD).

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, Opcode, Type, Value, ValueDef, types,
};

use super::FuncTranslator;

/// Defines `visit_*` methods that pop one vector of shape `$ty` and push
/// `ins().$op(x)`.
macro_rules! vec_unary {
    ($($visit:ident => $op:ident($ty:ident)),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> super::super::TResult {
                    let x = self.pop_vec(types::$ty);
                    let v = self.builder.ins().$op(x);
                    self.push_vec(v);
                    Ok(())
                }
            )*
        }
    };
}

/// Defines `visit_*` methods that pop two vectors of shape `$ty` and push
/// `ins().$op(a, b)`.
macro_rules! vec_binary {
    ($($visit:ident => $op:ident($ty:ident)),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> super::super::TResult {
                    let (a, b) = self.pop2_vec(types::$ty);
                    let v = self.builder.ins().$op(a, b);
                    self.push_vec(v);
                    Ok(())
                }
            )*
        }
    };
}

mod arith;
mod convert;
mod lanes;
mod memory;
mod relaxed;

impl FuncTranslator<'_, '_> {
    /// Reinterprets vector `v` as shape `ty` (no code when it already is,
    /// and no chain of bitcasts when `v` is itself a bitcast of a `ty`).
    pub(crate) fn as_vec(&mut self, v: Value, ty: Type) -> Value {
        let dfg = &self.builder.func.dfg;
        if dfg.value_type(v) == ty {
            return v;
        }
        if let ValueDef::Result(inst, _) = dfg.value_def(v)
            && dfg.insts[inst].opcode() == Opcode::Bitcast
        {
            let source = dfg.inst_args(inst)[0];
            if dfg.value_type(source) == ty {
                return source;
            }
        }
        // Lane-shape changes need an explicit byte order; wasm's is
        // little-endian.
        let flags = MemFlagsData::new().with_endianness(ir::Endianness::Little);
        self.builder.ins().bitcast(ty, flags, v)
    }

    /// Pops a `v128` as a vector of shape `ty`.
    pub(crate) fn pop_vec(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_vec(v, ty)
    }

    /// Pops two `v128`s as vectors of shape `ty`, in push order.
    pub(crate) fn pop2_vec(&mut self, ty: Type) -> (Value, Value) {
        let b = self.pop_vec(ty);
        let a = self.pop_vec(ty);
        (a, b)
    }

    /// Pops three `v128`s as vectors of shape `ty`, in push order.
    pub(crate) fn pop3_vec(&mut self, ty: Type) -> (Value, Value, Value) {
        let c = self.pop_vec(ty);
        let (a, b) = self.pop2_vec(ty);
        (a, b, c)
    }

    /// Pushes a vector result in the canonical `v128` shape.
    pub(crate) fn push_vec(&mut self, v: Value) {
        let v = self.as_vec(v, types::I8X16);
        self.push(v);
    }

    /// A vector constant of shape `ty` from its little-endian bytes.
    pub(crate) fn vconst(&mut self, ty: Type, bytes: [u8; 16]) -> Value {
        let handle = self
            .builder
            .func
            .dfg
            .constants
            .insert(bytes.to_vec().into());
        self.builder.ins().vconst(ty, handle)
    }

    /// The all-zero vector of shape `ty`.
    pub(crate) fn vzero(&mut self, ty: Type) -> Value {
        self.vconst(ty, [0; 16])
    }
}
