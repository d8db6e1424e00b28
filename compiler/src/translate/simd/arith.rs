//! Lane-wise arithmetic, comparisons, shifts, bitwise operators and the
//! reductions (`any_true`, `all_true`, `bitmask`).
//!
//! Comparisons produce all-ones or all-zero lanes. Shift amounts are taken
//! modulo the lane width, as Cranelift's shifts do for vectors. Float
//! `min`/`max` propagate NaN and order -0 < +0 (Cranelift's `fmin`/`fmax`);
//! `pmin`/`pmax` are the spec's "pseudo" forms, `b < a ? b : a` and
//! `a < b ? b : a`, which is what x86's `minps`/`maxps` compute.

use cranelift_codegen::ir::{
    InstBuilder, Type,
    condcodes::{FloatCC, IntCC},
    types,
};

use super::super::{FuncTranslator, TResult};

/// Defines lane-wise comparison `visit_*` methods.
macro_rules! vec_compare {
    ($($visit:ident => $kind:ident $ty:ident $cc:ident),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let (a, b) = self.pop2_vec(types::$ty);
                    let v = vec_compare!(@emit self $kind $cc a b);
                    self.push_vec(v);
                    Ok(())
                }
            )*
        }
    };
    (@emit $self:ident int $cc:ident $a:ident $b:ident) => {
        $self.builder.ins().icmp(IntCC::$cc, $a, $b)
    };
    (@emit $self:ident float $cc:ident $a:ident $b:ident) => {
        $self.builder.ins().fcmp(FloatCC::$cc, $a, $b)
    };
}

vec_compare! {
    visit_i8x16_eq => int I8X16 Equal, visit_i8x16_ne => int I8X16 NotEqual,
    visit_i8x16_lt_s => int I8X16 SignedLessThan, visit_i8x16_lt_u => int I8X16 UnsignedLessThan,
    visit_i8x16_gt_s => int I8X16 SignedGreaterThan,
    visit_i8x16_gt_u => int I8X16 UnsignedGreaterThan,
    visit_i8x16_le_s => int I8X16 SignedLessThanOrEqual,
    visit_i8x16_le_u => int I8X16 UnsignedLessThanOrEqual,
    visit_i8x16_ge_s => int I8X16 SignedGreaterThanOrEqual,
    visit_i8x16_ge_u => int I8X16 UnsignedGreaterThanOrEqual,
    visit_i16x8_eq => int I16X8 Equal, visit_i16x8_ne => int I16X8 NotEqual,
    visit_i16x8_lt_s => int I16X8 SignedLessThan, visit_i16x8_lt_u => int I16X8 UnsignedLessThan,
    visit_i16x8_gt_s => int I16X8 SignedGreaterThan,
    visit_i16x8_gt_u => int I16X8 UnsignedGreaterThan,
    visit_i16x8_le_s => int I16X8 SignedLessThanOrEqual,
    visit_i16x8_le_u => int I16X8 UnsignedLessThanOrEqual,
    visit_i16x8_ge_s => int I16X8 SignedGreaterThanOrEqual,
    visit_i16x8_ge_u => int I16X8 UnsignedGreaterThanOrEqual,
    visit_i32x4_eq => int I32X4 Equal, visit_i32x4_ne => int I32X4 NotEqual,
    visit_i32x4_lt_s => int I32X4 SignedLessThan, visit_i32x4_lt_u => int I32X4 UnsignedLessThan,
    visit_i32x4_gt_s => int I32X4 SignedGreaterThan,
    visit_i32x4_gt_u => int I32X4 UnsignedGreaterThan,
    visit_i32x4_le_s => int I32X4 SignedLessThanOrEqual,
    visit_i32x4_le_u => int I32X4 UnsignedLessThanOrEqual,
    visit_i32x4_ge_s => int I32X4 SignedGreaterThanOrEqual,
    visit_i32x4_ge_u => int I32X4 UnsignedGreaterThanOrEqual,
    visit_i64x2_eq => int I64X2 Equal, visit_i64x2_ne => int I64X2 NotEqual,
    visit_i64x2_lt_s => int I64X2 SignedLessThan,
    visit_i64x2_gt_s => int I64X2 SignedGreaterThan,
    visit_i64x2_le_s => int I64X2 SignedLessThanOrEqual,
    visit_i64x2_ge_s => int I64X2 SignedGreaterThanOrEqual,
    visit_f32x4_eq => float F32X4 Equal, visit_f32x4_ne => float F32X4 NotEqual,
    visit_f32x4_lt => float F32X4 LessThan, visit_f32x4_gt => float F32X4 GreaterThan,
    visit_f32x4_le => float F32X4 LessThanOrEqual,
    visit_f32x4_ge => float F32X4 GreaterThanOrEqual,
    visit_f64x2_eq => float F64X2 Equal, visit_f64x2_ne => float F64X2 NotEqual,
    visit_f64x2_lt => float F64X2 LessThan, visit_f64x2_gt => float F64X2 GreaterThan,
    visit_f64x2_le => float F64X2 LessThanOrEqual,
    visit_f64x2_ge => float F64X2 GreaterThanOrEqual,
}

