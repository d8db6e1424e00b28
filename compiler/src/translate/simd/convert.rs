//! Changes of lane shape: widening (extend, extended multiply, pairwise
//! add, dot product), saturating narrowing, and int/float conversions.
//!
//! Float-to-int conversions saturate and turn NaN into 0
//! (`fcvt_to_{s,u}int_sat`); the `f64x2` forms fill the two upper lanes
//! with zeros by narrowing against a zero vector.

use cranelift_codegen::ir::{InstBuilder, Type, Value, types};

use super::super::{FuncTranslator, TResult};

/// Which half of the input lanes a widening operator reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    Low,
    High,
}

impl FuncTranslator<'_, '_> {
    /// Widens one half of `v`'s lanes to twice their width.
    fn widen_lanes(&mut self, v: Value, half: Half, signed: bool) -> Value {
        let ins = self.builder.ins();
        match (half, signed) {
            (Half::Low, true) => ins.swiden_low(v),
            (Half::High, true) => ins.swiden_high(v),
            (Half::Low, false) => ins.uwiden_low(v),
            (Half::High, false) => ins.uwiden_high(v),
        }
    }

    fn extend(&mut self, from: Type, half: Half, signed: bool) -> TResult {
        let v = self.pop_vec(from);
        let r = self.widen_lanes(v, half, signed);
        self.push_vec(r);
        Ok(())
    }

    fn extmul(&mut self, from: Type, half: Half, signed: bool) -> TResult {
        let (a, b) = self.pop2_vec(from);
        let a = self.widen_lanes(a, half, signed);
        let b = self.widen_lanes(b, half, signed);
        let r = self.builder.ins().imul(a, b);
        self.push_vec(r);
        Ok(())
    }

    fn extadd_pairwise(&mut self, from: Type, signed: bool) -> TResult {
        let v = self.pop_vec(from);
        let lo = self.widen_lanes(v, Half::Low, signed);
        let hi = self.widen_lanes(v, Half::High, signed);
        let r = self.builder.ins().iadd_pairwise(lo, hi);
        self.push_vec(r);
        Ok(())
    }

    /// The signed dot product of `a` and `b`: lanes widened, multiplied,
    /// and adjacent products added (`i16x8` -> `i32x4`, `i8x16` -> `i16x8`).
    pub(crate) fn signed_dot(&mut self, a: Value, b: Value) -> Value {
        let alo = self.widen_lanes(a, Half::Low, true);
        let blo = self.widen_lanes(b, Half::Low, true);
        let lo = self.builder.ins().imul(alo, blo);
        let ahi = self.widen_lanes(a, Half::High, true);
        let bhi = self.widen_lanes(b, Half::High, true);
        let hi = self.builder.ins().imul(ahi, bhi);
        self.builder.ins().iadd_pairwise(lo, hi)
    }

    /// Adds adjacent `i16` lanes of `v` into `i32` lanes.
    pub(crate) fn pairwise_widen_add(&mut self, v: Value) -> Value {
        let lo = self.widen_lanes(v, Half::Low, true);
        let hi = self.widen_lanes(v, Half::High, true);
        self.builder.ins().iadd_pairwise(lo, hi)
    }

