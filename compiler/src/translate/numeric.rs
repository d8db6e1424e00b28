//! Numeric instructions: constants, integer and float arithmetic,
//! comparisons, bit counting, rotations and shifts.
//!
//! Cranelift's instructions already have wasm's semantics where it matters:
//! `sdiv`/`udiv`/`srem`/`urem` trap on a zero divisor and `sdiv` on
//! `INT_MIN / -1` (with `srem` yielding 0 there), shift amounts are taken
//! modulo the bit width, and `fmin`/`fmax` propagate NaN and order -0 < +0 as
//! wasm requires (the obvious `f32::min` does neither).
//! <https://webassembly.github.io/spec/core/exec/numerics.html>

use cranelift_codegen::ir::{
    InstBuilder, Value,
    condcodes::{FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types,
};
use wasmparser::{Ieee32 as WasmIeee32, Ieee64 as WasmIeee64};

use super::{FuncTranslator, TResult};

impl FuncTranslator<'_, '_> {
    /// Turns a Cranelift boolean (`i8`) into a wasm `i32`.
    fn bool_to_i32(&mut self, b: Value) -> Value {
        self.builder.ins().uextend(types::I32, b)
    }

    fn icmp_op(&mut self, cc: IntCC) -> TResult {
        let (a, b) = self.pop2();
        let c = self.builder.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    fn fcmp_op(&mut self, cc: FloatCC) -> TResult {
        let (a, b) = self.pop2();
        let c = self.builder.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    fn eqz(&mut self) -> TResult {
        let a = self.pop();
        let c = self.builder.ins().icmp_imm_u(IntCC::Equal, a, 0);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_i32_const(&mut self, value: i32) -> TResult {
        let v = self.builder.ins().iconst(types::I32, i64::from(value));
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_i64_const(&mut self, value: i64) -> TResult {
        let v = self.builder.ins().iconst(types::I64, value);
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_f32_const(&mut self, value: WasmIeee32) -> TResult {
        let v = self.builder.ins().f32const(Ieee32::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_f64_const(&mut self, value: WasmIeee64) -> TResult {
        let v = self.builder.ins().f64const(Ieee64::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }

    pub(crate) fn visit_i32_eqz(&mut self) -> TResult {
        self.eqz()
    }

    pub(crate) fn visit_i64_eqz(&mut self) -> TResult {
        self.eqz()
    }
}

/// The wide-arithmetic proposal: 128-bit sums and differences of `i64`
/// pairs (low half first), and the full 128-bit products of two `i64`s,
/// as Cranelift's `i128` arithmetic computes them (add with carry, and one
/// widening multiply on x86-64).
impl FuncTranslator<'_, '_> {
    /// Pops `a_lo a_hi b_lo b_hi`, pushes the low and high halves of
    /// `op(a, b)` on 128 bits.
    fn wide_binary(&mut self, op: fn(&mut Self, Value, Value) -> Value) -> TResult {
        let (b_lo, b_hi) = self.pop2();
        let (a_lo, a_hi) = self.pop2();
        let a = self.builder.ins().iconcat(a_lo, a_hi);
        let b = self.builder.ins().iconcat(b_lo, b_hi);
        let r = op(self, a, b);
        self.push_halves(r);
        Ok(())
    }

    /// Pops two `i64`s, pushes the low and high halves of their product,
    /// both extended to 128 bits as `signed` says.
    fn mul_wide(&mut self, signed: bool) -> TResult {
        let (a, b) = self.pop2();
        let (a, b) = if signed {
            (
                self.builder.ins().sextend(types::I128, a),
                self.builder.ins().sextend(types::I128, b),
            )
        } else {
            (
                self.builder.ins().uextend(types::I128, a),
                self.builder.ins().uextend(types::I128, b),
            )
        };
        let r = self.builder.ins().imul(a, b);
        self.push_halves(r);
        Ok(())
    }

    fn push_halves(&mut self, wide: Value) {
        let (lo, hi) = self.builder.ins().isplit(wide);
        self.push(lo);
        self.push(hi);
    }

    pub(crate) fn visit_i64_add128(&mut self) -> TResult {
        self.wide_binary(|tr, a, b| tr.builder.ins().iadd(a, b))
    }

    pub(crate) fn visit_i64_sub128(&mut self) -> TResult {
        self.wide_binary(|tr, a, b| tr.builder.ins().isub(a, b))
    }

    pub(crate) fn visit_i64_mul_wide_s(&mut self) -> TResult {
        self.mul_wide(true)
    }

    pub(crate) fn visit_i64_mul_wide_u(&mut self) -> TResult {
        self.mul_wide(false)
    }
}

/// Defines `visit_*` methods that pop one value and push `ins().$op(x)`.
macro_rules! unary {
    ($($visit:ident => $op:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let x = self.pop();
                    let v = self.builder.ins().$op(x);
                    self.push(v);
                    Ok(())
                }
            )*
        }
    };
}

/// Defines `visit_*` methods that pop two values and push `ins().$op(a, b)`.
macro_rules! binary {
    ($($visit:ident => $op:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let (a, b) = self.pop2();
                    let v = self.builder.ins().$op(a, b);
                    self.push(v);
                    Ok(())
                }
            )*
        }
    };
}

/// Defines comparison `visit_*` methods.
macro_rules! compare {
    ($($visit:ident => $kind:ident $cc:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    compare!(@emit self $kind $cc)
                }
            )*
        }
    };
    (@emit $self:ident int $cc:ident) => { $self.icmp_op(IntCC::$cc) };
    (@emit $self:ident float $cc:ident) => { $self.fcmp_op(FloatCC::$cc) };
}

compare! {
    visit_i32_eq => int Equal, visit_i32_ne => int NotEqual,
    visit_i32_lt_s => int SignedLessThan, visit_i32_lt_u => int UnsignedLessThan,
    visit_i32_gt_s => int SignedGreaterThan, visit_i32_gt_u => int UnsignedGreaterThan,
    visit_i32_le_s => int SignedLessThanOrEqual, visit_i32_le_u => int UnsignedLessThanOrEqual,
    visit_i32_ge_s => int SignedGreaterThanOrEqual, visit_i32_ge_u => int UnsignedGreaterThanOrEqual,
    visit_i64_eq => int Equal, visit_i64_ne => int NotEqual,
    visit_i64_lt_s => int SignedLessThan, visit_i64_lt_u => int UnsignedLessThan,
    visit_i64_gt_s => int SignedGreaterThan, visit_i64_gt_u => int UnsignedGreaterThan,
    visit_i64_le_s => int SignedLessThanOrEqual, visit_i64_le_u => int UnsignedLessThanOrEqual,
    visit_i64_ge_s => int SignedGreaterThanOrEqual, visit_i64_ge_u => int UnsignedGreaterThanOrEqual,
    visit_f32_eq => float Equal, visit_f32_ne => float NotEqual,
    visit_f32_lt => float LessThan, visit_f32_gt => float GreaterThan,
    visit_f32_le => float LessThanOrEqual, visit_f32_ge => float GreaterThanOrEqual,
    visit_f64_eq => float Equal, visit_f64_ne => float NotEqual,
    visit_f64_lt => float LessThan, visit_f64_gt => float GreaterThan,
    visit_f64_le => float LessThanOrEqual, visit_f64_ge => float GreaterThanOrEqual,
}

unary! {
    visit_i32_clz => clz, visit_i32_ctz => ctz, visit_i32_popcnt => popcnt,
    visit_i64_clz => clz, visit_i64_ctz => ctz, visit_i64_popcnt => popcnt,
    visit_f32_abs => fabs, visit_f32_neg => fneg, visit_f32_ceil => ceil,
    visit_f32_floor => floor, visit_f32_trunc => trunc, visit_f32_nearest => nearest,
    visit_f32_sqrt => sqrt,
    visit_f64_abs => fabs, visit_f64_neg => fneg, visit_f64_ceil => ceil,
    visit_f64_floor => floor, visit_f64_trunc => trunc, visit_f64_nearest => nearest,
    visit_f64_sqrt => sqrt,
}

binary! {
    visit_i32_add => iadd, visit_i32_sub => isub, visit_i32_mul => imul,
    visit_i32_div_s => sdiv, visit_i32_div_u => udiv,
    visit_i32_rem_s => srem, visit_i32_rem_u => urem,
    visit_i32_and => band, visit_i32_or => bor, visit_i32_xor => bxor,
    visit_i32_shl => ishl, visit_i32_shr_s => sshr, visit_i32_shr_u => ushr,
    visit_i32_rotl => rotl, visit_i32_rotr => rotr,
    visit_i64_add => iadd, visit_i64_sub => isub, visit_i64_mul => imul,
    visit_i64_div_s => sdiv, visit_i64_div_u => udiv,
    visit_i64_rem_s => srem, visit_i64_rem_u => urem,
    visit_i64_and => band, visit_i64_or => bor, visit_i64_xor => bxor,
    visit_i64_shl => ishl, visit_i64_shr_s => sshr, visit_i64_shr_u => ushr,
    visit_i64_rotl => rotl, visit_i64_rotr => rotr,
    visit_f32_add => fadd, visit_f32_sub => fsub, visit_f32_mul => fmul,
    visit_f32_div => fdiv, visit_f32_min => fmin, visit_f32_max => fmax,
    visit_f32_copysign => fcopysign,
    visit_f64_add => fadd, visit_f64_sub => fsub, visit_f64_mul => fmul,
    visit_f64_div => fdiv, visit_f64_min => fmin, visit_f64_max => fmax,
    visit_f64_copysign => fcopysign,
}