vec_unary! {
    visit_v128_not => bnot(I8X16),
    visit_i8x16_abs => iabs(I8X16), visit_i8x16_neg => ineg(I8X16),
    visit_i8x16_popcnt => popcnt(I8X16),
    visit_i16x8_abs => iabs(I16X8), visit_i16x8_neg => ineg(I16X8),
    visit_i32x4_abs => iabs(I32X4), visit_i32x4_neg => ineg(I32X4),
    visit_i64x2_abs => iabs(I64X2), visit_i64x2_neg => ineg(I64X2),
    visit_f32x4_ceil => ceil(F32X4), visit_f32x4_floor => floor(F32X4),
    visit_f32x4_trunc => trunc(F32X4), visit_f32x4_nearest => nearest(F32X4),
    visit_f32x4_abs => fabs(F32X4), visit_f32x4_neg => fneg(F32X4),
    visit_f32x4_sqrt => sqrt(F32X4),
    visit_f64x2_ceil => ceil(F64X2), visit_f64x2_floor => floor(F64X2),
    visit_f64x2_trunc => trunc(F64X2), visit_f64x2_nearest => nearest(F64X2),
    visit_f64x2_abs => fabs(F64X2), visit_f64x2_neg => fneg(F64X2),
    visit_f64x2_sqrt => sqrt(F64X2),
}

vec_binary! {
    visit_v128_and => band(I8X16), visit_v128_andnot => band_not(I8X16),
    visit_v128_or => bor(I8X16), visit_v128_xor => bxor(I8X16),
    visit_i8x16_add => iadd(I8X16), visit_i8x16_sub => isub(I8X16),
    visit_i8x16_add_sat_s => sadd_sat(I8X16), visit_i8x16_add_sat_u => uadd_sat(I8X16),
    visit_i8x16_sub_sat_s => ssub_sat(I8X16), visit_i8x16_sub_sat_u => usub_sat(I8X16),
    visit_i8x16_min_s => smin(I8X16), visit_i8x16_min_u => umin(I8X16),
    visit_i8x16_max_s => smax(I8X16), visit_i8x16_max_u => umax(I8X16),
    visit_i8x16_avgr_u => avg_round(I8X16),
    visit_i16x8_add => iadd(I16X8), visit_i16x8_sub => isub(I16X8),
    visit_i16x8_mul => imul(I16X8),
    visit_i16x8_add_sat_s => sadd_sat(I16X8), visit_i16x8_add_sat_u => uadd_sat(I16X8),
    visit_i16x8_sub_sat_s => ssub_sat(I16X8), visit_i16x8_sub_sat_u => usub_sat(I16X8),
    visit_i16x8_min_s => smin(I16X8), visit_i16x8_min_u => umin(I16X8),
    visit_i16x8_max_s => smax(I16X8), visit_i16x8_max_u => umax(I16X8),
    visit_i16x8_avgr_u => avg_round(I16X8),
    visit_i16x8_q15mulr_sat_s => sqmul_round_sat(I16X8),
    visit_i32x4_add => iadd(I32X4), visit_i32x4_sub => isub(I32X4),
    visit_i32x4_mul => imul(I32X4),
    visit_i32x4_min_s => smin(I32X4), visit_i32x4_min_u => umin(I32X4),
    visit_i32x4_max_s => smax(I32X4), visit_i32x4_max_u => umax(I32X4),
    visit_i64x2_add => iadd(I64X2), visit_i64x2_sub => isub(I64X2),
    visit_i64x2_mul => imul(I64X2),
    visit_f32x4_add => fadd(F32X4), visit_f32x4_sub => fsub(F32X4),
    visit_f32x4_mul => fmul(F32X4), visit_f32x4_div => fdiv(F32X4),
    visit_f32x4_min => fmin(F32X4), visit_f32x4_max => fmax(F32X4),
    visit_f64x2_add => fadd(F64X2), visit_f64x2_sub => fsub(F64X2),
    visit_f64x2_mul => fmul(F64X2), visit_f64x2_div => fdiv(F64X2),
    visit_f64x2_min => fmin(F64X2), visit_f64x2_max => fmax(F64X2),
}

/// Defines shift `visit_*` methods: a vector of `$ty` shifted by an `i32`.
macro_rules! vec_shift {
    ($($visit:ident => $op:ident($ty:ident)),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let amount = self.pop();
                    let v = self.pop_vec(types::$ty);
                    let r = self.builder.ins().$op(v, amount);
                    self.push_vec(r);
                    Ok(())
                }
            )*
        }
    };
}