    fn narrow(&mut self, from: Type, signed: bool) -> TResult {
        let (a, b) = self.pop2_vec(from);
        let r = if signed {
            self.builder.ins().snarrow(a, b)
        } else {
            self.builder.ins().unarrow(a, b)
        };
        self.push_vec(r);
        Ok(())
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero` from an `i64x2` of saturated
    /// conversions: narrows against zero (`snarrow`/`uunarrow` saturate the
    /// `i64` lanes to the `i32` range).
    pub(crate) fn narrow_to_i32x4_zero(&mut self, converted: Value, signed: bool) -> Value {
        let zero = self.vzero(types::I64X2);
        if signed {
            self.builder.ins().snarrow(converted, zero)
        } else {
            self.builder.ins().uunarrow(converted, zero)
        }
    }

    pub(crate) fn visit_i16x8_extend_low_i8x16_s(&mut self) -> TResult {
        self.extend(types::I8X16, Half::Low, true)
    }
    pub(crate) fn visit_i16x8_extend_high_i8x16_s(&mut self) -> TResult {
        self.extend(types::I8X16, Half::High, true)
    }
    pub(crate) fn visit_i16x8_extend_low_i8x16_u(&mut self) -> TResult {
        self.extend(types::I8X16, Half::Low, false)
    }
    pub(crate) fn visit_i16x8_extend_high_i8x16_u(&mut self) -> TResult {
        self.extend(types::I8X16, Half::High, false)
    }
    pub(crate) fn visit_i32x4_extend_low_i16x8_s(&mut self) -> TResult {
        self.extend(types::I16X8, Half::Low, true)
    }
    pub(crate) fn visit_i32x4_extend_high_i16x8_s(&mut self) -> TResult {
        self.extend(types::I16X8, Half::High, true)
    }
    pub(crate) fn visit_i32x4_extend_low_i16x8_u(&mut self) -> TResult {
        self.extend(types::I16X8, Half::Low, false)
    }
    pub(crate) fn visit_i32x4_extend_high_i16x8_u(&mut self) -> TResult {
        self.extend(types::I16X8, Half::High, false)
    }
    pub(crate) fn visit_i64x2_extend_low_i32x4_s(&mut self) -> TResult {
        self.extend(types::I32X4, Half::Low, true)
    }
    pub(crate) fn visit_i64x2_extend_high_i32x4_s(&mut self) -> TResult {
        self.extend(types::I32X4, Half::High, true)
    }
    pub(crate) fn visit_i64x2_extend_low_i32x4_u(&mut self) -> TResult {
        self.extend(types::I32X4, Half::Low, false)
    }
    pub(crate) fn visit_i64x2_extend_high_i32x4_u(&mut self) -> TResult {
        self.extend(types::I32X4, Half::High, false)
    }

    pub(crate) fn visit_i16x8_extmul_low_i8x16_s(&mut self) -> TResult {
        self.extmul(types::I8X16, Half::Low, true)
    }
    pub(crate) fn visit_i16x8_extmul_high_i8x16_s(&mut self) -> TResult {
        self.extmul(types::I8X16, Half::High, true)
    }
    pub(crate) fn visit_i16x8_extmul_low_i8x16_u(&mut self) -> TResult {
        self.extmul(types::I8X16, Half::Low, false)
    }
    pub(crate) fn visit_i16x8_extmul_high_i8x16_u(&mut self) -> TResult {
        self.extmul(types::I8X16, Half::High, false)
    }
    pub(crate) fn visit_i32x4_extmul_low_i16x8_s(&mut self) -> TResult {
        self.extmul(types::I16X8, Half::Low, true)
    }
    pub(crate) fn visit_i32x4_extmul_high_i16x8_s(&mut self) -> TResult {
        self.extmul(types::I16X8, Half::High, true)
    }
    pub(crate) fn visit_i32x4_extmul_low_i16x8_u(&mut self) -> TResult {
        self.extmul(types::I16X8, Half::Low, false)
    }
    pub(crate) fn visit_i32x4_extmul_high_i16x8_u(&mut self) -> TResult {
        self.extmul(types::I16X8, Half::High, false)
    }
    pub(crate) fn visit_i64x2_extmul_low_i32x4_s(&mut self) -> TResult {
        self.extmul(types::I32X4, Half::Low, true)
    }
    pub(crate) fn visit_i64x2_extmul_high_i32x4_s(&mut self) -> TResult {
        self.extmul(types::I32X4, Half::High, true)
    }
    pub(crate) fn visit_i64x2_extmul_low_i32x4_u(&mut self) -> TResult {
        self.extmul(types::I32X4, Half::Low, false)
    }
    pub(crate) fn visit_i64x2_extmul_high_i32x4_u(&mut self) -> TResult {
        self.extmul(types::I32X4, Half::High, false)
    }

    pub(crate) fn visit_i16x8_extadd_pairwise_i8x16_s(&mut self) -> TResult {
        self.extadd_pairwise(types::I8X16, true)
    }
    pub(crate) fn visit_i16x8_extadd_pairwise_i8x16_u(&mut self) -> TResult {
        self.extadd_pairwise(types::I8X16, false)
    }
    pub(crate) fn visit_i32x4_extadd_pairwise_i16x8_s(&mut self) -> TResult {
        self.extadd_pairwise(types::I16X8, true)
    }
    pub(crate) fn visit_i32x4_extadd_pairwise_i16x8_u(&mut self) -> TResult {
        self.extadd_pairwise(types::I16X8, false)
    }

    pub(crate) fn visit_i32x4_dot_i16x8_s(&mut self) -> TResult {
        let (a, b) = self.pop2_vec(types::I16X8);
        let r = self.signed_dot(a, b);
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i8x16_narrow_i16x8_s(&mut self) -> TResult {
        self.narrow(types::I16X8, true)
    }
    pub(crate) fn visit_i8x16_narrow_i16x8_u(&mut self) -> TResult {
        self.narrow(types::I16X8, false)
    }
    pub(crate) fn visit_i16x8_narrow_i32x4_s(&mut self) -> TResult {
        self.narrow(types::I32X4, true)
    }
    pub(crate) fn visit_i16x8_narrow_i32x4_u(&mut self) -> TResult {
        self.narrow(types::I32X4, false)
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`.
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) -> TResult {
        let v = self.pop_vec(types::F64X2);
        let c = if signed {
            self.builder.ins().fcvt_to_sint_sat(types::I64X2, v)
        } else {
            self.builder.ins().fcvt_to_uint_sat(types::I64X2, v)
        };
        let r = self.narrow_to_i32x4_zero(c, signed);
        self.push_vec(r);
        Ok(())
    }