vec_shift! {
    visit_i8x16_shl => ishl(I8X16), visit_i8x16_shr_s => sshr(I8X16),
    visit_i8x16_shr_u => ushr(I8X16),
    visit_i16x8_shl => ishl(I16X8), visit_i16x8_shr_s => sshr(I16X8),
    visit_i16x8_shr_u => ushr(I16X8),
    visit_i32x4_shl => ishl(I32X4), visit_i32x4_shr_s => sshr(I32X4),
    visit_i32x4_shr_u => ushr(I32X4),
    visit_i64x2_shl => ishl(I64X2), visit_i64x2_shr_s => sshr(I64X2),
    visit_i64x2_shr_u => ushr(I64X2),
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_v128_bitselect(&mut self) -> TResult {
        // wasm: (v1, v2, c) -> v1 where c is 1, v2 where it is 0.
        let (v1, v2, c) = self.pop3_vec(types::I8X16);
        let r = self.builder.ins().bitselect(c, v1, v2);
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_v128_any_true(&mut self) -> TResult {
        let v = self.pop_vec(types::I8X16);
        let b = self.builder.ins().vany_true(v);
        let r = self.builder.ins().uextend(types::I32, b);
        self.push(r);
        Ok(())
    }

    fn all_true(&mut self, ty: Type) -> TResult {
        let v = self.pop_vec(ty);
        let b = self.builder.ins().vall_true(v);
        let r = self.builder.ins().uextend(types::I32, b);
        self.push(r);
        Ok(())
    }

    fn bitmask(&mut self, ty: Type) -> TResult {
        let v = self.pop_vec(ty);
        let r = self.builder.ins().vhigh_bits(types::I32, v);
        self.push(r);
        Ok(())
    }

    pub(crate) fn visit_i8x16_all_true(&mut self) -> TResult {
        self.all_true(types::I8X16)
    }
    pub(crate) fn visit_i16x8_all_true(&mut self) -> TResult {
        self.all_true(types::I16X8)
    }
    pub(crate) fn visit_i32x4_all_true(&mut self) -> TResult {
        self.all_true(types::I32X4)
    }
    pub(crate) fn visit_i64x2_all_true(&mut self) -> TResult {
        self.all_true(types::I64X2)
    }
    pub(crate) fn visit_i8x16_bitmask(&mut self) -> TResult {
        self.bitmask(types::I8X16)
    }
    pub(crate) fn visit_i16x8_bitmask(&mut self) -> TResult {
        self.bitmask(types::I16X8)
    }
    pub(crate) fn visit_i32x4_bitmask(&mut self) -> TResult {
        self.bitmask(types::I32X4)
    }
    pub(crate) fn visit_i64x2_bitmask(&mut self) -> TResult {
        self.bitmask(types::I64X2)
    }

    /// `pmin` (`min` false) or `pmax` (`max`) of shape `ty`:
    /// `b < a ? b : a` and `a < b ? b : a`.
    pub(crate) fn pseudo_min_max(&mut self, ty: Type, max: bool) -> TResult {
        let (a, b) = self.pop2_vec(ty);
        let r = self.pseudo_min_max_of(ty, a, b, max);
        self.push_vec(r);
        Ok(())
    }

    /// The value of `pmin`/`pmax` (see [`Self::pseudo_min_max`]), written
    /// in the shape the backends turn into one `minps`/`maxps`-like
    /// instruction.
    pub(crate) fn pseudo_min_max_of(
        &mut self,
        ty: Type,
        a: cranelift_codegen::ir::Value,
        b: cranelift_codegen::ir::Value,
        max: bool,
    ) -> cranelift_codegen::ir::Value {
        let cmp = if max {
            self.builder.ins().fcmp(FloatCC::LessThan, a, b)
        } else {
            self.builder.ins().fcmp(FloatCC::LessThan, b, a)
        };
        let cmp = self.as_vec(cmp, ty);
        self.builder.ins().bitselect(cmp, b, a)
    }

    pub(crate) fn visit_f32x4_pmin(&mut self) -> TResult {
        self.pseudo_min_max(types::F32X4, false)
    }
    pub(crate) fn visit_f32x4_pmax(&mut self) -> TResult {
        self.pseudo_min_max(types::F32X4, true)
    }
    pub(crate) fn visit_f64x2_pmin(&mut self) -> TResult {
        self.pseudo_min_max(types::F64X2, false)
    }
    pub(crate) fn visit_f64x2_pmax(&mut self) -> TResult {
        self.pseudo_min_max(types::F64X2, true)
    }
}