    /// `f64x2.convert_low_i32x4_{s,u}`: the low two lanes, widened, then
    /// converted (exactly: every `i32` is an `f64`).
    fn convert_low(&mut self, signed: bool) -> TResult {
        let v = self.pop_vec(types::I32X4);
        let w = self.widen_lanes(v, Half::Low, signed);
        let r = if signed {
            self.builder.ins().fcvt_from_sint(types::F64X2, w)
        } else {
            self.builder.ins().fcvt_from_uint(types::F64X2, w)
        };
        self.push_vec(r);
        Ok(())
    }

    pub(crate) fn visit_i32x4_trunc_sat_f64x2_s_zero(&mut self) -> TResult {
        self.trunc_sat_f64x2_zero(true)
    }
    pub(crate) fn visit_i32x4_trunc_sat_f64x2_u_zero(&mut self) -> TResult {
        self.trunc_sat_f64x2_zero(false)
    }
    pub(crate) fn visit_f64x2_convert_low_i32x4_s(&mut self) -> TResult {
        self.convert_low(true)
    }
    pub(crate) fn visit_f64x2_convert_low_i32x4_u(&mut self) -> TResult {
        self.convert_low(false)
    }
}

/// Defines conversions that keep the lane count: pop a vector of `$from`,
/// push `ins().$op($to, x)`.
macro_rules! vec_convert {
    ($($visit:ident => $op:ident($from:ident to $to:ident)),* $(,)?) => {
        impl FuncTranslator<'_, '_> {
            $(
                pub(crate) fn $visit(&mut self) -> TResult {
                    let x = self.pop_vec(types::$from);
                    let v = self.builder.ins().$op(types::$to, x);
                    self.push_vec(v);
                    Ok(())
                }
            )*
        }
    };
}

vec_convert! {
    visit_i32x4_trunc_sat_f32x4_s => fcvt_to_sint_sat(F32X4 to I32X4),
    visit_i32x4_trunc_sat_f32x4_u => fcvt_to_uint_sat(F32X4 to I32X4),
    visit_f32x4_convert_i32x4_s => fcvt_from_sint(I32X4 to F32X4),
    visit_f32x4_convert_i32x4_u => fcvt_from_uint(I32X4 to F32X4),
}

vec_unary! {
    visit_f32x4_demote_f64x2_zero => fvdemote(F64X2),
    visit_f64x2_promote_low_f32x4 => fvpromote_low(F32X4),
}
